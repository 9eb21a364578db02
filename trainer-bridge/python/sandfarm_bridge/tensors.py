"""Turning a batch into padded training tensors, and the clipped policy-gradient loss.

    arrays = batch_arrays(batch.table(), pad_token_id=tokenizer.pad_token_id)  # numpy
    arrays = batch_arrays(read_batch(batch.data), pad_token_id=...)  # the same, without pyarrow
    tensors = to_torch(arrays, device="cuda")
    loss = clipped_pg_loss(new_logprobs, tensors["old_logprobs"], tensors["advantages"],
                           tensors["loss_mask"])

`pad_ragged` and `batch_arrays` need numpy (and pyarrow for a table; a batch decoded by
`sandfarm_bridge.ipc.read_batch` needs none); `to_torch` and `clipped_pg_loss` need torch.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

# Arrow list column -> (array name, dtype, padding value; None means the pad_token_id).
_TOKEN_COLUMNS = {
    "token_ids": ("input_ids", np.int64, None),
    "loss_mask": ("loss_mask", np.float32, 0),
    "logprobs": ("old_logprobs", np.float32, 0),
    "versions": ("versions", np.int64, -1),
}


def pad_ragged(values: np.ndarray, offsets: np.ndarray, pad_value, dtype) -> np.ndarray:
    """Rows `values[offsets[i]:offsets[i+1]]`, right-padded with `pad_value` to the longest.

    Vectorised: one scatter, no per-row Python loop.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    rows = len(lengths)
    width = int(lengths.max()) if rows else 0
    out = np.full((rows, width), pad_value, dtype=dtype)
    if rows == 0 or width == 0:
        return out
    row_of = np.repeat(np.arange(rows), lengths)
    column_of = np.arange(len(row_of)) - np.repeat(offsets[:-1] - offsets[0], lengths)
    out[row_of, column_of] = np.asarray(values)[offsets[0] : offsets[-1]]
    return out


def batch_arrays(table, pad_token_id: Optional[int] = 0) -> Dict[str, np.ndarray]:
    """Padded numpy arrays of a batch: a pyarrow.Table, or a `DecodedBatch` of
    `sandfarm_bridge.ipc.read_batch` (numpy only, no pyarrow).

    input_ids, loss_mask, old_logprobs, versions: [rows, longest row]; attention_mask: 1 on real
    tokens; advantages, rewards: [rows]; trainable: [rows] bool. Rows that are not trainable keep
    their tokens but get a zero loss mask. A pad_token_id of None (tokenizers without one) pads
    with 0: padded positions are masked out either way.
    """
    from .ipc import DecodedBatch

    if isinstance(table, DecodedBatch):
        return batch_arrays_from_decoded(table, pad_token_id)
    table = table.combine_chunks()
    lists = {}
    for column in _TOKEN_COLUMNS:
        array = table.column(column).chunk(0)
        lists[column] = (array.values.to_numpy(zero_copy_only=False), array.offsets.to_numpy())
    return _padded(
        lists,
        advantage=table.column("advantage").to_numpy(),
        reward=table.column("reward").to_numpy(),
        trainable=table.column("trainable").to_numpy(zero_copy_only=False),
        pad_token_id=pad_token_id,
    )


def batch_arrays_from_decoded(decoded, pad_token_id: Optional[int] = 0) -> Dict[str, np.ndarray]:
    """`batch_arrays` of a `sandfarm_bridge.ipc.DecodedBatch`: the same arrays, without pyarrow."""
    columns = decoded.columns
    return _padded(
        {name: (columns[name].values, columns[name].offsets) for name in _TOKEN_COLUMNS},
        advantage=columns["advantage"],
        reward=columns["reward"],
        trainable=columns["trainable"],
        pad_token_id=pad_token_id,
    )


def _padded(lists, advantage, reward, trainable, pad_token_id) -> Dict[str, np.ndarray]:
    """The arrays of `batch_arrays` from each list column's (values, offsets) and the per-row
    columns."""
    if pad_token_id is None:
        pad_token_id = 0
    arrays: Dict[str, np.ndarray] = {}
    for column, (name, dtype, pad) in _TOKEN_COLUMNS.items():
        values, offsets = lists[column]
        arrays[name] = pad_ragged(values, offsets, pad_token_id if pad is None else pad, dtype)
    lengths = np.diff(np.asarray(lists["token_ids"][1], dtype=np.int64))
    arrays["attention_mask"] = (
        np.arange(arrays["input_ids"].shape[1])[None, :] < lengths[:, None]
    ).astype(np.int64)
    arrays["advantages"] = np.asarray(advantage).astype(np.float32)
    arrays["rewards"] = np.asarray(reward).astype(np.float32)
    trainable = np.asarray(trainable).astype(bool)
    arrays["trainable"] = trainable
    arrays["loss_mask"] = arrays["loss_mask"] * trainable[:, None].astype(np.float32)
    return arrays


def to_torch(arrays: Dict[str, np.ndarray], device=None):
    """The arrays as torch tensors on `device`."""
    import torch

    return {name: torch.from_numpy(np.ascontiguousarray(a)).to(device) for name, a in arrays.items()}


def clipped_pg_loss(new_logprobs, old_logprobs, advantages, loss_mask, clip_low=0.2, clip_high=0.2):
    """Token-level clipped policy-gradient loss (PPO/GRPO-style surrogate), averaged over the
    trained tokens of the batch.

    new_logprobs, old_logprobs, loss_mask: [rows, tokens], aligned with input_ids (the logprob
    of token t given tokens < t). advantages: [rows], one per rollout row.
    """
    import torch

    ratio = torch.exp(new_logprobs - old_logprobs)
    advantage = advantages[:, None]
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high) * advantage
    per_token = -torch.minimum(unclipped, clipped)
    return (per_token * loss_mask).sum() / loss_mask.sum().clamp(min=1.0)
