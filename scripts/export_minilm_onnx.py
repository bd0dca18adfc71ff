#!/usr/bin/env python3
"""Export all-MiniLM-L6-v2 (sentence-transformers layout: safetensors + tokenizer.json) to ONNX.

Usage: export_minilm_onnx.py MODEL_DIR OUT.onnx [OPSET] [MAX_SEQ_LENGTH]

The graph takes input_ids, attention_mask, token_type_ids (int64, [batch, seq]) and returns
last_hidden_state ([batch, seq, 384]); pooling and normalization happen in the caller, as in
sentence-transformers, so the same file serves any pooling. Run by scripts/fetch_models.py inside
a venv with pinned torch/transformers/onnx.

Also writes MODEL_DIR/reference.json: sentence embeddings computed by torch the way
sentence-transformers does (truncate to MAX_SEQ_LENGTH, mean over real tokens, L2-normalize).
The Node tests compare the ONNX encoder against it.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import onnxruntime as ort
from transformers import AutoModel, AutoTokenizer

REFERENCE_TEXTS = [
    "hello world",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome.",
    "What is the best running shoe for flat feet?",
    "Ergonomic office chair with lumbar support",
    "An ergonomic desk chair that supports your lower back",
    "Noise-cancelling wireless headphones",
]


class LastHidden(torch.nn.Module):
    """Keyword call into the model: transformers 5 changed BertModel.forward's positional order."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    opset = int(sys.argv[3]) if len(sys.argv) > 3 else 17
    max_len = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(src)
    # Eager attention traces to plain MatMul/Softmax, which every ONNX runtime runs.
    model = AutoModel.from_pretrained(src, attn_implementation="eager").eval()
    wrapped = LastHidden(model)

    # Torch outputs are computed before the export: tracing leaves the transformers 5 model
    # changed (its eager outputs on padded batches moved by >1 after torch.onnx.export), so
    # anything computed afterwards would be a wrong reference.
    check = tok(["The quick brown fox jumps over the lazy dog.", "ok", "padding matters here"], padding=True, return_tensors="pt")
    with torch.no_grad():
        want = wrapped(check["input_ids"], check["attention_mask"], check["token_type_ids"]).numpy()
    enc = tok(REFERENCE_TEXTS, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    with torch.no_grad():
        hidden = wrapped(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    mask = enc["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    emb = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
    ref = {
        "model": "all-MiniLM-L6-v2",
        "pooling": "mean",
        "normalize": True,
        "max_seq_length": max_len,
        "torch": torch.__version__,
        "texts": REFERENCE_TEXTS,
        "input_ids": [[int(i) for i, m in zip(row, msk) if m] for row, msk in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist())],
        "embeddings": [[round(float(x), 7) for x in row] for row in emb],
    }

    # Two rows of different real length so the traced graph keeps the mask path general.
    sample = tok(["hello world, a sample", "hi"], padding=True, return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
    axes = {name: {0: "batch", 1: "seq"} for name in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]}
    tmp = out.with_name(out.name + ".part")
    with torch.no_grad():
        # The TorchScript exporter (dynamo=False) needs no onnxscript and handles BERT exactly.
        torch.onnx.export(
            wrapped,
            args,
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    onnx.checker.check_model(str(tmp))

    # Check the exported graph against torch on a padded batch it was not traced with, in ONNX
    # Runtime, the engine the Node side uses.
    t = time.time()
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    got = session.run(None, {k: v.numpy() for k, v in check.items()})[0]
    # Only real tokens count: hidden states at padded positions are never pooled, and runtimes
    # legitimately differ there (how a fully masked softmax row is computed).
    real = check["attention_mask"].numpy().astype(bool)
    diff = float(np.abs(want - got)[real].max())
    print(f"[export] onnx vs torch max |diff| = {diff:.2e} ({time.time() - t:.1f}s)", flush=True)
    if not diff < 1e-3:
        raise SystemExit(f"exported graph disagrees with torch (max diff {diff})")
    tmp.replace(out)

    (src / "reference.json").write_text(json.dumps(ref) + "\n")
    print(f"[export] wrote {out} and {src / 'reference.json'}", flush=True)


if __name__ == "__main__":
    main()
