/**
 * Turns what came back for one command into its result, or into the error that says whose fault
 * it was. Shared by every backend that runs the Perl core.
 */
import { InfrastructureError } from "../../common/errors.js";
import { SandboxLostError } from "./errors.js";
import { HELPER_GRACE_MS, type RawCommandOutput } from "./command-channel.js";
import type { ExecResult } from "./types.js";

export interface OutcomeContext {
  capBytes: number;
  pidsLimit: number;
  timeoutS: number;
  durationMs: number;
  /** Whether the sandbox still runs, asked when the helper or runner vanished mid-command. */
  confirmAlive: () => Promise<true | Error>;
}

export async function classifyCommandOutcome(
  raw: RawCommandOutput,
  context: OutcomeContext,
): Promise<ExecResult> {
  const { capBytes: cap, timeoutS, durationMs } = context;
  if (raw.hung) {
    throw new InfrastructureError(
      `the sandbox's command runner did not answer within ${HELPER_GRACE_MS / 1000} s after the ${timeoutS} s timeout`,
    );
  }
  const stdout = raw.stdout.subarray(0, cap).toString("utf8");
  const stderr = raw.stderr.subarray(0, cap).toString("utf8");
  const status = raw.status;
  if (status?.get("spawnFailed") === 1) {
    throw new SandboxLostError(
      `the sandbox cannot start a process (errno ${status.get("errno")}): its process limit (${context.pidsLimit}) is exhausted by processes the model left running`,
      true,
    );
  }
  if (!status) {
    // The helper or runner died before reporting: the command killed it, or the sandbox died.
    const alive = await context.confirmAlive();
    if (alive !== true) throw alive;
    const exitCode = raw.helperExitCode ?? 137;
    if (exitCode !== 137 && raw.helperError) {
      throw new InfrastructureError(
        `the sandbox's command runner failed (exit ${exitCode}): ${raw.helperError}`,
      );
    }
    return {
      exitCode,
      stdout,
      stderr,
      timedOut: false,
      truncated: false,
      oomKilled: false,
      runnerKilled: true,
      durationMs,
    };
  }
  const timedOut = status.get("timedOut") === 1;
  const oomBefore = status.get("oomBefore") ?? -1;
  const oomAfter = status.get("oomAfter") ?? -1;
  return {
    exitCode: timedOut ? 124 : (status.get("exit") ?? -1),
    stdout,
    stderr,
    timedOut,
    truncated: (status.get("outBytes") ?? 0) > cap || (status.get("errBytes") ?? 0) > cap,
    oomKilled: oomBefore >= 0 && oomAfter > oomBefore,
    runnerKilled: false,
    durationMs,
  };
}
