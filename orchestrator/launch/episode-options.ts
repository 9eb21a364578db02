/**
 * The episode runner's options from a run's `episode` section and its sampling: the one mapping
 * from config keys (seconds, sections) to `EpisodeOptions`, for training, validation and eval.
 *
 * @example
 * await runEpisode(task, "sandbox", services, identity, episodeOptionsFor(config.episode, config.policy.sampling));
 */
import type { EpisodeOptions } from "../agent/episode.js";
import type { EpisodeSection } from "../config/sections.js";
import type { SamplingParams } from "../config/sampling.js";

export function episodeOptionsFor(
  episode: EpisodeSection,
  sampling?: SamplingParams,
): EpisodeOptions {
  return {
    maxTurns: episode.maxTurns,
    maxTokensPerCall: episode.maxTokensPerCall,
    maxTotalTokens: episode.maxTotalTokens,
    timeoutMs: episode.timeoutS * 1000,
    ...(sampling ? { sampling } : {}),
  };
}
