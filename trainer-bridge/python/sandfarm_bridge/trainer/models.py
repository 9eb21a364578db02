"""The one interface the reference trainer needs from a model, and how a `--model` spec picks an
implementation: `tiny:DIR` (examples/tiny, the demonstration policy) or `hf:DIR` (any Hugging
Face `transformers` causal LM; LoRA through `peft` with `hf+lora:DIR`).

A PolicyModel scores right-padded sequences in one batched forward and saves itself in the
format its inference server loads (the directory `/collective_rpc reload_weights` or vLLM reads).
"""

from __future__ import annotations

import importlib
from typing import Protocol, Tuple

import torch


class PolicyModel(Protocol):
    module: torch.nn.Module
    pad_token_id: int

    def token_logprobs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """log p(token t | tokens < t) and the entropy of that distribution, t = 1..T-1: [B, T-1]."""

    def save(self, directory: str) -> None:
        """The weights, in the model's own format (what its server reloads)."""

    def load(self, directory: str) -> None:
        """Replaces the weights with those `save` wrote."""


def logprobs_and_entropy(logits: torch.Tensor, input_ids: torch.Tensor
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """From logits [B, T, V] of a causal LM: the next tokens' logprobs and entropies [B, T-1]."""
    logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    chosen = logprobs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    entropy = -(logprobs.exp() * logprobs).sum(-1)
    return chosen, entropy


def load_model(spec: str) -> PolicyModel:
    kind, _, path = spec.partition(":")
    if not path:
        raise ValueError(f"--model {spec!r}: write KIND:DIR, e.g. tiny:ckpt/0 or hf:Qwen/Qwen2.5-0.5B")
    if kind == "tiny":
        return importlib.import_module("examples.tiny.policy").TinyPolicy(path)
    if kind in ("hf", "hf+lora"):
        from .hf import HuggingFacePolicy

        return HuggingFacePolicy(path, lora=kind == "hf+lora")
    raise ValueError(f"--model {spec!r}: the kind is tiny, hf or hf+lora")
