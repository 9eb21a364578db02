/**
 * The configuration of a `sandfarm train` run: one YAML file validated here, with every option's
 * default in this schema and nowhere else. Flags override keys (`--set rollout.groupSize=8`).
 * Secrets never come from the file: the policy key is read from SANDFARM_POLICY_API_KEY, the
 * bridge token from SANDFARM_BRIDGE_TOKEN, the judge key from SANDFARM_JUDGE_API_KEY. Every error
 * names the key, the value it got and the fix; `sandfarm config schema` prints the JSON Schema
 * and `sandfarm config reference` the table in docs/config.md.
 *
 * @example
 * const config = loadFarmConfig("examples/sandbox-rl.yaml", ["rollout.groupSize=8"]);
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { ADVANTAGE_ESTIMATORS } from "../../rewards/advantages.js";
import { ConfigError } from "../../common/errors.js";
import { sandboxConfigSchema } from "../sandbox/config.js";

const seconds = (what: string) => z.number().positive().describe(what);
const whole = (min: number) => z.number().int().min(min);

/** The session's scheduling priority while sandfarm runs (`raisePriority`). */
export const niceSchema = z
  .number()
  .int()
  .min(-20)
  .max(19)
  .default(-10)
  .describe(
    "Scheduling priority of the farm's session while it runs (root or CAP_SYS_NICE), so loaded sandboxes do not starve its event loop; 0 leaves it alone.",
  );

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
  .default({ dir: "runs", mode: "sandbox", seed: 0, nice: -10 });

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
});

export const policySchema = z.strictObject({
  urls: z
    .array(z.url({ message: "give http(s)://host:port/v1" }))
    .min(1)
    .describe("vLLM replicas (OpenAI-style base URLs ending in /v1)."),
  model: z.string().min(1).describe("Served model name."),
  sampling: z
    .strictObject({
      temperature: z.number().min(0).default(1).describe("Sampling temperature."),
      top_p: z.number().gt(0).max(1).default(1).describe("Nucleus sampling mass."),
      top_k: z.number().int().optional().describe("Top-k; unset: the server's default."),
      seed: z.number().int().optional().describe("Sampling seed."),
      stop: z.array(z.string()).optional().describe("Stop strings."),
      extraBody: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("Sent as is in the request body, e.g. {chat_template_kwargs: {...}}."),
    })
    .default({ temperature: 1, top_p: 1 })
    .describe("Sampling for rollouts (extraBody: e.g. chat_template_kwargs)."),
  requestTimeoutS: seconds("One HTTP request.").default(600),
  retries: whole(0).default(5).describe("Attempts after connection errors, 429 and 5xx."),
  cacheSaltPerVersion: z
    .boolean()
    .default(true)
    .describe("Prefix-cache reuse within a policy version only."),
  pauseMode: z
    .enum(["keep", "wait", "abort"])
    .default("keep")
    .describe("How replicas pause for a weight update."),
});

export const episodeSchema = z
  .strictObject({
    maxTurns: whole(1).default(100).describe("Model calls per sandbox episode."),
    maxTokensPerCall: whole(16).default(65_536).describe("max_tokens of one call."),
    maxTotalTokens: whole(16)
      .default(65_536)
      .describe("Prompt + completion tokens of the conversation."),
    timeoutS: seconds("Wall-clock limit of one episode.").default(5_400),
  })
  .default({ maxTurns: 100, maxTokensPerCall: 65_536, maxTotalTokens: 65_536, timeoutS: 5_400 });

