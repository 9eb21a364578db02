/**
 * `sandfarm config schema | reference | check FILE`: the run configuration's JSON Schema, its
 * markdown reference (docs/config.md), and a file validated with every default filled in (exit
 * 1 with each bad key, value and fix).
 *
 * @example
 * sandfarm config check examples/sandbox-rl.yaml --set rollout.groupSize=4
 * sandfarm config check --eval examples/eval-samples.yaml
 */
import { Command } from "commander";
import { farmConfigJsonSchema, loadFarmConfig } from "../config/train.js";
import { configReference } from "../config/reference.js";
import { evalConfigJsonSchema, loadEvalConfig } from "../config/eval.js";

export function configCommand(): Command {
  const config = new Command("config").description("The run configuration file");
  config
    .command("schema")
    .description("Print the JSON Schema of the config file")
    .option("--eval", "of an eval config (sandfarm eval) instead of a training config")
    .action((options: { eval?: boolean }) => {
      const schema = options.eval ? evalConfigJsonSchema() : farmConfigJsonSchema();
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });
  config
    .command("reference")
    .description("Print the markdown reference of every option (docs/config.md)")
    .action(() => {
      process.stdout.write(configReference());
    });
  config
    .command("check")
    .description("Validate a config file and print it with every default filled in")
    .argument("<file>", "the YAML config")
    .option(
      "--set <key=value>",
      "override a key, e.g. rollout.groupSize=4 (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--eval", "an eval config (sandfarm eval) instead of a training config")
    .action((file: string, options: { set: string[]; eval?: boolean }) => {
      const config = options.eval
        ? loadEvalConfig(file, options.set)
        : loadFarmConfig(file, options.set);
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    });
  return config;
}
