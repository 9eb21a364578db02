"""Writes a fresh tiny policy checkpoint (random weights from a seed, sized to the tokenizer).

    /usr/bin/python3 -m examples.tiny.init --seed 3 --out ckpt/fresh    # from trainer-bridge/python
"""

from __future__ import annotations

import argparse
from typing import List, Optional

import torch

from .model import TinyConfig, TinyLM
from .tokenizer import TinyTokenizer


def fresh(seed: int, **sizes) -> TinyLM:
    """A new model: ALiBi positions unless `sizes` says otherwise."""
    torch.manual_seed(seed)
    options = {"positions": "alibi", **sizes}
    return TinyLM(TinyConfig(vocab_size=TinyTokenizer.load().vocab_size, **options))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="a fresh tiny policy checkpoint")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="the checkpoint directory to write")
    args = parser.parse_args(argv)
    fresh(args.seed).save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
