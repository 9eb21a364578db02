/**
 * The episode runner's options from a run's `episode` section: the one mapping from config keys
 * (seconds, sections) to `EpisodeOptions`, for training, validation, eval and `run`. Given the
 * endpoint's fit (`endpoint-limits.ts`), the limits are the fitted ones and each call's prompt is
 * measured against the served context.
 *
 * @example
 * const fitted = await fitToEndpoint(config.policy, config.episode);
 * await runEpisode(task, "sandbox", services, identity, episodeOptionsFor(config.episode, { fitted }));
 */
import type { EpisodeOptions } from "../agent/episode.js";
import type { SamplingParams } from "../config/sampling.js";
import type { EpisodeSection } from "../config/sections.js";
import type { FittedEpisode } from "./endpoint-limits.js";

export function episodeOptionsFor(
  episode: EpisodeSection,
  extra: {
    sampling?: SamplingParams;
    fitted?: Pick<FittedEpisode, "episode" | "contextTokens">;
  } = {},
): EpisodeOptions {
  const limits = extra.fitted?.episode ?? episode;
  return {
    maxTurns: limits.maxTurns,
    maxTokensPerCall: limits.maxTokensPerCall,
    maxTotalTokens: limits.maxTotalTokens,
    timeoutMs: limits.timeoutS * 1000,
    ...(extra.fitted ? { contextTokens: extra.fitted.contextTokens } : {}),
    ...(extra.sampling ? { sampling: extra.sampling } : {}),
  };
}
