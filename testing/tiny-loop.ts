/**
 * The closed loop's moving parts for tests and `npm run bench -- loop`: the tiny policy's warm
 * start, the reference trainer as its own process, and the JSON-lines files both sides write.
 *
 * @example
 * pretrainTiny(join(dir, "warm"), { steps: 300, maxTurns: 6 });
 * const trainer = spawnTrainer({ address, model: `tiny:${warm}`, out, lr: 1e-3 });
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PYTHON, PYTHON_PACKAGE_DIR } from "./tiny-server.js";

/** Writes the tiny policy's format-only warm start (answers at chance) to `out`. */
export function pretrainTiny(out: string, options: { steps: number; maxTurns: number }): void {
  execFileSync(
    PYTHON,
    [
      "-m",
      "examples.tiny.pretrain",
      "--out",
      out,
      "--steps",
      String(options.steps),
      "--max-turns",
      String(options.maxTurns),
    ],
    { cwd: PYTHON_PACKAGE_DIR },
  );
}

/** The reference trainer against a farm's bridge; its output goes to `out/trainer-N.log`. */
export function spawnTrainer(options: {
  address: string;
  model: string;
  out: string;
  lr?: number;
  extra?: string[];
}): ChildProcess {
  mkdirSync(options.out, { recursive: true });
  let index = 0;
  while (existsSync(join(options.out, `trainer-${index}.log`))) index++;
  const log = openSync(join(options.out, `trainer-${index}.log`), "w");
  return spawn(
    PYTHON,
    [
      "-m",
      "sandfarm_bridge.trainer",
      "--address",
      options.address,
      "--model",
      options.model,
      "--out",
      join(options.out, "trainer"),
      "--weights-dir",
      join(options.out, "weights"),
      "--lr",
      String(options.lr ?? 1e-3),
      ...(options.extra ?? []),
    ],
    { cwd: PYTHON_PACKAGE_DIR, stdio: ["ignore", log, log] },
  );
}

export const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode);
    else child.once("exit", (code) => done(code));
  });

/** A JSON-lines file's entries; none when it does not exist yet. */
export function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as T];
      } catch {
        return []; // a line being written
      }
    });
}
