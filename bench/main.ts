/**
 * Benchmarks: `npm run bench -- NAME [--quick]`. Each prints a table and writes
 * bench/results/NAME.json; each compares against a baseline measured in the same run.
 */
import { runBridgeBenchmark } from "./bridge.js";
import { runEndpointBenchmark } from "./endpoint.js";
import { runEpisodeBenchmark } from "./episode.js";
import { runEvalBenchmark } from "./eval.js";
import { runExecBenchmark } from "./exec.js";
import { runFleetBenchmark } from "./fleet.js";
import { runFarmBenchmark } from "./farm.js";
import { runLoopBenchmark } from "./loop.js";
import { runRewardsBenchmark } from "./rewards.js";
import { runSandboxBenchmark } from "./sandbox.js";

const benchmarks: Record<string, (quick: boolean) => Promise<void>> = {
  exec: runExecBenchmark,
  sandbox: runSandboxBenchmark,
  rewards: runRewardsBenchmark,
  episode: runEpisodeBenchmark,
  bridge: runBridgeBenchmark,
  farm: runFarmBenchmark,
  eval: runEvalBenchmark,
  endpoint: runEndpointBenchmark,
  loop: runLoopBenchmark,
  fleet: runFleetBenchmark,
};

const [name, ...flags] = process.argv.slice(2);
const run = name ? benchmarks[name] : undefined;
if (!run) {
  process.stderr.write(`usage: npm run bench -- ${Object.keys(benchmarks).join("|")} [--quick]\n`);
  process.exit(2);
}
await run(flags.includes("--quick"));
