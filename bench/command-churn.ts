/**
 * Command latency under container churn (issue 19): trivial commands across N sandboxes while
 * other containers are created and removed. A lost wake-up in the helper's wait showed as a
 * command held until its timeout and then reported as exit 0; the figures here make that tail
 * visible (`maxMs`, `commandsOver5s`, `timedOutAsExit0`).
 *
 * @example
 * const churn = await measureCommandChurn({ commands: 2000, sandboxes: 16 });
 * console.log(churn.p99Ms, churn.maxMs);
 */
import { runCommandChurn, timedOutAsExit0 } from "../testing/command-churn.js";
import { percentile } from "./report.js";

export interface CommandChurnFigures {
  commands: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  commandsOver5s: number;
  timedOutAsExit0: number;
}

export async function measureCommandChurn(options: {
  commands: number;
  sandboxes: number;
}): Promise<CommandChurnFigures> {
  const run = await runCommandChurn(options);
  const latencies = run.commands.map((command) => command.latencyMs);
  return {
    commands: run.commands.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    commandsOver5s: latencies.filter((latency) => latency > 5000).length,
    timedOutAsExit0: run.commands.filter((command) => timedOutAsExit0(command, run.timeoutS))
      .length,
  };
}
