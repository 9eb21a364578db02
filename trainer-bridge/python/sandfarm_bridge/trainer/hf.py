"""A Hugging Face `transformers` causal LM behind the reference trainer's PolicyModel interface
(optionally with a LoRA adapter through `peft`). `save` writes `save_pretrained` directories: a
full model vLLM can reload from a path, or an adapter for `/v1/load_lora_adapter`.

Not exercised on this project's CI machine (no transformers there); the GPU check script runs it.
"""

from __future__ import annotations

from typing import Tuple

import torch

from .models import logprobs_and_entropy


class HuggingFacePolicy:
    def __init__(self, path: str, lora: bool = False, dtype: torch.dtype = torch.bfloat16):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=dtype).to(device)
        if lora:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
        self.module = model
        self.device = device
        self.pad_token_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def token_logprobs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        input_ids = input_ids.to(self.device)
        logits = self.module(input_ids=input_ids, attention_mask=attention_mask.to(self.device)).logits
        return logprobs_and_entropy(logits, input_ids)

    def save(self, directory: str) -> None:
        self.module.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)

    def load(self, directory: str) -> None:
        from transformers import AutoModelForCausalLM

        state = AutoModelForCausalLM.from_pretrained(directory).state_dict()
        self.module.load_state_dict(state, strict=False)
