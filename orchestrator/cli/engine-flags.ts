/**
 * `--engine NAME=HOST` (repeatable), shared by every command that touches sandboxes: the engines
 * this command uses, in the order given (`enginesFromSelectors` in sandbox/engines.ts says how a
 * selector reads).
 *
 * @example
 * command.addOption(engineOption());
 * const engines = enginesFromSelectors(flags.engine, configured, process.env);
 */
import { Option } from "commander";
import { readConfigFile } from "../config/read.js";
import {
  type EngineSpec,
  enginesFromSelectors,
  parseEngines,
  resolveEngines,
} from "../sandbox/engines.js";

export function engineOption(): Option {
  return new Option(
    "--engine <name=host>",
    "a Docker engine for sandboxes, e.g. box1=tcp://10.0.0.5:2376, or NAME of a configured one (repeatable; replaces sandbox.engines)",
  ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/** A run config's `sandbox` keys the fleet commands read. */
export interface ConfigSandbox {
  engines?: unknown;
  image?: unknown;
}

/**
 * The engines a fleet command works over: `--config FILE`'s `sandbox.engines` (or none), then
 * `--engine` selectors, then Docker's own variables when both are empty; and that config's
 * `sandbox` keys.
 */
export function enginesForCommand(flags: { config?: string; engine?: string[] }): {
  engines: EngineSpec[];
  sandbox: ConfigSandbox;
} {
  const sandbox = flags.config
    ? ((readConfigFile(flags.config).sandbox ?? {}) as ConfigSandbox)
    : {};
  const configured = parseEngines(sandbox.engines ?? []);
  return {
    engines: resolveEngines(
      enginesFromSelectors(flags.engine, configured, process.env),
      process.env,
    ),
    sandbox,
  };
}
