#!/usr/bin/env node
/**
 * The `sandfarm` command. This file only wires subcommands; each lives in its own module.
 *
 * @example
 * sandfarm sandbox doctor
 * sandfarm sandbox exec --timeout 10 -- python3 -c 'print(6*7)'
 * sandfarm dataset validate datasets/samples/*.jsonl
 * sandfarm bridge serve --spool runs/r1/spool --run-id r1
 * sandfarm eval --tasks datasets/samples/math.jsonl --policy-url http://127.0.0.1:8000/v1 --model M
 */
import { Command } from "commander";
import { SANDFARM_VERSION } from "../version.js";
import { bridgeCommand } from "./bridge-command.js";
import { configCommand } from "./config-command.js";
import { datasetCommand } from "./dataset-command.js";
import { doctorCommand } from "./doctor-command.js";
import { fleetCommand } from "./fleet-command.js";
import { imageCommand } from "./image-command.js";
import { reportFailure, wantsVerbose } from "./failure.js";
import { compareCommand, evalCommand, exportSftCommand, rescoreCommand } from "./eval-command.js";
import { rewardCommand } from "./reward-command.js";
import { runCommand } from "./run-command.js";
import { sandboxCommand } from "./sandbox-command.js";
import { trainCommand } from "./train-command.js";

const program = new Command("sandfarm")
  .description("Rollout farm for LLM-in-Sandbox reinforcement learning")
  .version(SANDFARM_VERSION)
  .option("--verbose", "on a failure, print stacks and causes (also SANDFARM_DEBUG=1)")
  .showHelpAfterError()
  .exitOverride();

program.addCommand(sandboxCommand());
program.addCommand(imageCommand());
program.addCommand(fleetCommand());
program.addCommand(rewardCommand());
program.addCommand(datasetCommand());
program.addCommand(runCommand());
program.addCommand(bridgeCommand());
program.addCommand(configCommand());
program.addCommand(doctorCommand());
program.addCommand(trainCommand());
program.addCommand(evalCommand());
program.addCommand(compareCommand());
program.addCommand(rescoreCommand());
program.addCommand(exportSftCommand());

// Commander copies exitOverride only to commands made with .command(), not addCommand(): set it
// on every command, so a usage error anywhere reaches reportFailure instead of process.exit(1).
const overrideExits = (command: Command): void => {
  command.exitOverride();
  command.commands.forEach(overrideExits);
};
overrideExits(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFailure(error, { verbose: wantsVerbose(process.argv, process.env) });
}
