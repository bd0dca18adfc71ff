#!/usr/bin/env bash
# CPU smoke test of the reference trainer: two optimizer steps of TRL's DPOTrainer with a PEFT
# LoRA adapter on a tiny randomly initialized model (built here from a config: no model hub), then
# a second epoch that starts from that adapter as pi_ref, then the format warm start (SFT through
# the same command). Checks that the adapter files vLLM reads
# are written, the weights changed and the loss is finite. No npm involved.
#
#   bash training/python/smoke_test.sh
#
# The venv lives in .cache/venv-train (TRAIN_VENV to change) and is reused while requirements.txt
# is unchanged; the first run installs torch (a CPU wheel on the suite's machines) and TRL.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${TRAIN_VENV:-$ROOT/.cache/venv-train}"
PY="$VENV/bin/python"
START=$(date +%s)

if [ ! -x "$PY" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements"; then
  # Every line is pinned, so installing into an existing venv brings it to exactly the file's
  # versions; only a missing venv is created from scratch (torch alone takes minutes).
  if [ -x "$PY" ]; then echo "[smoke] updating $VENV to training/python/requirements.txt"; else
    echo "[smoke] creating $VENV from training/python/requirements.txt"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
  fi
  "$PY" -m pip install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/.requirements"
  echo "[smoke] venv ready in $(( $(date +%s) - START ))s"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/llm-auction-dpo-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export HF_HOME="$WORK/hf-home" PYTHONWARNINGS="ignore::FutureWarning"
COMMON=(--cpu --batch-size 2 --learning-rate 1e-3 --warmup-ratio 0 --max-length 512 --lora-r 4 --lora-alpha 8 --lora-dropout 0)

"$PY" "$HERE/make_tiny_model.py" --out "$WORK/tiny" --pairs-out "$WORK/pairs.jsonl"

echo "[smoke] epoch 1: 2 DPO steps from the base model"
"$PY" "$HERE/train_dpo.py" --model "$WORK/tiny" --pairs "$WORK/pairs.jsonl" --output-dir "$WORK/epoch-1" --max-steps 2 "${COMMON[@]}"
"$PY" "$HERE/check_adapter.py" "$WORK/epoch-1" --steps 2

echo "[smoke] across processes: the same 2 DPO steps under accelerate launch --num_processes 2 (CPU, gloo), beside one process"
# Both runs take 2 pairs per optimizer step (--global-batch-size 2: one pair per process under the
# launcher), so their losses and adapters should agree up to float summation order (gloo's
# all-reduce averages the two halves' gradients). Tolerance: 1e-4 absolute on each logged loss
# and on each adapter weight; the run fails beyond it.
DIST=(--model "$WORK/tiny" --pairs "$WORK/pairs.jsonl" --max-steps 2 --global-batch-size 2 "${COMMON[@]}")
"$PY" "$HERE/train_dpo.py" --output-dir "$WORK/one-process" "${DIST[@]}"
"$PY" -m accelerate.commands.launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no --dynamo_backend no \
  --main_process_port "${SMOKE_PORT:-29517}" "$HERE/train_dpo.py" --output-dir "$WORK/two-processes" "${DIST[@]}"
"$PY" "$HERE/check_adapter.py" "$WORK/two-processes" --steps 2
"$PY" "$HERE/compare_runs.py" "$WORK/one-process" "$WORK/two-processes" --tolerance 1e-4

echo "[smoke] epoch 2: through the external-trainer environment, starting from epoch 1's adapter (pi_ref)"
LLM_AUCTION_PAIRS="$WORK/pairs.jsonl" LLM_AUCTION_OUTPUT_DIR="$WORK/epoch-2" LLM_AUCTION_BASE_MODEL="$WORK/tiny" \
LLM_AUCTION_REF_ADAPTER="$WORK/epoch-1" LLM_AUCTION_BETA=0.1 \
  "$PY" "$HERE/train_dpo.py" --max-steps 2 "${COMMON[@]}"
"$PY" "$HERE/check_adapter.py" "$WORK/epoch-2" --steps 2
# Control: the comparison can fail. Epoch 2 took its 2 steps from epoch 1's adapter, so beside the
# two-process run (from the base model) its second loss differs by more than the tolerance.
if "$PY" "$HERE/compare_runs.py" "$WORK/epoch-2" "$WORK/two-processes" --tolerance 1e-4 > "$WORK/control.log"; then
  echo "[smoke] FAILED: compare_runs.py accepted two different runs"; cat "$WORK/control.log"; exit 1
fi
echo "[smoke] control: compare_runs.py refuses two different runs ($(grep -o 'largest loss difference [^,]*' "$WORK/control.log"))"

echo "[smoke] format warm start: 2 SFT steps through the same command (objective sft), prompt + completion lines"
"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l); print(json.dumps({"prompt": o["prompt"], "completion": o["chosen"]}))' "$WORK/pairs.jsonl" > "$WORK/sft.jsonl"
LLM_AUCTION_OBJECTIVE=sft LLM_AUCTION_PAIRS="$WORK/sft.jsonl" LLM_AUCTION_OUTPUT_DIR="$WORK/epoch-0" LLM_AUCTION_BASE_MODEL="$WORK/tiny" \
  "$PY" "$HERE/train_dpo.py" --max-steps 2 "${COMMON[@]}"
"$PY" "$HERE/check_adapter.py" "$WORK/epoch-0" --steps 2

echo "[smoke] ok in $(( $(date +%s) - START ))s"
