#!/usr/bin/env python3
"""The format warm start: supervised fine-tuning of a LoRA adapter on well-formed answers (TRL SFTTrainer + PEFT).

A small pretrained model may never write the insertion markup `@Ad Title@[Ad-ID]` on its own (SmolLM2-135M
copies the prompt's example instead), and then IRPO has nothing to learn from: every response scores
the same. The paper's pretrained Ad-LLM already follows the format, so before IRPO's first epoch
`llm-auction train --warm-start sft` teaches it on answers whose markup is right (epoch 0). The
targets come from the embedded stand-in policy's own plans with no broken markup, rendered with the
auction's real candidates: they teach the format, not an allocation learned from clicks.

Input: JSON Lines of {"prompt", "completion"} (extra fields ignored); output: a LoRA adapter in PEFT's
layout (what vLLM and `llm-auction serve` load) and metrics.json. Run directly, or by train_dpo.py
when the external-trainer manifest says "objective": "sft" (the same environment contract:
LLM_AUCTION_PAIRS is then this file).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path


def load_examples(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{i}: not JSON ({e.msg})")
            for k in ("prompt", "completion"):
                if not isinstance(o.get(k), str):
                    raise SystemExit(f'{path}:{i}: field "{k}" must be a string')
            rows.append({"prompt": o["prompt"], "completion": o["completion"]})
    if not rows:
        raise SystemExit(f"{path}: no examples")
    return rows


def run_sft(args: argparse.Namespace) -> int:
    """Train on args.pairs (prompt/completion lines); the same option names as train_dpo.py."""
    started = time.time()
    from datasets import Dataset
    from trainer_common import end_processes, is_main_process, load_base, loss_logger, new_lora, train_and_save, training_args
    from trl import SFTConfig, SFTTrainer

    out, tokenizer, model = load_base(args)
    peft_config = new_lora(args)
    rows = load_examples(args.pairs)
    use_chat = args.format == "chat" or (args.format == "auto" and getattr(tokenizer, "chat_template", None))
    # One user turn and one assistant turn, as the served model sees them: TRL renders them with the
    # tokenizer's chat template (the GGUF's own, which the sampler uses too) and, for prompt and
    # completion data, computes the loss on the completion only.
    data = (
        [{"prompt": [{"role": "user", "content": r["prompt"]}], "completion": [{"role": "assistant", "content": r["completion"]}]} for r in rows]
        if use_chat
        else rows
    )
    print(f"[train_sft] {len(rows)} examples from {args.pairs}; {'chat template' if use_chat else 'plain text'}; model {args.model}", flush=True)
    config = SFTConfig(completion_only_loss=True, **training_args(args, out))
    losses: list[float] = []
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(data), processing_class=tokenizer, peft_config=peft_config, callbacks=[loss_logger(losses)])
    result, delta, _ = train_and_save(trainer, tokenizer, out)
    metrics = {
        "objective": "sft",
        "loss_before": losses[0] if losses else None,
        "loss_after": losses[-1] if losses else None,
        "losses": losses,
        "loss_finite": bool(losses) and all(math.isfinite(x) for x in losses),
        "train_loss": float(result.training_loss),
        "steps": int(trainer.state.global_step),
        "examples": len(rows),
        "adapter_max_abs_change": delta,
        "base_model": args.model,
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
    print(f"[train_sft] {metrics['steps']} steps, loss {metrics['loss_before']} -> {metrics['loss_after']}, adapter moved by {delta:.3g}; wrote {out}", flush=True)
    return 0


sys.path.insert(0, str(Path(__file__).resolve().parent))

if __name__ == "__main__":
    from trainer_common import parse_args

    sys.exit(run_sft(parse_args(sys.argv[1:])))
