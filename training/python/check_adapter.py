#!/usr/bin/env python3
"""Checks an adapter written by train_dpo.py the way a consumer would: the files vLLM reads are there,
the config is a plain LoRA on supported modules, the weights are finite and were moved by
training, and the logged DPO loss is finite. Exits 1 with the reasons otherwise.

Usage: check_adapter.py ADAPTER_DIR [--steps N]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter")
    ap.add_argument("--steps", type=int, help="optimizer steps expected")
    args = ap.parse_args()
    d = Path(args.adapter)
    problems: list[str] = []

    for f in ("adapter_config.json", "adapter_model.safetensors", "metrics.json"):
        if not (d / f).exists():
            problems.append(f"{f} is missing")
    if problems:
        print("\n".join(problems))
        return 1

    cfg = json.loads((d / "adapter_config.json").read_text())
    if cfg.get("peft_type") != "LORA":
        problems.append(f"peft_type is {cfg.get('peft_type')}, not LORA")
    # vLLM serves LoRA on the linear layers; extra trained modules (embeddings, heads) are refused.
    if cfg.get("modules_to_save"):
        problems.append(f"modules_to_save={cfg['modules_to_save']} (vLLM cannot load those)")
    if not cfg.get("target_modules"):
        problems.append("no target_modules")

    from safetensors.numpy import load_file

    tensors = load_file(str(d / "adapter_model.safetensors"))
    if not tensors:
        problems.append("adapter_model.safetensors holds no tensors")
    bad_names = [k for k in tensors if not (".lora_A." in k or ".lora_B." in k)]
    if bad_names:
        problems.append(f"unexpected tensors {bad_names[:3]}")
    if any(".ref." in k or ".default." in k for k in tensors):
        problems.append("adapter names leaked into tensor keys (not PEFT's saved layout)")
    nonfinite = [k for k, v in tensors.items() if not all(math.isfinite(float(x)) for x in v.ravel())]
    if nonfinite:
        problems.append(f"non-finite weights in {nonfinite[:3]}")
    b_max = max((float(abs(v).max()) for k, v in tensors.items() if ".lora_B." in k), default=0.0)
    # LoRA starts with B = 0; a non-zero B means the optimizer really updated the adapter.
    if not b_max > 0:
        problems.append("every lora_B weight is still zero: training did not change the adapter")

    m = json.loads((d / "metrics.json").read_text())
    if not m.get("loss_finite"):
        problems.append(f"loss not finite: {m.get('losses')}")
    if not (m.get("adapter_max_abs_change") or 0) > 0:
        problems.append("metrics report no change of the trainable weights")
    if args.steps is not None and m.get("steps") != args.steps:
        problems.append(f"{m.get('steps')} optimizer steps, expected {args.steps}")

    if problems:
        print(f"[check-adapter] {d}: FAILED")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(
        f"[check-adapter] {d}: ok ({len(tensors)} LoRA tensors, max |B| {b_max:.3g}, "
        f"steps {m.get('steps')}, losses {[round(x, 4) for x in m.get('losses', [])]}, moved {m.get('adapter_max_abs_change'):.3g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
