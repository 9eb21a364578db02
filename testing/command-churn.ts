/**
 * The load of issue 19, shared by its stress test and `bench/command-churn.ts`: trivial commands
 * spread over a set of sandboxes while other containers are created and removed beside them, the
 * engine and cgroup traffic under which a command's exit once slipped past the helper's wait.
 *
 * @example
 * const run = await runCommandChurn({ commands: 2000, sandboxes: 16 });
 * const slowest = Math.max(...run.commands.map((command) => command.latencyMs));
 */
import type { ManagedSandbox } from "../orchestrator/sandbox/backend.js";
import type { ExecResult } from "../orchestrator/sandbox/types.js";
import { testBackend } from "./sandboxes.js";

export interface CommandChurnOptions {
  commands: number;
  sandboxes: number;
  /** Each command's timeout, in seconds. @default 20 */
  timeoutS?: number;
  /** Loops creating and removing a container for as long as the commands run. @default 2 */
  churnLoops?: number;
}

export interface ChurnedCommand {
  /** From the call to the result, as the farm waits for it. */
  latencyMs: number;
  result: ExecResult;
}

export interface CommandChurnRun {
  commands: ChurnedCommand[];
  timeoutS: number;
  /** Containers created and removed while the commands ran. */
  churned: number;
}

/** Small sandboxes, so sixteen of them and the churn fit a 2-core engine. */
const SANDBOX_LIMITS = { memoryMb: 128, pidsLimit: 64, cpus: 0.5 } as const;
/** Sandboxes started at once while setting up, so set-up does not starve the engine. */
const STARTS_AT_ONCE = 4;

export async function runCommandChurn(options: CommandChurnOptions): Promise<CommandChurnRun> {
  const timeoutS = options.timeoutS ?? 20;
  const backend = testBackend({ ...SANDBOX_LIMITS, runId: "command-churn" });
  const sandboxes: ManagedSandbox[] = [];
  let churning = true;
  let churned = 0;
  let churnError: Error | undefined;
  const churnLoops: Promise<void>[] = [];
  try {
    for (let started = 0; started < options.sandboxes; started += STARTS_AT_ONCE) {
      const batch = Math.min(STARTS_AT_ONCE, options.sandboxes - started);
      await Promise.all(
        Array.from({ length: batch }, async () => {
          const sandbox = await backend.create();
          sandboxes.push(sandbox);
          // Runner start-up is a one-off per sandbox, not what a command costs.
          await sandbox.warmUp();
        }),
      );
    }
    for (let loop = 0; loop < (options.churnLoops ?? 2); loop++) {
      churnLoops.push(
        (async () => {
          while (churning) {
            const passer = await backend.create();
            await passer.close();
            churned++;
          }
        })().catch((error: unknown) => {
          churnError ??= error instanceof Error ? error : new Error(String(error));
        }),
      );
    }
    const commands: ChurnedCommand[] = [];
    let issued = 0;
    await Promise.all(
      sandboxes.map(async (sandbox) => {
        while (issued < options.commands) {
          issued++;
          const started = performance.now();
          const result = await sandbox.exec("true", { timeoutS });
          commands.push({ latencyMs: performance.now() - started, result });
        }
      }),
    );
    // Without its churn the run did not measure what it claims to.
    if (churnError) throw churnError;
    return { commands, timeoutS, churned };
  } finally {
    churning = false;
    await Promise.all(churnLoops);
    await Promise.allSettled(sandboxes.map((sandbox) => sandbox.close()));
  }
}

/**
 * A command reported as exit 0 though its timeout fired, or back only at its timeout yet
 * claiming exit 0: the lost wake-up's signature, a trivial command held until the timeout.
 */
export function timedOutAsExit0(command: ChurnedCommand, timeoutS: number): boolean {
  const { result } = command;
  return result.exitCode === 0 && (result.timedOut || result.durationMs >= timeoutS * 1000);
}
