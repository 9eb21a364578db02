/**
 * The sampling parameters of a chat completion, with one set of bounds for every place that takes
 * them (the config's sampling blocks, the policy client, a request), and the two ways sandfarm
 * sends them:
 * - evaluation and validation (`evalSampling`): a key left unset is not sent, so the model's own
 *   generation config (vLLM's `--generation-config auto`) applies, as users expect;
 * - training rollouts (`rolloutSampling`): every key that shapes the sampled distribution is
 *   sent, unset ones at their neutral value (`NEUTRAL_SAMPLING`), because the trainer's
 *   importance ratio must be taken against the distribution that was really sampled, and vLLM
 *   returns the raw model's logprobs, not those of the tempered or truncated distribution.
 * A block may differ per mode (`byMode: {sandbox: {...}, llm: {...}}`, key by key over the block).
 * The chat template's switches (`enable_thinking`) are `policy.chatTemplateKwargs`, not sampling.
 *
 * @example
 * const block = modeSamplingSchema.parse({ temperature: 0, byMode: { llm: { temperature: 0.6 } } });
 * evalSampling(block, "llm"); // { temperature: 0.6 }
 * rolloutSampling({}, "sandbox"); // { temperature: 1, top_p: 1, top_k: -1, min_p: 0, ... }
 */
import { z } from "zod";
import { NEUTRAL_SAMPLING } from "./defaults.js";

export const samplingSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional().describe("Sampling temperature."),
  top_p: z.number().gt(0).max(1).optional().describe("Nucleus sampling mass."),
  top_k: z.number().int().min(-1).optional().describe("Top-k; -1 (or 0) turns it off."),
  min_p: z.number().min(0).max(1).optional().describe("Min-p; 0 turns it off."),
  repetition_penalty: z.number().gt(0).optional().describe("Repetition penalty; 1 turns it off."),
  presence_penalty: z.number().min(-2).max(2).optional().describe("Presence penalty."),
  frequency_penalty: z.number().min(-2).max(2).optional().describe("Frequency penalty."),
  seed: z.number().int().optional().describe("Sampling seed."),
  stop: z.array(z.string()).optional().describe("Stop strings."),
  extraBody: z
    .record(z.string(), z.unknown())
    .optional()
    .refine((body) => body?.chat_template_kwargs === undefined, {
      message:
        "chat_template_kwargs has its own key: set policy.chatTemplateKwargs (every command, /tokenize and doctor's probe send it)",
    })
    .describe("Sent as is in the request body (vLLM's extra sampling fields)."),
});

export type SamplingParams = z.output<typeof samplingSchema>;

export const SAMPLING_MODES = ["sandbox", "llm"] as const;
export type SamplingMode = (typeof SAMPLING_MODES)[number];

/** A config's sampling block: the keys above, optionally overridden per mode. */
export const modeSamplingSchema = samplingSchema.extend({
  byMode: z
    .strictObject({ sandbox: samplingSchema.optional(), llm: samplingSchema.optional() })
    .optional()
    .describe("Per-mode overrides, key by key, e.g. {llm: {temperature: 0.6}}."),
});

export type ModeSampling = z.output<typeof modeSamplingSchema>;

/**
 * Evaluation and validation: the block as it applies to one mode (the mode's keys over the
 * block's), and only what the config sets is sent.
 */
export function evalSampling(block: ModeSampling, mode: SamplingMode): SamplingParams {
  const { byMode, ...base } = block;
  const own = byMode?.[mode] ?? {};
  const extraBody =
    base.extraBody || own.extraBody ? { ...base.extraBody, ...own.extraBody } : undefined;
  return { ...base, ...own, ...(extraBody ? { extraBody } : {}) };
}

/** Training rollouts: every distribution-shaping key sent, unset ones at their neutral value. */
export function rolloutSampling(block: ModeSampling, mode: SamplingMode): SamplingParams {
  return { ...NEUTRAL_SAMPLING, ...evalSampling(block, mode) };
}
