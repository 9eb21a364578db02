/**
 * The configuration of a `sandfarm eval` run: a YAML file (or only flags) validated here, with
 * every default in this schema. The policy, sandbox, episode and rewards sections are the same
 * keys as a training config's (`sections.ts`), so one model's settings carry
 * over; flags override keys. Secrets come from the environment only, as for training.
 *
 * @example
 * const config = loadEvalConfig("examples/eval.yaml", ["repeats=4"]);
 * const same = parseEvalConfig({ tasks: ["datasets/samples/math.jsonl"], policy: { urls: [url], model } });
 */
import { z } from "zod";
import { configKind } from "./parse.js";
import {
  episodeSchema,
  niceSchema,
  onBadRowSchema,
  policySchema,
  rewardsSchema,
  sandboxSectionSchema,
} from "./sections.js";

export const EVAL_MODES = ["sandbox", "llm", "both"] as const;

export const evalConfigSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "use only letters, digits, '.', '_' and '-' (it names files)")
    .optional()
    .describe("Run id; names the run directory under `dir`. Default: eval-<timestamp>."),
  dir: z.string().default("runs").describe("Parent directory of run directories."),
  outputDir: z.string().optional().describe("The run directory itself (overrides `dir` and `id`)."),
  tasks: z
    .array(z.string().min(1))
    .min(1, "give at least one task file (JSONL, Parquet, Arrow IPC)")
    .describe("Task files (JSONL, Parquet, Arrow IPC)."),
  mapping: z
    .record(z.string(), z.string())
    .default({})
    .describe("Column renames: task field -> file column."),
  domains: z.array(z.string()).default([]).describe("Keep only these domains; empty keeps all."),
  onBadRow: onBadRowSchema,
  limit: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("At most this many tasks per domain (the first ones in file order)."),
  mode: z.enum(EVAL_MODES).default("both").describe("sandbox, llm, or both (the comparison)."),
  repeats: z.number().int().min(1).default(1).describe("Rollouts per task and mode (pass@k)."),
  repeatsByDomain: z
    .record(z.string(), z.number().int().min(1))
    .default({})
    .describe("Per-domain repeats, e.g. {math: 16, long_context: 4} as the paper evaluates."),
  concurrency: z.number().int().min(1).default(8).describe("Episodes running at once."),
  sandboxStarts: z.number().int().min(1).default(4).describe("Sandboxes starting at once."),
  engineLossRetries: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe(
      "Times a rollout whose sandbox engine was ejected under it runs again, on another engine, before it counts as failed.",
    ),
  scoring: z.number().int().min(1).default(2).describe("Scorer worker threads."),
  notes: z
    .array(z.string())
    .default([])
    .describe("Shown at the top of the report, e.g. what the policy was (`--note`)."),
  nice: niceSchema.describe(
    "Scheduling priority of sandfarm's session while it runs (as `run.nice` in training).",
  ),
  policy: policySchema,
  sandbox: sandboxSectionSchema,
  episode: episodeSchema,
  rewards: rewardsSchema,
});

export type EvalConfig = z.output<typeof evalConfigSchema>;

const EVAL_CONFIG = configKind(evalConfigSchema, "sandfarm eval config", "the eval config");

/** Validates a config object; throws a `ConfigError` listing every problem. */
export const parseEvalConfig = EVAL_CONFIG.parse;

/** Reads a YAML config file, applies `--set` overrides, validates. */
export const loadEvalConfig = EVAL_CONFIG.load;

/** The JSON Schema of the config file (for editors and validation elsewhere). */
export const evalConfigJsonSchema = EVAL_CONFIG.jsonSchema;

/** The modes a config runs, in report order. */
export function modesOf(config: Pick<EvalConfig, "mode">): ("sandbox" | "llm")[] {
  return config.mode === "both" ? ["sandbox", "llm"] : [config.mode];
}
