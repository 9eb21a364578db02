/**
 * The configuration reference as markdown, generated from the schema so that docs/config.md
 * can never drift from it (a test compares them).
 *
 * @example
 * writeFileSync("docs/config.md", configReference());
 */
import { evalConfigJsonSchema } from "./eval.js";
import { farmConfigJsonSchema } from "./train.js";

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  required?: string[];
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(" \\| ");
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" or ");
  if (schema.type === "array") return `list of ${schema.items ? typeOf(schema.items) : "values"}`;
  const base = Array.isArray(schema.type) ? schema.type.join(" or ") : (schema.type ?? "any");
  // Zod states the safe-integer range on every integer; only real bounds are worth printing.
  const real = (bound: number | undefined) =>
    bound !== undefined && Math.abs(bound) < Number.MAX_SAFE_INTEGER ? bound : undefined;
  const bounds = [
    real(schema.minimum) !== undefined ? `>= ${schema.minimum}` : undefined,
    real(schema.exclusiveMinimum) !== undefined ? `> ${schema.exclusiveMinimum}` : undefined,
    real(schema.maximum) !== undefined ? `<= ${schema.maximum}` : undefined,
  ].filter(Boolean);
  return bounds.length > 0 ? `${base} ${bounds.join(", ")}` : base;
}

/** Sections whose keys repeat the enclosing section's: one row, not a copy of every key. */
const REPEATING_SECTIONS = new Set(["byMode"]);

function rows(schema: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const inner = field.anyOf?.find((option) => option.properties) ?? field;
    if (inner.properties && inner.type === "object" && !REPEATING_SECTIONS.has(key)) {
      if (field.description) out.push(`| \`${path}\` | section | | ${field.description} |`);
      rows(inner, path, out);
      continue;
    }
    const required = schema.required?.includes(key) && field.default === undefined;
    const fallback = required
      ? "**required**"
      : field.default === undefined
        ? "unset"
        : `\`${JSON.stringify(field.default)}\``;
    out.push(
      `| \`${path}\` | ${typeOf(field)} | ${fallback} | ${(field.description ?? "").replaceAll("|", "\\|")} |`,
    );
  }
}

export function configReference(): string {
  const out = [
    "# Configuration reference",
    "",
    "Generated from the schema by `sandfarm config reference` (a test fails when this file is",
    "stale). One YAML file, validated when the run starts; `--set KEY=VALUE` overrides a key.",
    "Secrets never go in the file: `SANDFARM_POLICY_API_KEY`, `SANDFARM_BRIDGE_TOKEN` and",
    "`SANDFARM_JUDGE_API_KEY` come from the environment. `sandfarm config schema` prints the JSON",
    "Schema; `sandfarm config check FILE` validates a file and prints it with every default filled.",
    "",
    "## `sandfarm train`",
    "",
    "| key | type | default | meaning |",
    "|---|---|---|---|",
  ];
  rows(farmConfigJsonSchema() as JsonSchema, "", out);
  out.push(
    "",
    "## `sandfarm eval`",
    "",
    "The same file format; `policy`, `sandbox`, `episode` and `rewards` are the training keys above,",
    "so one model's settings carry over. Flags set the top-level keys (`--tasks`, `--mode`,",
    "`--repeats`, `--output-dir`, `--concurrency`, `--limit`, `--domains`; `--policy-url` and `--model`",
    "set `policy.urls` and `policy.model`). `sandfarm config check --eval FILE` validates one.",
    "",
    "| key | type | default | meaning |",
    "|---|---|---|---|",
  );
  rows(evalConfigJsonSchema() as JsonSchema, "", out);
  return `${out.join("\n")}\n`;
}