const rolloutSchema = z
  .strictObject({
    groupSize: whole(2).default(8).describe("G: rollouts per task admission."),
    groupsPerStep: whole(1)
      .default(8)
      .describe("Groups per training step (B = G x groupsPerStep rollouts)."),
    staleness: whole(0)
      .default(1)
      .describe(
        "S: admission stays within (S + v + 1) x B rollouts and a group older than v - S is dropped (bridge sink; files have no updates).",
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
  })
  .default({
    groupSize: 8,
    groupsPerStep: 8,
    staleness: 1,
    sandboxStarts: 4,
    warmSandboxes: 8,
    episodes: 64,
    scoring: 2,
    refillZeroVariance: false,
    maxInfraFailures: 10,
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
  .default({ advantage: "rloo", overlongPenalty: true });

const sinkSchema = z
  .strictObject({
    kind: z
      .enum(["bridge", "files"])
      .default("files")
      .describe("bridge: gRPC to a trainer; files: Arrow IPC files in RUN_DIR/batches/."),
    tokenBudget: whole(1).default(262_144).describe("Tokens per batch (groups are never split)."),
    address: z
      .string()
      .default("127.0.0.1:50051")
      .describe("Where the bridge listens (token: SANDFARM_BRIDGE_TOKEN)."),
    delivery: z.enum(["work_queue", "sharded"]).default("work_queue"),
    ackTimeoutS: seconds("Redeliver a batch not acked this long.").default(600),
    tls: z
      .strictObject({ cert: z.string(), key: z.string(), clientCa: z.string().optional() })
      .optional()
      .describe("PEM files: the bridge speaks TLS only; a client CA requires client certificates."),
    highWatermarkTokens: whole(1)
      .default(4_194_304)
      .describe("Stop admitting above this many queued tokens."),
    lowWatermarkTokens: whole(0).default(1_048_576).describe("Admit again below this many."),
  })
  .default({
    kind: "files",
    tokenBudget: 262_144,
    address: "127.0.0.1:50051",
    delivery: "work_queue",
    ackTimeoutS: 600,
    highWatermarkTokens: 4_194_304,
    lowWatermarkTokens: 1_048_576,
  });

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
  })
  .default({ everySteps: 0, modes: ["sandbox"] });

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
  .default({});

export const farmConfigSchema = z
  .strictObject({
    run: runSchema,
    data: dataSchema,
    policy: policySchema,
    sandbox: sandboxConfigSchema
      .default(sandboxConfigSchema.parse({}))
      .describe(
        "The sandboxes: the same keys as `sandfarm sandbox` (README, Configuration reference).",
      ),
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
    if (config.episode.maxTokensPerCall > config.episode.maxTotalTokens)
      context.addIssue({
        code: "custom",
        path: ["episode", "maxTokensPerCall"],
        message: `must not exceed episode.maxTotalTokens (${config.episode.maxTotalTokens})`,
      });
  });

export type FarmConfig = z.output<typeof farmConfigSchema>;

/** Keys that would hold a secret, and the variable the secret comes from instead. */
const SECRET_KEYS: Record<string, string> = {
  apiKey: "SANDFARM_POLICY_API_KEY (the policy) or SANDFARM_JUDGE_API_KEY (the judge)",
  api_key: "SANDFARM_POLICY_API_KEY (the policy) or SANDFARM_JUDGE_API_KEY (the judge)",
  token: "SANDFARM_BRIDGE_TOKEN",
  password: "an environment variable",
};

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The keys a schema object knows at `path`, for suggestions. */
function knownKeys(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = root;
  for (const key of path) {
    const shape = objectShape(schema);
    const next = shape?.[String(key)];
    if (!next) return [];
    schema = next;
  }
  return Object.keys(objectShape(schema) ?? {});
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: z.ZodType = schema;
  // Unwrap defaults, optionals and refinements down to the object.
  for (let depth = 0; depth < 5; depth++) {
    if (current instanceof z.ZodObject) return current.shape;
    const inner = (current as unknown as { def?: { innerType?: z.ZodType; in?: z.ZodType } }).def;
    const next = inner?.innerType ?? inner?.in;
    if (!next) return undefined;
    current = next;
  }
  return undefined;
}

function describeIssue(root: z.ZodType, issue: z.core.$ZodIssue, input: unknown): string[] {
  const where = (path: readonly PropertyKey[]) => path.map(String).join(".") || "(the file)";
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      const secret = SECRET_KEYS[key];
      if (secret)
        return `${where(path)}: secrets never go in the config file; set ${secret} instead`;
      const known = knownKeys(root, issue.path);
      const nearest = known
        .map((candidate) => ({
          candidate,
          score: distance(key.toLowerCase(), candidate.toLowerCase()),
        }))
        .sort((a, b) => a.score - b.score)[0];
      const hint =
        nearest && nearest.score <= Math.max(2, Math.floor(key.length / 3))
          ? `did you mean '${nearest.candidate}'?`
          : `known keys here: ${known.join(", ")}`;
      return `${where(path)}: unknown key; ${hint}`;
    });
  }
  const got = valueAt(input, issue.path);
  const shown = got === undefined ? "nothing" : JSON.stringify(got);
  return [`${where(issue.path)}: ${issue.message} (got ${shown})`];
}

/**
 * Validates a config object against `schema`; throws a `ConfigError` listing every problem, each
 * naming its key, what it got and the fix (`what` names the kind of config in the message).
 */
export function parseConfigWith<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  source: string,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(schema, issue, input));
  throw new ConfigError(`${source} is not a valid ${what}:\n  ${problems.join("\n  ")}`);
}

/** Validates a config object; throws a `ConfigError` listing every problem. */
export function parseFarmConfig(input: unknown, source = "the config"): FarmConfig {
  return parseConfigWith(farmConfigSchema, input, source, "sandfarm config");
}

/** Sets `a.b.c=value` (value read as YAML: numbers, booleans, lists) on a config object. */
export function applyOverride(config: Record<string, unknown>, assignment: string): void {
  const equals = assignment.indexOf("=");
  if (equals <= 0)
    throw new ConfigError(`--set '${assignment}': write KEY=VALUE, e.g. --set rollout.groupSize=8`);
  const path = assignment.slice(0, equals).split(".");
  const value: unknown = parseYaml(assignment.slice(equals + 1));
  let target = config;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (next === undefined || next === null) target[key] = {};
    else if (typeof next !== "object" || Array.isArray(next))
      throw new ConfigError(`--set '${assignment}': ${key} is not a section`);
    target = target[key] as Record<string, unknown>;
  }
  target[path.at(-1)!] = value;
}

/** Reads a YAML config file and applies `--set` overrides, not yet validated. */
export function readConfigFile(
  path: string,
  overrides: readonly string[] = [],
): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read the config ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let input: unknown;
  try {
    input = parseYaml(text) ?? {};
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const [line, column] = error.linePos?.[0]
        ? [error.linePos[0].line, error.linePos[0].col]
        : [0, 0];
      throw new ConfigError(
        `${path}:${line}:${column}: not valid YAML: ${error.message.split("\n")[0]}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  if (typeof input !== "object" || Array.isArray(input))
    throw new ConfigError(
      `${path}: the config must be a mapping of sections (run, data, policy, ...)`,
    );
  for (const override of overrides) applyOverride(input as Record<string, unknown>, override);
  return input as Record<string, unknown>;
}

/** Reads a YAML config file, applies `--set` overrides, validates. */
export function loadFarmConfig(path: string, overrides: readonly string[] = []): FarmConfig {
  return parseFarmConfig(readConfigFile(path, overrides), path);
}

/** The JSON Schema of the config file (for editors and validation elsewhere). */
export function farmConfigJsonSchema(): unknown {
  return z.toJSONSchema(farmConfigSchema, { io: "input", unrepresentable: "any" });
}
