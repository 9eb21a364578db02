/**
 * The configuration of a `sandfarm train` run: one YAML file validated here, with every option's
 * default in this schema, in the shared sections (`sections.ts`) or in `defaults.ts`, and nowhere
 * else. Flags override keys (`--set rollout.groupSize=8`).
 * Secrets never come from the file: the policy key is read from SANDFARM_POLICY_API_KEY, the
 * bridge token from SANDFARM_BRIDGE_TOKEN, the judge key from SANDFARM_JUDGE_API_KEY. Every error
 * names the key, the value it got and the fix; `sandfarm config schema` prints the JSON Schema
 * and `sandfarm config reference` the table in docs/config.md.
 *
 * @example
 * const config = loadFarmConfig("examples/sandbox-rl.yaml", ["rollout.groupSize=8"]);
 */
import { z } from "zod";
import { BRIDGE_DEFAULTS } from "../../trainer-bridge/defaults.js";
import { configKind } from "./parse.js";
import { modeSamplingSchema } from "./sampling.js";
import {
  episodeSchema,
  niceSchema,
  onBadRowSchema,
  policySchema,
  rewardsSchema,
  sandboxSectionSchema,
  seconds,
  whole,
} from "./sections.js";

const runSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "use only letters, digits, '.', '_' and '-' (it names files)")
      .optional()
      .describe("Run id; names the run directory and batches. Default: a timestamp."),
    dir: z.string().default("runs").describe("Parent directory of run directories."),
    mode: z
      .enum(["sandbox", "llm"])
      .default("sandbox")
      .describe("sandbox: LLM-in-Sandbox-RL episodes; llm: plain LLM-RL on the same data."),
    seed: whole(0).default(0).describe("Seed of the task shuffle."),
    steps: whole(1)
      .optional()
      .describe("Stop after this many training steps; unset: the data's epochs."),
    nice: niceSchema,
  })
  .prefault({});

const dataSchema = z.strictObject({
  train: z.array(z.string().min(1)).min(1).describe("Task files (JSONL, Parquet, Arrow IPC)."),
  validation: z.array(z.string().min(1)).default([]).describe("Validation task files."),
  mapping: z
    .record(z.string(), z.string())
    .default({})
    .describe("Column renames: task field -> file column."),
  domains: z.array(z.string()).default([]).describe("Keep only these domains; empty keeps all."),
  epochs: whole(1).default(1).describe("Passes over the training data."),
  shuffleBuffer: whole(1).default(10_000).describe("Rows in the seeded shuffle buffer."),
  onBadRow: onBadRowSchema,
});

const rolloutSchema = z
  .strictObject({
    groupSize: whole(2).default(8).describe("G: rollouts per task admission."),
    groupsPerStep: whole(1)
      .default(8)
      .describe("Groups per training step (B = G x groupsPerStep rollouts)."),
    staleness: whole(0)
      .default(1)
      .describe(
        "S: admission stays within (S + v + 1 + e) x B rollouts (e: steps that sent no batch) and a group older than v - S is dropped (bridge sink; files have no updates).",
      ),
    sandboxStarts: whole(1).default(4).describe("Sandboxes starting at once."),
    warmSandboxes: whole(0)
      .default(8)
      .describe("Sandboxes kept started ahead of need (at most `episodes`)."),
    episodes: whole(1).default(64).describe("Episodes running at once."),
    scoring: whole(1).default(2).describe("Scorer worker threads."),
    refillZeroVariance: z
      .boolean()
      .default(false)
      .describe(
        "Run a new task in the slot of a group dropped for equal rewards (4 times a slot at most).",
      ),
    maxInfraFailures: whole(1)
      .default(10)
      .describe(
        "A group hit by an infrastructure failure is retried on its task; halt after this many in a row.",
      ),
    engineLossRetries: z
      .number()
      .int()
      .min(0)
      .default(3)
      .describe(
        "Times a slot's group runs again after its sandbox engine was ejected under it before such a loss counts toward maxInfraFailures.",
      ),
  })
  .prefault({});

const sinkSchema = z
  .strictObject({
    kind: z
      .enum(["bridge", "files"])
      .default("files")
      .describe("bridge: gRPC to a trainer; files: Arrow IPC files in RUN_DIR/batches/."),
    tokenBudget: whole(1).default(262_144).describe("Tokens per batch (groups are never split)."),
    address: z
      .string()
      .default(BRIDGE_DEFAULTS.address)
      .describe("Where the bridge listens (token: SANDFARM_BRIDGE_TOKEN)."),
    delivery: z.enum(["work_queue", "sharded"]).default(BRIDGE_DEFAULTS.delivery),
    ackTimeoutS: seconds("Redeliver a batch not acked this long.").default(
      BRIDGE_DEFAULTS.ackTimeoutMs / 1000,
    ),
    tls: z
      .strictObject({ cert: z.string(), key: z.string(), clientCa: z.string().optional() })
      .optional()
      .describe("PEM files: the bridge speaks TLS only; a client CA requires client certificates."),
    highWatermarkTokens: whole(1)
      .default(4_194_304)
      .describe("Stop admitting above this many queued tokens."),
    lowWatermarkTokens: whole(0).default(1_048_576).describe("Admit again below this many."),
  })
  .prefault({});

const validationSchema = z
  .strictObject({
    everySteps: whole(0)
      .default(0)
      .describe(
        "Evaluate the validation set every N steps; 0: on each committed policy version (bridge sink).",
      ),
    modes: z
      .array(z.enum(["sandbox", "llm"]))
      .min(1)
      .default(["sandbox"]),
    sampling: modeSamplingSchema
      .prefault({})
      .describe(
        "Validation's sampling, apart from the training rollouts' (e.g. {temperature: 0} for greedy); unset keys are not sent (the model's generation config applies). byMode overrides per mode.",
      ),
  })
  .prefault({});

const metricsSchema = z
  .strictObject({
    prometheusPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe("Serve /metrics here (0: any free port)."),
  })
  .prefault({});

export const farmConfigSchema = z
  .strictObject({
    run: runSchema,
    data: dataSchema,
    policy: policySchema,
    sandbox: sandboxSectionSchema,
    episode: episodeSchema,
    rollout: rolloutSchema,
    rewards: rewardsSchema,
    sink: sinkSchema,
    validation: validationSchema,
    metrics: metricsSchema,
  })
  .superRefine((config, context) => {
    if (config.sink.lowWatermarkTokens > config.sink.highWatermarkTokens)
      context.addIssue({
        code: "custom",
        path: ["sink", "lowWatermarkTokens"],
        message: `must not exceed sink.highWatermarkTokens (${config.sink.highWatermarkTokens})`,
      });
  });

export type FarmConfig = z.output<typeof farmConfigSchema>;

const TRAIN_CONFIG = configKind(farmConfigSchema, "sandfarm config", "the config");

/** Validates a config object; throws a `ConfigError` listing every problem. */
export const parseFarmConfig = TRAIN_CONFIG.parse;

/** Reads a YAML config file, applies `--set` overrides, validates. */
export const loadFarmConfig = TRAIN_CONFIG.load;

/** The JSON Schema of the config file (for editors and validation elsewhere). */
export const farmConfigJsonSchema = TRAIN_CONFIG.jsonSchema;
