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

export function engineOption(): Option {
  return new Option(
    "--engine <name=host>",
    "a Docker engine for sandboxes, e.g. box1=tcp://10.0.0.5:2376, or NAME of a configured one (repeatable; replaces sandbox.engines)",
  ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}
