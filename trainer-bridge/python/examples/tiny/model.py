"""The tiny policy: a small causal transformer (pre-norm blocks; positions as ALiBi's linear
distance penalty per head, or fixed sinusoidal embeddings for checkpoints written before ALiBi),
with the two ways a model is run in RL. The server samples as an inference engine does, one token
at a time over a key/value cache (`prefill`, `step`); the trainer scores as a trainer does, one
padded batched forward over whole sequences (`token_logprobs`). Checkpoints are a directory:
config.json and model.pt (the state dict).

    model = TinyLM(TinyConfig(vocab_size=tok.vocab_size))
    logprobs = model.token_logprobs(input_ids, attention_mask)   # [B, T-1]
    model.save("ckpt/3"); TinyLM.load("ckpt/3")
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class TinyConfig:
    vocab_size: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 256
    max_len: int = 4096
    # "alibi": each head's score drops linearly with the distance to the key (slopes 2^(-8h/H)),
    # which lets attention single out a recent token (the code in a tool's output) sooner than
    # absolute sinusoidal positions do; measured on the codes family, supervised copying from a
    # tool response converged in about 100 steps against 150-175. A config.json without the key
    # is a checkpoint from before: sinusoidal.
    positions: str = "sinusoidal"

    def __post_init__(self) -> None:
        if self.positions not in ("alibi", "sinusoidal"):
            raise ValueError(f"positions {self.positions!r}: use alibi or sinusoidal")


def _positions(length: int, d_model: int, start: int = 0) -> torch.Tensor:
    position = torch.arange(start, start + length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)
    return table


Cache = List[Tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values [B, H, T, Dh]


class Block(nn.Module):
    def __init__(self, config: TinyConfig):
        super().__init__()
        self.heads = config.n_heads
        slopes = [2 ** (-8 * (head + 1) / config.n_heads) for head in range(config.n_heads)]
        self.slopes = torch.tensor(slopes).view(1, -1, 1, 1) if config.positions == "alibi" else None
        self.norm1 = nn.LayerNorm(config.d_model)
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.ff = nn.Sequential(
            nn.Linear(config.d_model, config.d_ff), nn.GELU(), nn.Linear(config.d_ff, config.d_model)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                past: Optional[Tuple[torch.Tensor, torch.Tensor]] = None):
        batch, length, width = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(width, dim=2)
        shape = (batch, length, self.heads, width // self.heads)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(width // self.heads)
        if self.slopes is not None:
            total = k.shape[2]
            queries = torch.arange(total - length, total).view(-1, 1)
            distance = (queries - torch.arange(total).view(1, -1)).clamp(min=0).float()
            scores = scores - self.slopes * distance
        scores = scores.masked_fill(~mask, float("-inf"))
        attended = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, width)
        x = x + self.out(attended)
        x = x + self.ff(self.norm2(x))
        return x, (k, v)


class TinyLM(nn.Module):
    def __init__(self, config: TinyConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                past: Optional[Cache] = None) -> Tuple[torch.Tensor, Cache]:
        """Logits [B, T, V] for each position, and the cache including these tokens. Padding is
        on the right (`attention_mask` 0 there): real tokens never attend to it."""
        batch, length = input_ids.shape
        start = 0 if past is None else past[0][0].shape[2]
        x = self.embed(input_ids)
        if self.config.positions == "sinusoidal":
            x = x + _positions(length, self.config.d_model, start)
        total = start + length
        causal = torch.ones(length, total, dtype=torch.bool).tril(diagonal=start)
        mask = causal.view(1, 1, length, total)
        if attention_mask is not None:
            keys = attention_mask.bool()
            if past is not None:
                keys = torch.cat([torch.ones(batch, start, dtype=torch.bool), keys], dim=1)
            mask = mask & keys.view(batch, 1, 1, total)
            # A padded query row would see no key at all: let it see itself (its output is unused).
            itself = torch.zeros(length, total, dtype=torch.bool)
            itself[torch.arange(length), torch.arange(start, total)] = True
            mask = mask | itself.view(1, 1, length, total)
        cache: Cache = []
        for index, block in enumerate(self.blocks):
            x, kv = block(x, mask, None if past is None else past[index])
            cache.append(kv)
        return self.head(self.norm(x)), cache

    def token_logprobs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """log p(token t | tokens < t) for t = 1..T-1: [B, T-1] (position 0 has no logprob)."""
        logits, _ = self(input_ids, attention_mask)
        logprobs = F.log_softmax(logits[:, :-1].float(), dim=-1)
        return logprobs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)

    # ---- checkpoints ----
    def save(self, directory: str) -> None:
        """Writes config.json and model.pt into `directory` atomically (a temp name, then rename)."""
        os.makedirs(directory, exist_ok=True)
        def write_config(path: str) -> None:
            with open(path, "w") as handle:
                json.dump(asdict(self.config), handle)

        _atomic_write(os.path.join(directory, "config.json"), write_config)
        _atomic_write(os.path.join(directory, "model.pt"),
                      lambda path: torch.save(self.state_dict(), path))

    @classmethod
    def load(cls, directory: str) -> "TinyLM":
        with open(os.path.join(directory, "config.json")) as handle:
            config = TinyConfig(**json.load(handle))
        model = cls(config)
        model.load_state_dict(torch.load(os.path.join(directory, "model.pt"), map_location="cpu"))
        return model

    def load_weights(self, directory: str) -> None:
        """Replaces this model's weights with a checkpoint's of the same shape."""
        state = torch.load(os.path.join(directory, "model.pt"), map_location="cpu")
        self.load_state_dict(state)


def _atomic_write(path: str, write) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    write(temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
