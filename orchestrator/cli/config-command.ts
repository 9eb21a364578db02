/**
 * `sandfarm config schema | reference | check FILE`: the run configuration's JSON Schema, its
 * markdown reference (docs/config.md), and a file validated with every default filled in (exit
 * 1 with each bad key, value and fix).
 *
 * @example
 * sandfarm config check examples/sandbox-rl.yaml --set rollout.groupSize=4
 */
import { Command } from "commander";
import { farmConfigJsonSchema, loadFarmConfig } from "../farm/config.js";
import { configReference } from "../farm/config-reference.js";

export function configCommand(): Command {
  const config = new Command("config").description("The run configuration file");
  config
    .command("schema")
    .description("Print the JSON Schema of the config file")
    .action(() => {
      process.stdout.write(`${JSON.stringify(farmConfigJsonSchema(), null, 2)}\n`);
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
    .action((file: string, options: { set: string[] }) => {
      process.stdout.write(`${JSON.stringify(loadFarmConfig(file, options.set), null, 2)}\n`);
    });
  return config;
}
