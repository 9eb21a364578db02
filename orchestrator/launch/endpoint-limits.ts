/**
 * The episode's token limits fitted to the policy endpoint as it is served. vLLM reports each
 * model's context (`max_model_len` in `/v1/models`); a server that does not falls back to
 * `policy.contextTokens`, else it is the user's to say. The limits episodes run under are
 * min(configured, served): a configured value above the server's is lowered with one warning,
 * never refused, so a default 32K deployment works with no flags. `train`, `eval`, `run` and
 * `doctor` all decide through `fitToEndpoint`, so they agree.
 *
 * @example
 * const fitted = await fitToEndpoint(config.policy, config.episode);
 * for (const warning of fitted.warnings) log.warn(warning);
 * runEpisode(task, mode, services, identity, episodeOptionsFor(config.episode, { fitted }));
 */
import { ConfigError, InfrastructureError } from "../../common/errors.js";
import type { EpisodeSection } from "../config/sections.js";
import { policyApiKey } from "../policy/endpoint-env.js";
import { JsonHttp } from "../policy/http.js";
import { contextOfModel } from "../policy/model-cards.js";

export interface FittedEpisode {
  /** The limits episodes run under. */
  episode: EpisodeSection;
  /** The model's context: the smallest any replica serves. */
  contextTokens: number;
  /** Where the context came from. */
  contextSource: "server" | "policy.contextTokens";
  /** One line per configured limit that was lowered. */
  warnings: string[];
}

export interface EndpointPolicy {
  urls: readonly string[];
  model: string;
  /** The context to assume when a server does not report one. */
  contextTokens?: number | undefined;
  apiKey?: string;
}

/** The served context of `model` on one replica, or undefined when the server omits it. */
async function replicaContext(
  http: JsonHttp,
  url: string,
  model: string,
): Promise<number | undefined> {
  let body: unknown;
  try {
    body = await http.request("GET", `${url}/models`, undefined, { timeoutMs: 10_000 });
  } catch (error) {
    throw new ModelsUnreadable(url, error);
  }
  const cards = (
    body as { data?: { id?: unknown; parent?: unknown; max_model_len?: unknown }[] } | undefined
  )?.data;
  const card = Array.isArray(cards) ? cards.find((entry) => entry.id === model) : undefined;
  if (!card) {
    const served = Array.isArray(cards) ? cards.map((entry) => String(entry.id)).join(", ") : "";
    throw new ConfigError(
      `${url} does not serve the model '${model}' (served: ${served || "none"}); give one of those`,
    );
  }
  return contextOfModel(cards!, model);
}

/** `/v1/models` did not answer: the server's fault, unless a configured context makes it moot. */
class ModelsUnreadable extends InfrastructureError {
  constructor(url: string, cause: unknown) {
    super(
      `cannot read the served context from ${url}/models (${(cause as Error).message}); ` +
        "start the server and check --policy-url, or set policy.contextTokens",
      { cause },
    );
  }
}

/** The smallest context the replicas serve, or the configured fallback. */
export async function servedContext(
  policy: EndpointPolicy,
): Promise<{ tokens: number; source: FittedEpisode["contextSource"] }> {
  const http = new JsonHttp({
    authorization: `Bearer ${policy.apiKey ?? policyApiKey().value}`,
  });
  try {
    let contexts: (number | undefined)[];
    try {
      contexts = await Promise.all(
        policy.urls.map((url) => replicaContext(http, url, policy.model)),
      );
    } catch (error) {
      // A server without a readable /models still works when the context is configured.
      if (error instanceof ModelsUnreadable && policy.contextTokens !== undefined)
        return { tokens: policy.contextTokens, source: "policy.contextTokens" };
      throw error;
    }
    const known = contexts.filter((tokens): tokens is number => tokens !== undefined);
    if (known.length === contexts.length) return { tokens: Math.min(...known), source: "server" };
    if (policy.contextTokens !== undefined)
      return { tokens: policy.contextTokens, source: "policy.contextTokens" };
    throw new ConfigError(
      `the policy server does not report its context length (max_model_len in /v1/models): ` +
        "set policy.contextTokens (or --context-tokens) to the model's context in tokens",
    );
  } finally {
    http.close();
  }
}

/** The configured limits lowered to fit `contextTokens`; pure, for the callers that know it. */
export function fitEpisode(
  episode: EpisodeSection,
  contextTokens: number,
): { episode: EpisodeSection; warnings: string[] } {
  const warnings: string[] = [];
  const maxTotalTokens = Math.min(episode.maxTotalTokens, contextTokens);
  if (maxTotalTokens < episode.maxTotalTokens)
    warnings.push(
      `episode.maxTotalTokens ${episode.maxTotalTokens} is above the model's context of ` +
        `${contextTokens} tokens; episodes use ${maxTotalTokens}`,
    );
  const maxTokensPerCall = Math.min(episode.maxTokensPerCall, maxTotalTokens);
  if (maxTokensPerCall < episode.maxTokensPerCall)
    warnings.push(
      `episode.maxTokensPerCall ${episode.maxTokensPerCall} is above that; calls use at most ${maxTokensPerCall}`,
    );
  return { episode: { ...episode, maxTotalTokens, maxTokensPerCall }, warnings };
}

/** Reads the served context and fits the configured limits to it. */
export async function fitToEndpoint(
  policy: EndpointPolicy,
  episode: EpisodeSection,
): Promise<FittedEpisode> {
  const context = await servedContext(policy);
  const fitted = fitEpisode(episode, context.tokens);
  return { ...fitted, contextTokens: context.tokens, contextSource: context.source };
}
