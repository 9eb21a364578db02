"""The reference trainer's policy-gradient loss over a batch of sandfarm rows.

Per trained token t of a rollout with advantage A:
    ratio    r = exp(logp_new - logp_old)             (logp_old: the trainer's own logprob under the
                                                       weights of the version that sampled t)
    clipped    -min(r A, clip(r, 1 - clip_low, 1 + clip_high) A)
    TIS      w = min(exp(logp_old - logp_rollout), tis_cap), no gradient: corrects for the
               sampler-trainer mismatch (the rows' logprobs are the inference engine's)
    token loss = w * clipped  (+ kl_coef * KL(new || reference), k3 estimator, when given)

Aggregation counts a rollout once whatever number of rows merge mismatches split it into (rows
of one rollout share its id and advantage):
    token-mean           sum over all trained tokens / number of trained tokens
    seq-mean-token-sum   mean over rollouts of the sum over the rollout's tokens (Dr. GRPO
                         divides by a constant: pass `token_sum_norm`)
    seq-mean-token-mean  mean over rollouts of the mean over the rollout's tokens

    loss, metrics = policy_loss(new, old, rollout_lp, advantages, mask, rollout_index, config)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch

AGGREGATIONS = ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean")


@dataclass
class LossConfig:
    clip_low: float = 0.2
    clip_high: float = 0.28
    tis_cap: float = 2.0
    aggregation: str = "token-mean"
    kl_coef: float = 0.0
    token_sum_norm: Optional[float] = None  # seq-mean-token-sum: divide by this, not by 1

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation {self.aggregation!r}: use one of {', '.join(AGGREGATIONS)}")


def _per_rollout(values: torch.Tensor, mask: torch.Tensor, rollout_index: torch.Tensor,
                 rollouts: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sums of `values * mask` and of `mask`, per rollout (rows of a rollout added together)."""
    sums = torch.zeros(rollouts, dtype=values.dtype).index_add(0, rollout_index, (values * mask).sum(1))
    counts = torch.zeros(rollouts, dtype=values.dtype).index_add(0, rollout_index, mask.sum(1))
    return sums, counts


def aggregate(token_loss: torch.Tensor, mask: torch.Tensor, rollout_index: torch.Tensor,
              config: LossConfig) -> torch.Tensor:
    if config.aggregation == "token-mean":
        return (token_loss * mask).sum() / mask.sum().clamp(min=1)
    rollouts = int(rollout_index.max()) + 1 if rollout_index.numel() else 0
    sums, counts = _per_rollout(token_loss, mask, rollout_index, rollouts)
    present = counts > 0
    if not bool(present.any()):
        return token_loss.sum() * 0
    if config.aggregation == "seq-mean-token-sum":
        per = sums[present] / (config.token_sum_norm or 1.0)
    else:
        per = sums[present] / counts[present]
    return per.mean()


def policy_loss(new: torch.Tensor, old: torch.Tensor, rollout_lp: torch.Tensor,
                advantages: torch.Tensor, mask: torch.Tensor, rollout_index: torch.Tensor,
                config: LossConfig, reference: Optional[torch.Tensor] = None,
                entropy: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, float]]:
    """new, old, rollout_lp, mask, reference, entropy: [rows, tokens]; advantages: [rows];
    rollout_index: [rows], the row's rollout as 0..R-1. Returns the loss and its metrics."""
    mask = mask.float()
    old = old.detach()
    advantage = advantages.float().unsqueeze(1)
    ratio = torch.exp(new - old)
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1 - config.clip_low, 1 + config.clip_high) * advantage
    surrogate = -torch.minimum(unclipped, clipped)
    tis = torch.exp(old - rollout_lp).clamp(max=config.tis_cap).detach()
    token_loss = tis * surrogate
    kl_ref = None
    if reference is not None and config.kl_coef:
        delta = reference.detach() - new
        kl_ref = torch.exp(delta) - delta - 1  # k3: unbiased, non-negative
        token_loss = token_loss + config.kl_coef * kl_ref
    loss = aggregate(token_loss, mask, rollout_index, config)
    with torch.no_grad():
        n = mask.sum().clamp(min=1)
        mismatch = (old - rollout_lp).abs() * mask
        log_ratio = rollout_lp - new  # the sampler's logprob against the new policy's
        metrics = {
            "loss": float(loss),
            "clip_fraction": float(
                ((ratio < 1 - config.clip_low) | (ratio > 1 + config.clip_high)).float().mul(mask).sum() / n
            ),
            "kl_sampler": float(((torch.exp(-log_ratio) - 1 + log_ratio) * mask).sum() / n),
            "logprob_abs_diff_max": float(mismatch.max()) if mask.any() else 0.0,
            "logprob_abs_diff_mean": float(mismatch.sum() / n),
            "tis_mean": float((tis * mask).sum() / n),
            "ratio_mean": float((ratio * mask).sum() / n),
            "trained_tokens": float(mask.sum()),
        }
        if kl_ref is not None:
            metrics["kl_reference"] = float((kl_ref * mask).sum() / n)
        if entropy is not None:
            metrics["entropy"] = float((entropy * mask).sum() / n)
    return loss, metrics
