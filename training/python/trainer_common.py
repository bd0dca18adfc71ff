#!/usr/bin/env python3
"""What the reference external trainers share: the command line and environment contract
(training/external.ts), loading the base model, a fresh LoRA adapter, the trainer arguments, the
loss log, and training then saving the adapter in PEFT's layout. train_dpo.py (IRPO's DPO epochs)
and train_sft.py (the format warm start) both import it; neither imports the other's internals.

Across processes (`accelerate launch --num_processes N`, which `llm-auction train --trainer-processes
N` runs): every process trains on its share of each batch (DDP, or DeepSpeed ZeRO with a config from
training/configs/), the logged loss is the mean over processes, and only the main process writes
the adapter and metrics.json. `--global-batch-size G` fixes the pairs per optimizer step whatever N
is (G / N per process), so N processes take the steps one process takes.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def env(name: str, default: str | None = None) -> str | None:
    v = os.environ.get(name)
    return v if v not in (None, "") else default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    manifest: dict = {}
    manifest_path = env("LLM_AUCTION_MANIFEST")
    if manifest_path and Path(manifest_path).exists():
        manifest = json.loads(Path(manifest_path).read_text())
    ap = argparse.ArgumentParser(description="DPO + LoRA on llm-auction preference pairs (TRL).")
    ap.add_argument("--pairs", default=env("LLM_AUCTION_PAIRS"), help="JSON Lines of {prompt, chosen, rejected}")
    ap.add_argument("--output-dir", default=env("LLM_AUCTION_OUTPUT_DIR"), help="where the adapter is written")
    ap.add_argument("--model", default=env("LLM_AUCTION_BASE_MODEL", manifest.get("base_model")), help="base model: a local directory or a hub id")
    ap.add_argument("--ref-adapter", default=env("LLM_AUCTION_REF_ADAPTER", manifest.get("reference_adapter")) or None, help="previous adapter (pi_ref); empty for the base model")
    ap.add_argument("--beta", type=float, default=float(env("LLM_AUCTION_BETA", str(manifest.get("beta", 0.1)))), help="DPO beta (paper: 0.1)")
    ap.add_argument("--learning-rate", type=float, default=float(manifest.get("learning_rate", 1e-6)) if manifest.get("learning_rate") else 5e-6)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=int(manifest.get("max_steps", -1)), help="stop after this many optimizer steps (overrides --epochs)")
    ap.add_argument("--batch-size", type=int, default=4, help="pairs per device per step")
    ap.add_argument(
        "--global-batch-size",
        type=int,
        default=int(env("LLM_AUCTION_GLOBAL_BATCH_SIZE", "0") or 0) or None,
        help="pairs per optimizer step over all processes (overrides --batch-size: it is G / processes, "
        "which must divide); one process and N processes then take the same steps",
    )
    ap.add_argument("--grad-accum", type=int, default=1)
    ap.add_argument("--max-length", type=int, default=2048, help="prompt + response tokens; longer pairs are truncated")
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--lora-alpha", type=int, default=32)
    ap.add_argument("--lora-dropout", type=float, default=0.05)
    ap.add_argument(
        "--target-modules",
        default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
        help="comma-separated module names; the default covers Llama/Qwen/Mistral-style models and only "
        "modules vLLM's LoRA kernels support (no embeddings or lm_head)",
    )
    ap.add_argument("--format", choices=["auto", "chat", "plain"], default="auto")
    ap.add_argument("--warmup-ratio", type=float, default=0.1, help="paper: 0.1, then cosine decay")
    ap.add_argument("--seed", type=int, default=int(env("LLM_AUCTION_SEED", "0") or 0))
    ap.add_argument("--cpu", action="store_true", help="train on the CPU in float32 (the smoke test)")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 training (GPUs from Ampere on)")
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--logging-steps", type=int, default=1)
    ap.add_argument(
        "--objective",
        choices=["dpo", "sft"],
        default=env("LLM_AUCTION_OBJECTIVE", manifest.get("objective", "dpo")),
        help="dpo: preference pairs (IRPO's epochs); sft: {prompt, completion} lines, the format warm start (train_sft.py)",
    )
    args = ap.parse_args(argv)
    # torchrun (under accelerate launch) sets WORLD_SIZE in each process; one process otherwise.
    args.processes = int(env("WORLD_SIZE", "1") or 1)
    if args.global_batch_size is not None:
        if args.global_batch_size < 1 or args.global_batch_size % args.processes:
            ap.error(f"--global-batch-size {args.global_batch_size} is not a positive multiple of the {args.processes} processes")
        args.batch_size = args.global_batch_size // args.processes
    missing = [n for n in ("pairs", "output_dir", "model") if not getattr(args, n)]
    if missing:
        ap.error("missing " + ", ".join("--" + m.replace("_", "-") for m in missing) + " (or the LLM_AUCTION_* variables)")
    return args


def load_base(args: argparse.Namespace):
    """Seed torch, make the output directory, load the tokenizer (pad = eos when it has none) and the base model."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(args.seed)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if args.bf16 else torch.float32
    return out, tokenizer, AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype)


