#!/usr/bin/env bash
# A venv with `transformers serve` (transformers' OpenAI-compatible server, what a GPU box without
# vLLM has) for benchmarks/probe-transformers-serve.ts. It reuses the training venv's packages
# (torch, transformers: see training/python/requirements.txt) through a .pth file and adds only
# transformers' serving extra, at the training venv's transformers version, from PyPI.
#
#   bash training/python/smoke_test.sh      # the training venv first
#   bash scripts/make-serve-venv.sh         # then this (SERVE_VENV to change where it goes)
set -euo pipefail
cd "$(dirname "$0")/.."
TRAIN="${TRAIN_VENV:-.cache/venv-train}"
VENV="${SERVE_VENV:-.cache/venv-serve}"
if [ ! -x "$TRAIN/bin/python" ]; then
  echo "[serve-venv] no training venv at $TRAIN: run bash training/python/smoke_test.sh first" >&2
  exit 2
fi
VERSION="$("$TRAIN/bin/python" -c 'import importlib.metadata as m; print(m.version("transformers"))')"
SITE="$(cd "$("$TRAIN/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" && pwd)"
if [ -x "$VENV/bin/transformers" ] && [ "$(cat "$VENV/.transformers" 2>/dev/null)" = "$VERSION" ]; then
  echo "[serve-venv] $VENV is ready (transformers $VERSION)"
  exit 0
fi
"$TRAIN/bin/python" -m venv "$VENV"
PYV="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$SITE" > "$PYV/llm-auction-train-venv.pth"
"$VENV/bin/python" -m pip install -q "transformers[serving]==$VERSION"
# transformers itself lives in the training venv, so pip wrote no `transformers` command here.
cat > "$VENV/bin/transformers" <<SH
#!/usr/bin/env bash
exec "$(cd "$VENV" && pwd)/bin/python" -c 'import sys; from transformers.cli.transformers import main; sys.argv[0] = "transformers"; sys.exit(main())' "\$@"
SH
chmod +x "$VENV/bin/transformers"
echo "$VERSION" > "$VENV/.transformers"
echo "[serve-venv] $VENV ready: transformers $VERSION with its serving extra"
