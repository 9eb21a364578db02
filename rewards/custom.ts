/**
 * Custom scorers: the user's own reward code, either a JS module (TS when running under tsx)
 * loaded into this process, or any program run once per answer that reads the case as JSON on
 * stdin and prints `{"reward": ..., "details": {...}}` as its last line of stdout.
 *
 * @example
 * const byModule = await loadModuleScorer("./my-reward.js");
 * const byCommand = commandScorer({ command: ["python3", "reward.py"], timeoutMs: 5000 });
 * const { reward } = await byCommand({ answer: "42", truth: "42" });
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { ScoreInput, ScoreResult } from "./types.js";
import { UserError } from "../common/errors.js";

export type AsyncScorer = (input: ScoreInput) => Promise<ScoreResult>;

/** A custom scorer could not be loaded or run, or gave a result that is not a valid one. */
export class CustomScorerError extends UserError {}

const scoreResultSchema = z.object({
  reward: z.number().min(0).max(1),
  details: z.record(z.string(), z.unknown()),
});

const RESULT_SHAPE = '{"reward": <number from 0 to 1>, "details": {<object>}}';
const CAPTURE_CAP_BYTES = 1024 * 1024;
const STDERR_TAIL_BYTES = 2048;

/** Checks a scorer's result; returns the problems, or the result with nothing else in it. */
function checkResult(value: unknown): ScoreResult | string {
  const parsed = scoreResultSchema.safeParse(value);
  if (parsed.success) return { reward: parsed.data.reward, details: parsed.data.details };
  return parsed.error.issues
    .map((issue) => `${issue.path.join(".") || "(result)"}: ${issue.message}`)
    .join("; ");
}

/**
 * Imports a module exporting `score` (or a default export) taking `{answer, truth, options}` and
 * returning `{reward, details}`, or a promise of one. Each result is checked.
 */
export async function loadModuleScorer(path: string): Promise<AsyncScorer> {
  const file = resolve(path);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CustomScorerError(
      `could not load the scorer module ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const exported = typeof module.score === "function" ? module.score : module.default;
  if (typeof exported !== "function") {
    const names = Object.keys(module);
    throw new CustomScorerError(
      `the scorer module ${file} must export a function 'score' (or a default export) taking {answer, truth, options} and returning ${RESULT_SHAPE}; it exports ${names.length > 0 ? names.join(", ") : "nothing"}`,
    );
  }
  const score = exported as (input: ScoreInput) => unknown;
  return async (input) => {
    let value: unknown;
    try {
      value = await score(input);
    } catch (error) {
      throw new CustomScorerError(`the scorer module ${file} threw: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const result = checkResult(value);
    if (typeof result === "string") {
      throw new CustomScorerError(
        `the scorer module ${file} returned an invalid result (${result}); return ${RESULT_SHAPE}`,
      );
    }
    return result;
  };
}

