/**
 * The sampling parameters of a chat completion, with one set of bounds for every place that takes
 * them (the config's `policy.sampling`, the policy client, a request). A key left unset is not
 * sent, so the server's default for it applies.
 *
 * @example
 * const sampling = samplingSchema.parse({ temperature: 0.6, top_p: 0.95 });
 */
import { z } from "zod";

export const samplingSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional().describe("Sampling temperature."),
  top_p: z.number().gt(0).max(1).optional().describe("Nucleus sampling mass."),
  top_k: z.number().int().min(-1).optional().describe("Top-k; -1 turns it off."),
  seed: z.number().int().optional().describe("Sampling seed."),
  stop: z.array(z.string()).optional().describe("Stop strings."),
  extraBody: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Sent as is in the request body, e.g. {chat_template_kwargs: {...}}."),
});

export type SamplingParams = z.output<typeof samplingSchema>;
