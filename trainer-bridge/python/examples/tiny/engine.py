"""The tiny policy's inference engine: one model, requests generated one token at a time over a
key/value cache, interleaved token by token (a lock per step, so concurrent requests share the
model as a batching engine would), with vLLM's sampling parameters and its pause modes.

Logprobs are the raw model's (log_softmax of the logits before temperature, top-k/p or
penalties), as vLLM returns by default: the trainer's importance ratio is taken against them and
the sampling parameters the batch records. A request with a seed samples reproducibly.

    engine = Engine(model, tokenizer)
    result = engine.generate(prompt_ids, max_tokens=64, sampling={"temperature": 1, "seed": 3})
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import torch
import torch.nn.functional as F

from .model import TinyLM
from .tokenizer import TinyTokenizer


class Aborted(Exception):
    """The request was aborted by `pause(mode="abort")`."""


@dataclass
class Generation:
    ids: List[int] = field(default_factory=list)
    logprobs: List[float] = field(default_factory=list)
    finished: bool = False  # ended with <|im_end|> (else it ran out of max_tokens)


def _shape_logits(logits: torch.Tensor, sampling: Dict[str, Any], seen: List[int],
                  generated: List[int]) -> torch.Tensor:
    """The distribution actually sampled: penalties, temperature, top-k, top-p, min-p."""
    logits = logits.clone()
    repetition = float(sampling.get("repetition_penalty") or 1.0)
    if repetition != 1.0 and seen:
        index = torch.tensor(sorted(set(seen)))
        values = logits[index]
        logits[index] = torch.where(values > 0, values / repetition, values * repetition)
    presence = float(sampling.get("presence_penalty") or 0.0)
    frequency = float(sampling.get("frequency_penalty") or 0.0)
    if (presence or frequency) and generated:
        counts = torch.bincount(torch.tensor(generated), minlength=logits.shape[0]).float()
        logits = logits - frequency * counts - presence * (counts > 0).float()
    logits = logits / float(sampling["temperature"])
    top_k = int(sampling.get("top_k") or 0)
    if 0 < top_k < logits.shape[0]:
        cutoff = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < cutoff, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    top_p = float(sampling.get("top_p") if sampling.get("top_p") is not None else 1.0)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        outside = sorted_probs.cumsum(0) - sorted_probs > top_p
        logits[order[outside]] = float("-inf")
    min_p = float(sampling.get("min_p") or 0.0)
    if min_p > 0.0:
        logits = logits.masked_fill(probs < min_p * probs.max(), float("-inf"))
    return logits


class Engine:
    def __init__(self, model: TinyLM, tokenizer: TinyTokenizer):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._step = threading.Lock()  # one forward at a time: the model is the engine
        self._state = threading.Condition()
        self.paused: Optional[str] = None
        self._in_flight = 0
        self._abort_epoch = 0

    # ---- pause protocol (vLLM's /pause?mode=keep|wait|abort, /resume) ----
    def pause(self, mode: str) -> None:
        with self._state:
            self.paused = mode
            if mode == "abort":
                self._abort_epoch += 1
            if mode == "wait":
                while self._in_flight > 0:
                    self._state.wait()

    def resume(self) -> None:
        with self._state:
            self.paused = None
            self._state.notify_all()

    def _admit(self) -> int:
        with self._state:
            while self.paused is not None:
                self._state.wait()
            self._in_flight += 1
            return self._abort_epoch

    def _leave(self) -> None:
        with self._state:
            self._in_flight -= 1
            self._state.notify_all()

    def _between_tokens(self, epoch: int) -> None:
        """keep: freeze until resume; abort: this request ends."""
        with self._state:
            if self._abort_epoch != epoch:
                raise Aborted("aborted by /pause?mode=abort")
            while self.paused == "keep":
                self._state.wait()
                if self._abort_epoch != epoch:
                    raise Aborted("aborted by /pause?mode=abort")

    def reload(self, directory: str) -> None:
        """New weights between two steps: requests in flight go on with them (as vLLM's keep)."""
        with self._step:
            self.model.load_weights(directory)

    # ---- generation ----
    @torch.no_grad()
    def generate(self, prompt: List[int], max_tokens: int, sampling: Dict[str, Any]) -> Generation:
        sampling = dict(sampling)
        if sampling.get("temperature") is None:
            sampling["temperature"] = 1.0
        seed = sampling.get("seed")
        generator = torch.Generator().manual_seed(
            int(seed) if seed is not None else random.getrandbits(63)
        )
        epoch = self._admit()
        result = Generation()
        try:
            with self._step:
                logits, cache = self.model(torch.tensor([prompt]))
            last = logits[0, -1]
            while len(result.ids) < max_tokens:
                raw = F.log_softmax(last.float(), dim=-1)
                if float(sampling["temperature"]) == 0.0:
                    token = int(torch.argmax(raw))
                else:
                    shaped = _shape_logits(last.float(), sampling, prompt + result.ids, result.ids)
                    token = int(torch.multinomial(F.softmax(shaped, dim=-1), 1, generator=generator))
                result.ids.append(token)
                result.logprobs.append(float(raw[token]))
                if token == self.tokenizer.im_end_id:
                    result.finished = True
                    break
                if len(result.ids) >= max_tokens:
                    break
                self._between_tokens(epoch)
                with self._step:
                    logits, cache = self.model(torch.tensor([[token]]), past=cache)
                last = logits[0, -1]
            return result
        finally:
            self._leave()
