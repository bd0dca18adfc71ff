#!/usr/bin/env python3
"""Compares two trainer runs of the same steps (one process and several, say): their logged losses
side by side and the largest difference of their adapter weights, each against a tolerance.
Exits 1 when either differs by more, when the runs took different numbers of steps, or
when the second run did not really run on more than one process.

Usage: compare_runs.py ONE_DIR MANY_DIR [--tolerance 1e-4]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("one")
    ap.add_argument("many")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest absolute difference allowed, per loss and per weight")
    args = ap.parse_args()
    a = json.loads((Path(args.one) / "metrics.json").read_text())
    b = json.loads((Path(args.many) / "metrics.json").read_text())
    problems: list[str] = []
    if b.get("processes", 1) < 2:
        problems.append(f"{args.many} ran on {b.get('processes', 1)} process(es): not a multi-process run")
    if a.get("steps") != b.get("steps") or len(a["losses"]) != len(b["losses"]):
        problems.append(f"steps differ: {a.get('steps')} vs {b.get('steps')}")
    print(f"[compare] step  loss ({a.get('processes', 1)} process)  loss ({b.get('processes', 1)} processes)  |difference|")
    worst_loss = 0.0
    for k, (x, y) in enumerate(zip(a["losses"], b["losses"]), 1):
        worst_loss = max(worst_loss, abs(x - y))
        print(f"[compare] {k:>4}  {x:.10f}          {y:.10f}            {abs(x - y):.2e}")
    from safetensors.numpy import load_file

    wa = load_file(str(Path(args.one) / "adapter_model.safetensors"))
    wb = load_file(str(Path(args.many) / "adapter_model.safetensors"))
    if set(wa) != set(wb):
        problems.append("the adapters hold different tensors")
    worst_weight = max((float(abs(wa[k] - wb[k]).max()) for k in wa if k in wb), default=float("inf"))
    print(f"[compare] largest loss difference {worst_loss:.2e}, largest adapter weight difference {worst_weight:.2e}, tolerance {args.tolerance:g}")
    if worst_loss > args.tolerance:
        problems.append(f"a loss differs by {worst_loss:.3g} > {args.tolerance:g}")
    if not worst_weight <= args.tolerance:
        problems.append(f"an adapter weight differs by {worst_weight:.3g} > {args.tolerance:g}")
    if problems:
        print("[compare] FAILED: " + "; ".join(problems))
        return 1
    print("[compare] ok: the runs agree within the tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
