/**
 * The defaults that more than one part reads: the config schemas (and so `docs/config.md`), the
 * policy client, the episode runner and the CLI's help texts all take them from here, so they
 * cannot disagree. A default only one schema uses stays in that schema. Imports nothing.
 *
 * @example
 * const maxTurns = options.maxTurns ?? EPISODE_DEFAULTS.maxTurns;
 */

/** One episode's limits (`episode.*`). */
export const EPISODE_DEFAULTS = {
  maxTurns: 100,
  maxTokensPerCall: 65_536,
  maxTotalTokens: 65_536,
  timeoutS: 5_400,
} as const;

/** The policy client's behaviour (`policy.*`). */
export const POLICY_DEFAULTS = {
  requestTimeoutS: 600,
  retries: 5,
  cacheSaltPerVersion: true,
  pauseMode: "keep",
  backoffBaseMs: 500,
  backoffMaxMs: 20_000,
  minCompletionTokens: 32,
  probeIntervalMs: 2000,
} as const;

/**
 * Training rollouts' sampling where the config leaves a key unset: the model's own distribution
 * (no tempering, no truncation, no penalties). Sent explicitly, so a model's generation config
 * (Qwen3's temperature 0.6, top_k 20, ...) never changes what the trainer's ratio is taken against.
 */
export const NEUTRAL_SAMPLING = {
  temperature: 1,
  top_p: 1,
  top_k: -1,
  min_p: 0,
  repetition_penalty: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
} as const;

/** The session's scheduling priority while sandfarm runs (`run.nice`, eval's `nice`). */
export const NICE_DEFAULT = -10;

/**
 * The smallest served context sandfarm accepts: below it a sandbox episode's prompt (system
 * prompt, tool definitions, task) leaves no room to work. Larger limits are fitted to the server.
 */
export const MIN_CONTEXT_TOKENS = 4096;
