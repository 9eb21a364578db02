/**
 * The config sections that `sandfarm train` and `sandfarm eval` share (`policy`, `sandbox`,
 * `episode`, `rewards`, the scheduling priority), so one model's settings carry over from one to
 * the other. Defaults come from `defaults.ts` or stand here once; a section left out of a file
 * is parsed from `{}` (`prefault`), so its keys' defaults are never written twice.
 *
 * @example
 * const trainSchema = z.strictObject({ policy: policySchema, episode: episodeSchema, ... });
 */
import { z } from "zod";
import { BAD_ROW_POLICIES } from "../../datasets/load.js";
import { ADVANTAGE_ESTIMATORS } from "../../rewards/advantages.js";
import { modeSamplingSchema } from "./sampling.js";
import { sandboxConfigSchema } from "../sandbox/config.js";
import { EPISODE_DEFAULTS, NICE_DEFAULT, POLICY_DEFAULTS } from "./defaults.js";

export const seconds = (what: string) => z.number().positive().describe(what);
export const whole = (min: number) => z.number().int().min(min);

/** The session's scheduling priority while sandfarm runs (`raisePriority`). */
export const niceSchema = z
  .number()
  .int()
  .min(-20)
  .max(19)
  .default(NICE_DEFAULT)
  .describe(
    "Scheduling priority of sandfarm's session while it runs (root or CAP_SYS_NICE), so loaded sandboxes do not starve its event loop; 0 leaves it alone.",
  );

/** What a run does with a task row that is not valid: stop with its file:line:field, or skip it. */
export const onBadRowSchema = z
  .enum(BAD_ROW_POLICIES)
  .default("fail")
  .describe(
    "A task row that is not valid: fail (stop with its file:line:field) or skip (count it, list it in the run's report).",
  );

export const policySchema = z.strictObject({
  urls: z
    .array(z.url({ message: "give http(s)://host:port/v1" }))
    .min(1)
    .describe("vLLM replicas (OpenAI-style base URLs ending in /v1)."),
  model: z.string().min(1).describe("Served model name."),
  contextTokens: whole(16)
    .optional()
    .describe(
      "The model's context in tokens, for a server that does not report max_model_len in /v1/models; unset: the server's.",
    ),
  sampling: modeSamplingSchema
    .prefault({})
    .describe(
      "train: training rollouts' sampling, always sent in full (unset keys at the neutral temperature 1, top_p 1, top_k -1, min_p 0, no penalties) and recorded in provenance.json and each batch; eval: unset keys are not sent (the model's generation config applies). byMode overrides per mode.",
    ),
  chatTemplateKwargs: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "Sent as chat_template_kwargs with every model call, /tokenize and doctor's probe, e.g. {enable_thinking: false}.",
    ),
  requestTimeoutS: seconds("One HTTP request.").default(POLICY_DEFAULTS.requestTimeoutS),
  retries: whole(0)
    .default(POLICY_DEFAULTS.retries)
    .describe("Attempts after connection errors, 429 and 5xx."),
  cacheSaltPerVersion: z
    .boolean()
    .default(POLICY_DEFAULTS.cacheSaltPerVersion)
    .describe("Prefix-cache reuse within a policy version only."),
  pauseMode: z
    .enum(["keep", "wait", "abort"])
    .default(POLICY_DEFAULTS.pauseMode)
    .describe("How replicas pause for a weight update."),
});

export const episodeSchema = z
  .strictObject({
    maxTurns: whole(1)
      .default(EPISODE_DEFAULTS.maxTurns)
      .describe("Model calls per sandbox episode."),
    maxTokensPerCall: whole(16)
      .default(EPISODE_DEFAULTS.maxTokensPerCall)
      .describe("max_tokens of one call."),
    maxTotalTokens: whole(16)
      .default(EPISODE_DEFAULTS.maxTotalTokens)
      .describe("Prompt + completion tokens of the conversation."),
    timeoutS: seconds("Wall-clock limit of one episode.").default(EPISODE_DEFAULTS.timeoutS),
  })
  .prefault({})
  .superRefine((episode, context) => {
    if (episode.maxTokensPerCall > episode.maxTotalTokens)
      context.addIssue({
        code: "custom",
        path: ["maxTokensPerCall"],
        message: `must not exceed episode.maxTotalTokens (${episode.maxTotalTokens})`,
      });
  });

export const rewardsSchema = z
  .strictObject({
    advantage: z.enum(ADVANTAGE_ESTIMATORS).default("rloo").describe("Group advantage estimator."),
    overlongPenalty: z.boolean().default(true).describe("Episodes ending at a limit score 0."),
    judge: z
      .strictObject({ url: z.url(), model: z.string().min(1) })
      .optional()
      .describe("LLM judge for open-ended answers (key: SANDFARM_JUDGE_API_KEY)."),
  })
  .prefault({});

/** The `sandbox` section: the keys of `sandfarm sandbox` (sandbox/config.ts owns them). */
export const sandboxSectionSchema = sandboxConfigSchema
  .prefault({})
  .describe(
    "The sandboxes: the same keys as `sandfarm sandbox` (README, Configuration reference).",
  );

export type PolicySection = z.output<typeof policySchema>;
export type EpisodeSection = z.output<typeof episodeSchema>;
export type RewardsSection = z.output<typeof rewardsSchema>;
export type SandboxSection = z.output<typeof sandboxSectionSchema>;
