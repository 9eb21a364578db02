/** `execute_bash`: one command, one fresh shell, an observation a model can act on. */
import type { ExecResult, Sandbox } from "../sandbox/types.js";
import { BASH_CLIP, type ClipLimits, clipStreams } from "./observation.js";

export interface BashObservationOptions {
  clip?: ClipLimits;
  /** The sandbox's capture cap, named in the truncation note. */
  captureCapBytes?: number;
  /** The sandbox's memory limit, named in the OOM note. */
  memoryMb?: number;
}

/** Renders a command's result: notes first, then the exit code, stdout, and stderr if any. */
export function formatBashObservation(
  result: ExecResult,
  timeoutS: number,
  options: BashObservationOptions = {},
): string {
  const notes: string[] = [];
  if (result.timedOut) {
    notes.push(
      `The command timed out after ${timeoutS} s and its processes were killed. ` +
        "Make it faster, or run it in the background (nohup CMD > log.txt 2>&1 &) and check the log later.",
    );
  }
  if (result.oomKilled) {
    const limit = options.memoryMb ? ` (${options.memoryMb} MiB)` : "";
    notes.push(
      `A process was killed because the sandbox ran out of memory${limit}. Use less memory, e.g. process data in chunks.`,
    );
  }
  if (result.runnerKilled) {
    notes.push(
      "The command killed sandfarm's command runner (e.g. with kill -9 -1), so its output may be incomplete. The sandbox is still usable.",
    );
  }
  if (result.truncated) {
    const cap = options.captureCapBytes
      ? `${Math.round(options.captureCapBytes / 1024)} KiB`
      : "the capture limit";
    notes.push(
      `The output was longer than ${cap} per stream; the rest was discarded. Redirect large output to a file and inspect it with grep, head or tail.`,
    );
  }
  const { stdout, stderr } = clipStreams(result.stdout, result.stderr, options.clip ?? BASH_CLIP);
  const parts = [...notes, `Exit code: ${result.exitCode}`];
  parts.push(stdout === "" ? "[stdout]\n(no output)" : `[stdout]\n${stdout.replace(/\n$/, "")}`);
  if (stderr !== "") parts.push(`[stderr]\n${stderr.replace(/\n$/, "")}`);
  return parts.join("\n");
}

export async function runExecuteBash(
  sandbox: Sandbox,
  command: string,
  timeoutS: number,
  options: BashObservationOptions = {},
): Promise<{ observation: string; result: ExecResult }> {
  const result = await sandbox.exec(command, { timeoutS });
  return { observation: formatBashObservation(result, timeoutS, options), result };
}
