#!/usr/bin/env python3
"""A tiny, randomly initialized Llama-style causal LM with its own tokenizer, for the smoke test.

No model hub is reachable where the suite's CI runs, and SmolLM2 only comes as a quantized GGUF
there, so the smoke test trains on a model built here from a config: 2 layers, width 64, a
word-level tokenizer fitted to the smoke pairs, and a ChatML chat template (the format SmolLM2 and
Qwen use), so the chat-template path of train_dpo.py is exercised too. Its outputs are noise; it
exists to prove the plumbing (data -> TRL DPO -> PEFT LoRA adapter that vLLM can load), not quality.

Usage: make_tiny_model.py --out DIR [--pairs-out FILE]
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

ADS = [
    ("Ad-0001", "Trail Runner GTX Waterproof Shoe", 1.25),
    ("Ad-0002", "Ceramic Pour-Over Coffee Dripper", 0.4),
    ("Ad-0003", "Lightweight Daypack 20L", 0.9),
    ("Ad-0004", "Ergonomic Mesh Office Chair", 2.1),
]
QUESTIONS = [
    "Which shoes should I buy for trail running in the rain?",
    "How do I brew better coffee at home?",
    "What should I pack for a day hike?",
    "How can I sit more comfortably while working from home?",
]


def smoke_pairs(n: int, seed: int = 0) -> list[dict]:
    """Pairs in the suite's layout: the Ad-LLM prompt shape, a response with a correct insertion
    (chosen) and one with a broken insertion (rejected)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        q = QUESTIONS[i % len(QUESTIONS)]
        cands = "\n".join(json.dumps({"Ad ID": a, "Ad Title": t, "Ad Bid": b}) for a, t, b in ADS)
        prompt = f"# Candidate ads\n{cands}\n\n# User profile\nBasic information: adult\nInterests: outdoors, coffee\n\n# User question\n{q}\n\nYour answer:"
        ad_id, title, _ = ADS[i % len(ADS)]
        good = f"Here is a helpful answer. You might like @{title}@[{ad_id}] for this."
        bad = f"Here is an answer. Try {title} [{ad_id}] maybe." if rng.random() < 0.5 else "Here is an answer without much help."
        rows.append({"prompt": prompt, "chosen": good, "rejected": bad, "query_id": f"Q-{i:05d}"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--pairs-out", help="also write smoke preference pairs (JSON Lines) here")
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    rows = smoke_pairs(args.pairs, args.seed)
    if args.pairs_out:
        Path(args.pairs_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.pairs_out).write_text("".join(json.dumps(r) + "\n" for r in rows))

    specials = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    # Split on whitespace and punctuation, so the ad markup @Title@[Ad-0001] becomes several tokens.
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    corpus = [r["prompt"] for r in rows] + [r["chosen"] for r in rows] + [r["rejected"] for r in rows] + ["user assistant system"]
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=specials, min_frequency=1))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
    )
    fast.chat_template = CHATML

    torch.manual_seed(args.seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        pad_token_id=fast.pad_token_id,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    out = Path(args.out)
    model.save_pretrained(out)
    fast.save_pretrained(out)
    n = sum(p.numel() for p in model.parameters())
    print(f"[tiny-model] {n:,} parameters, vocabulary {len(fast)}, written to {out}", flush=True)


if __name__ == "__main__":
    main()
