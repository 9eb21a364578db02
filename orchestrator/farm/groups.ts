/**
 * One group: the G rollouts of one task admission, run as episodes under the farm's episode
 * limit, each scored as soon as it ends, then judged together (advantages, or why the group is
 * dropped or masked). Token rows are built here so the farm only decides where they go.
 *
 * @example
 * const result = await runGroup(plan, services);
 * if (result.verdict === "train") packer.add(result.rows);
 */
import type { Task } from "../../datasets/task.js";
import { type AdvantageEstimator, judgeGroup } from "../../rewards/advantages.js";
import type { RewardOutcome, Rewarder } from "../../rewards/rewarder.js";
import type { TrainingRow } from "../../trainer-bridge/training-row.js";
import type { Episode } from "../agent/episode-record.js";
import { type EpisodeOptions, type SandboxSource, runEpisode } from "../agent/episode.js";
import { requestSummary } from "../agent/request-summary.js";
import { episodeTrainingRows } from "../agent/token-rows.js";
import type { PolicyClient } from "../policy/client.js";
import type { Semaphore } from "../util/semaphore.js";
import type { RolloutSummary } from "./metrics.js";

/** Member `member` of a group is rollout `<groupId>-<member>`. */
export function rolloutIdOf(groupId: string, member: number): string {
  return `${groupId}-${member}`;
}

export interface GroupPlan {
  groupId: string;
  slot: number;
  attempt: number;
  task: Task;
  mode: "sandbox" | "llm";
  size: number;
}

export interface GroupServices {
  policy: PolicyClient;
  sandboxes?: SandboxSource;
  rewarder: Rewarder;
  episodes: Semaphore;
  estimator: AdvantageEstimator;
  episodeOptions: EpisodeOptions;
  /** Aborting ends the group's episodes with `cancelled`. */
  signal: AbortSignal;
  /** Called as each episode starts and ends (for the running gauge). */
  onEpisode?: (delta: 1 | -1) => void;
}

export interface RolloutResult {
  episode: Episode;
  outcome: RewardOutcome;
  advantage: number;
  summary: RolloutSummary;
}

export interface GroupResult {
  plan: GroupPlan;
  /** `cancelled`: the run stopped under it; it is neither trained on nor recorded. */
  verdict: "train" | "dropped_tie" | "masked_infrastructure" | "dropped_no_tokens" | "cancelled";
  rollouts: RolloutResult[];
  rows: TrainingRow[];
  /** The oldest policy version any of its tokens was sampled with (-1: no calls). */
  minVersion: number;
  /** For an infrastructure failure: what went wrong, for the halt message. */
  failure?: string;
}

function summarize(episode: Episode, reward: number, mismatches: number): RolloutSummary {
  const capabilities: RolloutSummary["capabilities"] = {};
  for (const turn of episode.turns)
    for (const capability of turn.capabilities)
      capabilities[capability] = (capabilities[capability] ?? 0) + 1;
  return {
    domain: episode.domain,
    reward,
    stopReason: episode.stopReason,
    calls: episode.calls.length,
    turns: episode.turns.filter((turn) => turn.toolCall !== undefined).length,
    promptTokens: episode.calls.reduce((sum, call) => sum + call.usage.promptTokens, 0),
    completionTokens: episode.calls.reduce((sum, call) => sum + call.usage.completionTokens, 0),
    capabilities,
    mergeMismatches: mismatches,
    requests: requestSummary([episode]),
  };
}

async function oneRollout(
  plan: GroupPlan,
  member: number,
  services: GroupServices,
): Promise<{ episode: Episode; outcome: RewardOutcome }> {
  await services.episodes.acquire();
  services.onEpisode?.(1);
  let episode: Episode;
  try {
    episode = await runEpisode(
      plan.task,
      plan.mode,
      { policy: services.policy, ...(services.sandboxes ? { sandboxes: services.sandboxes } : {}) },
      { rolloutId: rolloutIdOf(plan.groupId, member), groupId: plan.groupId },
      { ...services.episodeOptions, signal: services.signal },
    );
  } finally {
    services.onEpisode?.(-1);
    services.episodes.release();
  }
  const outcome = await services.rewarder.reward({
    task: plan.task,
    answer: episode.answer,
    mode: plan.mode,
    stopReason: episode.stopReason,
  });
  return { episode, outcome };
}

export async function runGroup(plan: GroupPlan, services: GroupServices): Promise<GroupResult> {
  const finished = await Promise.all(
    Array.from({ length: plan.size }, (_, member) => oneRollout(plan, member, services)),
  );
  const minVersion = Math.min(
    ...finished.flatMap(({ episode }) => episode.calls.map((call) => call.version)),
  );
  const base = { plan, minVersion: Number.isFinite(minVersion) ? minVersion : -1 };
  if (finished.some(({ episode }) => episode.stopReason === "cancelled"))
    return { ...base, verdict: "cancelled", rollouts: [], rows: [] };
  const judged = judgeGroup(
    finished.map(({ outcome }) => ({
      reward: outcome.reward,
      infrastructureFailure: !outcome.trainable,
    })),
    services.estimator,
  );
  const rows: TrainingRow[] = [];
  let tokensMissing = false;
  const rollouts = finished.map(({ episode, outcome }, member): RolloutResult => {
    const advantage = judged.advantages[member] ?? 0;
    let mismatches = 0;
    if (judged.verdict === "train") {
      const built = episodeTrainingRows(episode, {
        reward: outcome.reward,
        advantage,
        trainable: episode.tokenIdsAvailable,
      });
      if (built.rows.length === 0 || !episode.tokenIdsAvailable) tokensMissing = true;
      rows.push(...built.rows);
      mismatches = built.mismatches.length;
    }
    return { episode, outcome, advantage, summary: summarize(episode, outcome.reward, mismatches) };
  });
  if (judged.verdict === "masked_infrastructure") {
    const failed = finished.find(({ outcome }) => !outcome.trainable);
    const failure = failed
      ? `${failed.episode.rolloutId}: ${failed.episode.stopReason}` +
        `${failed.episode.error ? ` (${failed.episode.error})` : ""}; ${typeof failed.outcome.details.reason === "string" ? failed.outcome.details.reason : failed.outcome.status}`
      : "an infrastructure failure";
    return { ...base, verdict: "masked_infrastructure", rollouts, rows: [], failure };
  }
  if (judged.verdict === "train" && tokensMissing)
    return { ...base, verdict: "dropped_no_tokens", rollouts, rows: [] };
  return { ...base, verdict: judged.verdict, rollouts, rows };
}
