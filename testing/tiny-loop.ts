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
import { type FarmConfig, parseFarmConfig } from "../orchestrator/config/train.js";
import type { FarmOutcome } from "../orchestrator/farm/farm.js";
import type { TrainingRun } from "../orchestrator/farm/training-run.js";
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

/**
 * What the loop needs to learn, per mode (README, "The closed loop on this machine"): plain LLM
 * mode 8 groups of 8 a step and nothing holding the format but the reward; sandbox mode 4 groups
 * a step (more, cheaper steps) and a KL of 0.05 to the starting weights, without which the
 * tool-call format erodes before the reward rises.
 */
export const TINY_MODE_SETTINGS = {
  llm: { groupsPerStep: 8, klCoef: 0 },
  sandbox: { groupsPerStep: 4, klCoef: 0.05 },
} as const;

/** The closed loop's run config: the tiny policy at `url`, the bridge on a free port. */
export function tinyLoopConfig(options: {
  dir: string;
  id: string;
  mode: "llm" | "sandbox";
  url: string;
  steps: number;
  train: string;
  validation?: string;
  staleness?: number;
  groupsPerStep?: number;
  every?: number;
}): FarmConfig {
  return parseFarmConfig({
    run: { id: options.id, dir: options.dir, mode: options.mode, steps: options.steps, seed: 1 },
    data: {
      train: [options.train],
      ...(options.validation ? { validation: [options.validation] } : {}),
      epochs: 100,
    },
    policy: { urls: [options.url], model: "tiny" },
    sandbox: { backend: "local", network: "none", memoryMb: 256 },
    episode: { maxTurns: 6, maxTokensPerCall: 64, maxTotalTokens: 2048, timeoutS: 120 },
    rollout: {
      groupSize: 8,
      groupsPerStep: options.groupsPerStep ?? 8,
      staleness: options.staleness ?? 1,
      // Sandbox mode: two steps' rollouts in flight, and starts enough to keep a fresh sandbox
      // ready for each (measured on 2 cores: 0.90 s a step, against 1.10 s with 8/16/32).
      ...(options.mode === "sandbox"
        ? { episodes: 64, warmSandboxes: 48, sandboxStarts: 16 }
        : { episodes: 32, warmSandboxes: 16, sandboxStarts: 8 }),
    },
    sink: { kind: "bridge", address: "127.0.0.1:0" },
    ...(options.validation
      ? {
          validation: {
            everySteps: options.every ?? 25,
            modes: [options.mode],
            sampling: { temperature: 0 },
          },
        }
      : {}),
  });
}

/**
 * Runs a launched run to its end with the reference trainer attached (every batch acked), closes
 * it, and waits for the trainer to see the run end.
 */
export async function runWithTrainer(
  run: TrainingRun,
  trainer: { model: string; lr: number; klCoef?: number },
): Promise<{ outcome: FarmOutcome; trainerExit: number | null }> {
  const child = spawnTrainer({
    address: `127.0.0.1:${run.bridgePort}`,
    model: trainer.model,
    out: run.runDir,
    lr: trainer.lr,
    ...(trainer.klCoef ? { extra: ["--kl-coef", String(trainer.klCoef)] } : {}),
  });
  let outcome: FarmOutcome;
  try {
    outcome = await run.farm.run();
    await run.bridge!.drained();
  } finally {
    await run.close();
  }
  return { outcome, trainerExit: await exited(child) };
}
