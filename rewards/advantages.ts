/**
 * Group advantages for outcome rewards, and the filtering that keeps bad groups out of training.
 * - `grpo`: (r - mean) / (std + eps), std with Bessel's correction (n - 1), as verl computes it;
 * - `dr_grpo`: r - mean (no std: Dr. GRPO's fix for the difficulty bias);
 * - `rloo`: r - mean of the other members (leave-one-out; the paper's choice).
 * A group whose rewards all tie carries no signal and is dropped; a group with a member that
 * failed for infrastructure reasons is masked, never trained on.
 */
export const ADVANTAGE_ESTIMATORS = ["grpo", "dr_grpo", "rloo"] as const;
export type AdvantageEstimator = (typeof ADVANTAGE_ESTIMATORS)[number];

export function computeAdvantages(
  rewards: readonly number[],
  estimator: AdvantageEstimator,
  epsilon = 1e-6,
): number[] {
  const n = rewards.length;
  if (n === 0) return [];
  const sum = rewards.reduce((total, reward) => total + reward, 0);
  const mean = sum / n;
  switch (estimator) {
    case "dr_grpo":
      return rewards.map((reward) => reward - mean);
    case "grpo": {
      if (n < 2) return [0];
      const variance = rewards.reduce((total, reward) => total + (reward - mean) ** 2, 0) / (n - 1);
      const std = Math.sqrt(variance);
      return rewards.map((reward) => (reward - mean) / (std + epsilon));
    }
    case "rloo":
      if (n < 2) return [0];
      return rewards.map((reward) => reward - (sum - reward) / (n - 1));
  }
}

export interface GroupMember {
  reward: number;
  /** The rollout failed for infrastructure reasons (policy_error, sandbox_error). */
  infrastructureFailure?: boolean;
}

export type GroupVerdict = "train" | "dropped_tie" | "masked_infrastructure";

export interface GroupOutcome {
  verdict: GroupVerdict;
  /** One per member; all 0 unless the verdict is `train`. */
  advantages: number[];
}

/** Decides whether a group is trained on and with which advantages. */
export function judgeGroup(
  members: readonly GroupMember[],
  estimator: AdvantageEstimator,
  epsilon = 1e-6,
): GroupOutcome {
  const zeros = members.map(() => 0);
  if (members.some((member) => member.infrastructureFailure)) {
    return { verdict: "masked_infrastructure", advantages: zeros };
  }
  const rewards = members.map((member) => member.reward);
  if (rewards.every((reward) => reward === rewards[0]))
    return { verdict: "dropped_tie", advantages: zeros };
  return { verdict: "train", advantages: computeAdvantages(rewards, estimator, epsilon) };
}
