/**
 * Reading a YAML config file and applying `--set KEY=VALUE` overrides, before validation; a YAML
 * error is placed at its line and column.
 *
 * @example
 * const input = readConfigFile("examples/sandbox-rl.yaml", ["rollout.groupSize=8"]);
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { ConfigError } from "../../common/errors.js";

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
