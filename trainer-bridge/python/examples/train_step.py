"""One training step on one batch from a sandfarm farm, end to end, with a toy policy.

    SANDFARM_BRIDGE_TOKEN=... python examples/train_step.py farm-host:50051

Pulls one batch, pads it into tensors, computes the new policy's token logprobs, takes one
optimizer step on the clipped token-level policy-gradient loss, then acks the batch. A real
trainer replaces `ToyPolicy` with its model (and after some steps runs a policy update:
begin_policy_update -> move weights -> commit_policy_update). Needs pyarrow, numpy and torch.
"""

import sys

import torch

from sandfarm_bridge import BridgeClient
from sandfarm_bridge.tensors import batch_arrays, clipped_pg_loss, to_torch


class ToyPolicy(torch.nn.Module):
    def __init__(self, vocab: int, width: int = 32):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.head = torch.nn.Linear(width, vocab)

    def token_logprobs(self, input_ids: torch.Tensor) -> torch.Tensor:
        """log p(token t | tokens < t), aligned with input_ids (position 0 gets 0)."""
        logits = self.head(self.embed(input_ids[:, :-1]))
        logprobs = torch.log_softmax(logits, dim=-1)
        picked = logprobs.gather(-1, input_ids[:, 1:, None]).squeeze(-1)
        return torch.nn.functional.pad(picked, (1, 0))


def train_one_batch(client: BridgeClient, vocab: int) -> float:
    policy = ToyPolicy(vocab)
    optimizer = torch.optim.SGD(policy.parameters(), lr=0.1)
    stream = client.pull(credits=1)
    batch = next(iter(stream))
    tensors = to_torch(batch_arrays(batch.table()))
    new_logprobs = policy.token_logprobs(tensors["input_ids"].clamp(max=vocab - 1))
    loss = clipped_pg_loss(
        new_logprobs, tensors["old_logprobs"], tensors["advantages"], tensors["loss_mask"]
    )
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    batch.ack()
    stream.close()
    return float(loss)


if __name__ == "__main__":
    with BridgeClient(sys.argv[1]) as bridge:
        print(f"loss {train_one_batch(bridge, vocab=200_000):.4f}")