const commandOptionsSchema = z
  .object({
    command: z.array(z.string().min(1)).min(1),
    timeoutMs: z.number().int().min(1).default(10_000),
    cwd: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export interface CommandScorerOptions {
  /** Program and arguments, run without a shell, e.g. `["python3", "reward.py"]`. */
  command: string[];
  /** Time limit per answer; past it the process group is killed and the answer scores 0. @default 10000 */
  timeoutMs?: number;
  /** Working directory. @default this process's */
  cwd?: string;
  /** Variables added to the inherited environment. */
  env?: Record<string, string>;
}

/** Keeps the last `cap` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.cap * 2) this.compact();
  }

  tail(bytes = this.cap): Buffer {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - Math.min(bytes, this.cap)));
  }

  private compact(): void {
    const kept = this.tail();
    this.chunks = [kept];
    this.size = kept.length;
  }
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Kills a process group, which may already be gone. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/**
 * Runs a program per answer: writes `{"answer", "truth", "options"}` as JSON to its stdin and
 * reads `{reward, details}` from the last non-empty line of its stdout, so debugging prints
 * before it do no harm (the last 1 MiB of each stream is kept). The program leads its own
 * process group: over time the whole group is killed and the answer scores 0, and whatever it
 * leaves running when it exits is killed too. A non-zero exit or no valid result throws
 * `CustomScorerError` with the last 2 KB of stderr.
 */
export function commandScorer(options: CommandScorerOptions): AsyncScorer {
  const parsed = commandOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`)
      .join("; ");
    throw new CustomScorerError(
      `invalid command scorer options (${problems}); give {command: ["program", "arg", ...], timeoutMs?, cwd?, env?}`,
    );
  }
  const { command, timeoutMs, cwd, env } = parsed.data;
  const shown = JSON.stringify(command);

  return async (input) => {
    const finished = await run(command, timeoutMs, cwd, env, input);
    if (finished.timedOut)
      return { reward: 0, details: { reason: `timed out after ${timeoutMs} ms` } };
    const stderrTail = `stderr (last 2 KB): ${finished.stderr.trim() === "" ? "(empty)" : finished.stderr}`;
    if (finished.code !== 0) {
      const how =
        finished.code === null
          ? `was killed by ${finished.signal}`
          : `exited with code ${finished.code}`;
      throw new CustomScorerError(`the scorer command ${shown} ${how}; ${stderrTail}`);
    }
    const lastLine = finished.stdout
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "")
      .at(-1);
    let value: unknown;
    try {
      value = JSON.parse(lastLine ?? "");
    } catch {
      throw new CustomScorerError(
        `the scorer command ${shown} exited with code 0 but its last line of stdout is not JSON (${lastLine === undefined ? "no output" : JSON.stringify(lastLine.slice(0, 200))}); print ${RESULT_SHAPE} last; ${stderrTail}`,
      );
    }
    const result = checkResult(value);
    if (typeof result === "string") {
      throw new CustomScorerError(
        `the scorer command ${shown} exited with code 0 but printed an invalid result (${result}); print ${RESULT_SHAPE}; ${stderrTail}`,
      );
    }
    return result;
  };
}

function run(
  command: string[],
  timeoutMs: number,
  cwd: string | undefined,
  env: Record<string, string> | undefined,
  input: ScoreInput,
): Promise<Finished> {
  const [program, ...args] = command as [string, ...string[]];
  const shown = JSON.stringify(command);
  return new Promise((resolvePromise, reject) => {
    // Detached: the scorer leads its own process group, so a timeout kills its children too.
    const child = spawn(program, args, {
      cwd,
      env: env ? { ...process.env, ...env } : process.env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout = new TailBuffer(CAPTURE_CAP_BYTES);
    const stderr = new TailBuffer(CAPTURE_CAP_BYTES);
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killGroup(child.pid);
      // A process that left the group (setsid) may still hold the pipes; they are not waited for.
      child.stdout.destroy();
      child.stderr.destroy();
    }, timeoutMs);

    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // A scorer that exits without reading its input closes the pipe under us: not our error.
    child.stdin.on("error", () => undefined);
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const why =
        error.code === "ENOENT"
          ? `command not found: '${program}' (is it installed and on PATH, or is the path right?)`
          : error.code === "EACCES"
            ? `'${program}' is not executable`
            : error.message;
      reject(
        new CustomScorerError(`the scorer command ${shown} could not start: ${why}`, {
          cause: error,
        }),
      );
    });
    // Once the scorer exits, what it left running in its group goes too; then stdio can close.
    child.on("exit", () => {
      if (child.pid !== undefined) killGroup(child.pid);
    });
    child.on("close", (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        timedOut,
        stdout: stdout.tail().toString("utf8"),
        stderr: stderr.tail(STDERR_TAIL_BYTES).toString("utf8"),
      });
    });
    child.stdin.end(
      JSON.stringify({ answer: input.answer, truth: input.truth, options: input.options ?? {} }),
    );
  });
}
