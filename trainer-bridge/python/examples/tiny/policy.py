"""The tiny policy behind the reference trainer's PolicyModel interface (`--model tiny:DIR`)."""

from __future__ import annotations

from typing import Tuple

import torch

from sandfarm_bridge.trainer.models import logprobs_and_entropy

from .model import TinyLM
from .tokenizer import TinyTokenizer


class TinyPolicy:
    def __init__(self, path: str):
        self.module = TinyLM.load(path)
        self.pad_token_id = TinyTokenizer.load().pad_id

    def token_logprobs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        logits, _ = self.module(input_ids, attention_mask)
        return logprobs_and_entropy(logits, input_ids)

    def save(self, directory: str) -> None:
        self.module.save(directory)

    def load(self, directory: str) -> None:
        self.module.load_weights(directory)
