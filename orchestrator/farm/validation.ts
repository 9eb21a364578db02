/**
 * Validation during training: each validation task once per configured mode, under the farm's
 * episode limit, scored by the same rewarder; the mean score overall and per domain. Runs beside
 * the training groups, so a slow validation set never stalls rollouts. A rollout that failed for
 * infrastructure reasons (policy or sandbox error, judge unavailable) is counted as `failed`
 * and left out of the score: an outage is not the model's 0.
 *
 * @example
 * const report = await evaluateTasks(tasks, ["sandbox", "llm"], services);
 * report.scores.sandbox.domains.math.score;
 */
import type { Task } from "../../datasets/task.js";
import type { Rewarder } from "../../rewards/rewarder.js";
import { type EpisodeOptions, type SandboxSource, runEpisode } from "../agent/episode.js";
import type { PolicyClient } from "../policy/client.js";
import type { Semaphore } from "../util/semaphore.js";

export interface ValidationServices {
  policy: PolicyClient;
  sandboxes?: SandboxSource;
  rewarder: Rewarder;
  episodes: Semaphore;
  /** Per mode: validation's sampling may differ by mode. */
  episodeOptions: (mode: "sandbox" | "llm") => EpisodeOptions;
  signal: AbortSignal;
  runId: string;
  /** Names the rollouts, e.g. `v2-step10`. */
  label: string;
}

export interface ModeScores {
  score: number;
  n: number;
  /** Rollouts that ended in an infrastructure failure: not scored, left out of `n`. */
  failed: number;
  domains: Record<string, { score: number; n: number }>;
}

export interface ValidationReport {
  /** The run stopped under it; the scores are incomplete and not reported. */
  cancelled: boolean;
  scores: Partial<Record<"sandbox" | "llm", ModeScores>>;
  step?: number;
  version?: number;
}

export async function evaluateTasks(
  tasks: readonly Task[],
  modes: readonly ("sandbox" | "llm")[],
  services: ValidationServices,
): Promise<ValidationReport> {
  const scores: ValidationReport["scores"] = {};
  let cancelled = false;
  for (const mode of modes) {
    const results = await Promise.all(
      tasks.map(async (task, index) => {
        await services.episodes.acquire();
        try {
          const episode = await runEpisode(
            task,
            mode,
            {
              policy: services.policy,
              ...(services.sandboxes ? { sandboxes: services.sandboxes } : {}),
            },
            {
              rolloutId: `${services.runId}-val-${services.label}-${mode}-${index}`,
              groupId: `${services.runId}-val-${services.label}-${mode}`,
            },
            { ...services.episodeOptions(mode), signal: services.signal },
          );
          if (episode.stopReason === "cancelled") cancelled = true;
          const outcome = await services.rewarder.reward({
            task,
            answer: episode.answer,
            mode,
            stopReason: episode.stopReason,
          });
          return { domain: task.domain, reward: outcome.reward, failed: !outcome.trainable };
        } finally {
          services.episodes.release();
        }
      }),
    );
    const scored = results.filter((result) => !result.failed);
    const domains: ModeScores["domains"] = {};
    for (const { domain, reward } of scored) {
      const entry = (domains[domain] ??= { score: 0, n: 0 });
      entry.score += reward;
      entry.n++;
    }
    for (const entry of Object.values(domains)) entry.score /= entry.n;
    const total = scored.reduce((sum, result) => sum + result.reward, 0);
    scores[mode] = {
      score: scored.length ? total / scored.length : 0,
      n: scored.length,
      failed: results.length - scored.length,
      domains,
    };
  }
  return { cancelled, scores };
}