def new_lora(args: argparse.Namespace):
    """A fresh LoRA adapter on the modules vLLM's LoRA kernels serve."""
    from peft import LoraConfig

    return LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=[m.strip() for m in args.target_modules.split(",") if m.strip()],
        bias="none",
        task_type="CAUSAL_LM",
    )


def training_args(args: argparse.Namespace, out: Path) -> dict:
    """The trainer arguments DPO and the SFT warm start share: schedule, batches, logging, device."""
    return dict(
        output_dir=str(out / "checkpoints"),
        learning_rate=args.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=args.warmup_ratio,  # a float below 1 is a ratio of the total steps in transformers 5
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        max_length=args.max_length,
        logging_steps=args.logging_steps,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
        use_cpu=args.cpu,
        bf16=args.bf16,
        dataloader_num_workers=0,
        # Passed only when asked: transformers 5 warns about the old name on every run otherwise.
        **({"gradient_checkpointing": True} if args.gradient_checkpointing else {}),
    )


def is_main_process() -> bool:
    """True in the one process that writes files (rank 0; the only one without a launcher)."""
    return int(env("RANK", "0") or 0) == 0


def end_processes() -> None:
    """Under a launcher, every process waits for the others, then leaves the process group before
    exiting. Without this a process that finishes first (any rank but the main one, which still
    writes files) tears gloo down under a live group and aborts ("terminate called without an
    active exception", SIGABRT), and the launcher reports the whole run failed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def loss_logger(losses: list[float]):
    """A callback that appends every logged training loss to `losses`."""
    from transformers import TrainerCallback

    class LossLog(TrainerCallback):
        def on_log(self, _args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

    return LossLog()


def train_and_save(trainer, tokenizer, out: Path):
    """Train, then write only the trained adapter in PEFT's layout at the top of `out`: what vLLM's
    LoRA loader and `POST /v1/load_lora_adapter` read (TRL's frozen reference copy stays out).
    Returns the trainer's result, how far the LoRA weights moved, and their snapshot from before."""
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    result = trainer.train()
    delta = max((float((p.detach() - before[n]).abs().max()) for n, p in trainer.model.named_parameters() if n in before), default=0.0)
    # Under DeepSpeed ZeRO-3 the weights are sharded: gathering them is a collective every process joins.
    state = trainer.accelerator.get_state_dict(trainer.model) if trainer.is_deepspeed_enabled else None
    if trainer.accelerator.is_main_process:
        peft_model = trainer.accelerator.unwrap_model(trainer.model)
        kw = {} if state is None else {"state_dict": state}
        peft_model.save_pretrained(str(out), selected_adapters=["default"], safe_serialization=True, **kw)
        tokenizer.save_pretrained(str(out))
    trainer.accelerator.wait_for_everyone()
    return result, delta, before
