#!/usr/bin/env bash
# The external trainer's transformers copy of SmolLM2-135M-Instruct, made from the fetched GGUF
# (see scripts/make_trainer_model.py). Uses the training venv that training/python/smoke_test.sh
# builds (TRAIN_VENV to point elsewhere). Usage: bash scripts/make-trainer-model.sh [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${TRAIN_VENV:-.cache/venv-train}/bin/python"
if [ ! -x "$PY" ]; then
  echo "[trainer-model] no training venv at ${TRAIN_VENV:-.cache/venv-train}: run bash training/python/smoke_test.sh first" >&2
  exit 2
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "$PY" scripts/make_trainer_model.py "$@"
