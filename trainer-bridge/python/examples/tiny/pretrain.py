"""The tiny policy's warm start: supervised training on generated transcripts of the `codes`
task family in both modes, so that it knows the tool-call format and the shape of an episode, as
real policies are instruction-tuned before RL, but never the answers: every transcript's answer
digit is drawn independently of the task's code, so the warm policy answers at chance (10%).
RL then has to teach it to read the code (from the prompt in plain mode, from the `cat` output
in sandbox mode) and copy it.

    /usr/bin/python3 -m examples.tiny.pretrain --out ckpt/warm --steps 300 --max-turns 6
"""

from __future__ import annotations

import argparse
import json
import random
from typing import Dict, List, Optional, Tuple

import torch

from sandfarm_bridge.blas import single_blas_thread

from .init import fresh
from .template import render
from .tokenizer import PIECES_FILE, TinyTokenizer


def prompts() -> Dict:
    with open(PIECES_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def observation(spec: Dict, stdout: str, remaining: int) -> str:
    return f"{spec['prompts']['observation']}{stdout}{spec['prompts']['stepsRemaining']}{remaining}]"


def transcript(spec: Dict, mode: str, code: int, answer: int, max_turns: int
               ) -> Tuple[List[Dict], Optional[List]]:
    """One episode's messages: the task with `code`, the policy answering `answer`."""
    p = spec["prompts"]
    if mode == "llm":
        user = f"{p['llm']['userBefore']}\n{code}\n{p['llm']['userAfter']}"
        reply = f"{p['boxedBefore']}{answer}{p['boxedAfter']}"
        return [{"role": "system", "content": p["llm"]["system"]}, {"role": "user", "content": user},
                {"role": "assistant", "content": reply}], None

    def call(text: str) -> Dict:
        body = json.loads(text[len("<tool_call>\n"):-len("\n</tool_call>")])
        return {"role": "assistant", "content": None, "tool_calls": [{
            "id": "c", "type": "function",
            "function": {"name": body["name"], "arguments": json.dumps(body["arguments"])}}]}

    calls = p["calls"]
    return [
        {"role": "system", "content": p["sandbox"]["system"]},
        {"role": "user", "content": p["sandbox"]["user"]},
        call(calls["read"]),
        {"role": "tool", "content": observation(spec, str(code), max_turns - 1), "tool_call_id": "c"},
        call(f"{calls['answerBefore']}{answer}{calls['answerAfter']}"),
        {"role": "tool", "content": observation(spec, "(no output)", max_turns - 2), "tool_call_id": "c"},
        call(calls["submit"]),
    ], spec["tools"]


def encode_with_mask(tokenizer: TinyTokenizer, messages: List[Dict], tools) -> Tuple[List[int], List[int]]:
    """Token ids of the conversation and a mask of 1 on the assistant turns (their text and
    <|im_end|>), as the farm's rows mask what the policy sampled."""
    ids: List[int] = []
    mask: List[int] = []
    for index, message in enumerate(messages):
        before = render(messages[:index], tools, message["role"] == "assistant") if index else ""
        after = render(messages[:index + 1], tools, False)
        if message["role"] == "assistant":
            after = after[: -len("\n")]  # the newline after <|im_end|> is the template's, not sampled
        head = tokenizer.encode(before)
        full = tokenizer.encode(after)
        if full[: len(head)] != head or head[: len(ids)] != ids:
            raise AssertionError("the template does not tokenize prefix by prefix")
        mask.extend([0] * (len(head) - len(ids)))
        mask.extend([1 if message["role"] == "assistant" else 0] * (len(full) - len(head)))
        ids = full
    return ids, mask


def batch(tokenizer: TinyTokenizer, spec: Dict, size: int, max_turns: int, rng: random.Random
          ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rows = []
    for index in range(size):
        mode = "llm" if index % 2 else "sandbox"
        messages, tools = transcript(spec, mode, rng.randrange(10), rng.randrange(10), max_turns)
        rows.append(encode_with_mask(tokenizer, messages, tools))
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((size, width), tokenizer.pad_id)
    mask = torch.zeros(size, width)
    attention = torch.zeros(size, width, dtype=torch.long)
    for row, (tokens, trained) in enumerate(rows):
        ids[row, :len(tokens)] = torch.tensor(tokens)
        mask[row, :len(trained)] = torch.tensor(trained, dtype=torch.float32)
        attention[row, :len(tokens)] = 1
    return ids, mask, attention


def pretrain(out: str, steps: int, max_turns: int, seed: int, lr: float = 3e-3, size: int = 32) -> Dict:
    tokenizer = TinyTokenizer.load()
    spec = prompts()
    model = fresh(seed)
    rng = random.Random(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_value = float("nan")
    for _ in range(steps):
        ids, mask, attention = batch(tokenizer, spec, size, max_turns, rng)
        logprobs = model.token_logprobs(ids, attention)
        loss = -(logprobs * mask[:, 1:]).sum() / mask[:, 1:].sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_value = float(loss)
    model.save(out)
    return {"out": out, "steps": steps, "loss": loss_value}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="the tiny policy's format-only warm start")
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--max-turns", type=int, default=6, help="episode.maxTurns of the runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    single_blas_thread()
    print(json.dumps(pretrain(args.out, args.steps, args.max_turns, args.seed, args.lr)), flush=True)


if __name__ == "__main__":
    main()
