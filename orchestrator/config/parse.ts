/**
 * Validating a config object against its schema, with messages a user can act on: every problem
 * at once, each naming its key, the value it got and the fix; a misspelt key gets the nearest
 * known one, a secret gets the environment variable it belongs in.
 *
 * @example
 * const config = parseConfigWith(trainConfigSchema, input, "run.yaml", "sandfarm config");
 */
import { z } from "zod";
import { ConfigError } from "../../common/errors.js";
import { readConfigFile } from "./read.js";

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

/**
 * The default a schema gives an absent value (through optional and pipe wrappers), so a flag's
 * help text can show the schema's own default instead of restating it.
 */
export function defaultOf(schema: z.ZodType): unknown {
  return defaultIn(schema, 0);
}

interface Wrapped {
  def: { type: string; defaultValue?: unknown; innerType?: Wrapped; in?: Wrapped };
}

function defaultIn(schema: Wrapped | undefined, depth: number): unknown {
  if (!schema || depth > 5) return undefined;
  const { type, defaultValue, innerType, in: inner } = schema.def;
  if (type === "default" || type === "prefault") return defaultValue;
  return defaultIn(innerType ?? inner, depth + 1);
}

/** A kind of config file: validating an object, loading a YAML file with `--set`, its JSON Schema. */
export interface ConfigKind<Config> {
  parse: (input: unknown, source?: string) => Config;
  load: (path: string, overrides?: readonly string[]) => Config;
  jsonSchema: () => unknown;
}

/** The three operations of a config kind, from its schema and its name in messages. */
export function configKind<Schema extends z.ZodType>(
  schema: Schema,
  what: string,
  defaultSource: string,
): ConfigKind<z.output<Schema>> {
  const parse = (input: unknown, source = defaultSource) =>
    parseConfigWith(schema, input, source, what);
  return {
    parse,
    load: (path, overrides = []) => parse(readConfigFile(path, overrides), path),
    jsonSchema: () => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }),
  };
}
