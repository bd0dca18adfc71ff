#!/usr/bin/env python3
"""Reference external trainer: DPO with a LoRA adapter (TRL DPOTrainer + PEFT) on our preference pairs.

Reads a JSON Lines file of {"prompt", "chosen", "rejected"} (what `llm-auction train --trainer
external` writes for each epoch; extra fields are ignored) and writes a LoRA adapter that vLLM can
load (adapter_config.json + adapter_model.safetensors), plus metrics.json with the DPO loss before
and after training.

Every option falls back to the environment of the external-trainer contract (training/external.ts),
so the suite can run it as `--trainer-command 'accelerate launch training/python/train_dpo.py'`:

  LLM_AUCTION_PAIRS        --pairs
  LLM_AUCTION_OUTPUT_DIR   --output-dir
  LLM_AUCTION_BASE_MODEL   --model
  LLM_AUCTION_REF_ADAPTER  --ref-adapter   (previous epoch's adapter: training starts from it, and a
                                            frozen copy of it is the DPO reference pi_ref)
  LLM_AUCTION_BETA         --beta
  LLM_AUCTION_MANIFEST     trainer.json; its learning_rate is the default --learning-rate
  LLM_AUCTION_OBJECTIVE    --objective   (dpo, or sft for the format warm start: train_sft.py)

Prompts are chat-formatted when the tokenizer has a chat template (the Ad-LLM prompt becomes one
user turn, the responses assistant turns), which is how the served model sees them; `--format plain`
trains on raw text instead.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainer_common import end_processes, is_main_process, load_base, loss_logger, new_lora, parse_args, train_and_save, training_args  # noqa: E402


def load_pairs(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{i}: not JSON ({e.msg})")
            for k in ("prompt", "chosen", "rejected"):
                if k not in o:
                    raise SystemExit(f'{path}:{i}: field "{k}" is missing')
            rows.append({"prompt": o["prompt"], "chosen": o["chosen"], "rejected": o["rejected"]})
    if not rows:
        raise SystemExit(f"{path}: no preference pairs")
    return rows


def to_conversational(rows: list[dict]) -> list[dict]:
    """Plain strings to chat turns, so TRL applies the model's chat template as vLLM would."""

    def turns(x, role):
        return x if isinstance(x, list) else [{"role": role, "content": x}]

    return [{"prompt": turns(r["prompt"], "user"), "chosen": turns(r["chosen"], "assistant"), "rejected": turns(r["rejected"], "assistant")} for r in rows]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.objective == "sft":
        # The format warm start (epoch 0) goes through the same command and environment contract.
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from train_sft import run_sft

        return run_sft(args)
    started = time.time()
    # Heavy imports after argument checking, so --help and usage errors are instant.
    from datasets import Dataset
    from peft import PeftModel
    from trl import DPOConfig, DPOTrainer

    out, tokenizer, model = load_base(args)

    peft_config = None
    if args.ref_adapter:
        # Continue from the previous epoch's adapter; TRL then keeps a frozen copy of it as the
        # reference, so pi_ref is pi_{t-1} as Eq. 6 of the paper asks, not the base model.
        model = PeftModel.from_pretrained(model, args.ref_adapter, is_trainable=True)
    else:
        peft_config = new_lora(args)

    rows = load_pairs(args.pairs)
    use_chat = args.format == "chat" or (args.format == "auto" and getattr(tokenizer, "chat_template", None))
    dataset = Dataset.from_list(to_conversational(rows) if use_chat else rows)
    if is_main_process():
        print(f"[train_dpo] {len(rows)} pairs from {args.pairs}; {'chat template' if use_chat else 'plain text'}; model {args.model}; {args.processes} process(es), {args.batch_size} pairs each per step", flush=True)

    config = DPOConfig(beta=args.beta, **training_args(args, out))

    losses: list[float] = []
    trainer = DPOTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config, callbacks=[loss_logger(losses)])
    result, delta, before = train_and_save(trainer, tokenizer, out)

    metrics = {
        "loss_before": losses[0] if losses else None,
        "loss_after": losses[-1] if losses else None,
        "losses": losses,
        "loss_finite": bool(losses) and all(math.isfinite(x) for x in losses),
        "train_loss": float(result.training_loss),
        "steps": int(trainer.state.global_step),
        "pairs": len(rows),
        "adapter_max_abs_change": delta,
        "trainable_parameters": int(sum(p.numel() for p in before.values())),
        "base_model": args.model,
        "ref_adapter": args.ref_adapter,
        "beta": args.beta,
        "learning_rate": args.learning_rate,
        "processes": args.processes,
        "global_batch_size": args.batch_size * args.processes * args.grad_accum,
        "seconds": round(time.time() - started, 1),
    }
    if is_main_process():  # the main process writes metrics.json (and wrote the adapter)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    end_processes()
    if not is_main_process():
        return 0
    print(f"[train_dpo] {metrics['steps']} steps, loss {metrics['loss_before']} -> {metrics['loss_after']}, adapter moved by {delta:.3g}; wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
