/**
 * `npm run bench -- loop [--quick]`: the closed learning loop on this machine. The tiny policy
 * (a format-only warm start: it answers at chance) learns the `codes` task family through
 * `sandfarm train` (bridge sink, staleness 1) and the reference trainer, in plain LLM mode and
 * in sandbox mode (local backend), each beside a negative control (learning rate 0) measured in
 * the same run; a short staleness-0 run measures sampler-trainer logprob parity exactly.
 * Validation: greedy, on tasks not used for training. Writes bench/results/loop.json.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeCodeTasks } from "../datasets/families/codes.js";
import type { FarmEvent } from "../orchestrator/farm/farm.js";
import { launchTraining } from "../orchestrator/farm/training-run.js";
import {
  pretrainTiny,
  readJsonLines,
  runWithTrainer,
  TINY_MODE_SETTINGS,
  tinyLoopConfig,
} from "../testing/tiny-loop.js";
import { startTinyServer } from "../testing/tiny-server.js";
import { percentile, writeResults } from "./report.js";

type Mode = "llm" | "sandbox";

interface LoopRun {
  mode: Mode;
  lr: number;
  steps: number;
  staleness: number;
  /** Greedy validation score at each validation point, in order. */
  validation: number[];
  wallS: number;
  batches: number;
  trainerSteps: number;
  duplicateBatches: number;
  lostBatches: number;
  logprobDiffMax: number;
  trainerWaitFraction: number;
  farmWaitFraction: number;
  updatePauseMs: number[];
  requestsPerCall: number;
}

interface TrainerLine {
  event: string;
  batch_id?: string;
  logprob_abs_diff_max?: number;
  wait_s?: number;
  update_s?: number;
}

const mean = (values: readonly number[]) =>
  values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN;

function writeTasks(path: string, count: number, seed: number, prefix: string): string {
  writeCodeTasks(path, { count, seed, prefix });
  return path;
}

async function runLoop(
  dir: string,
  warm: string,
  options: { mode: Mode; lr: number; steps: number; staleness: number; every: number },
): Promise<LoopRun> {
  const name = `${options.mode}-lr${options.lr}-s${options.staleness}`;
  const out = join(dir, name);
  const train = writeTasks(join(dir, `${name}-train.jsonl`), 512, 1, "train");
  const validation = writeTasks(join(dir, `${name}-val.jsonl`), 32, 2, "val");
  const tiny = await startTinyServer({ weights: warm });
  const waits: number[] = [];
  const started = Date.now();
  try {
    const run = await launchTraining({
      config: tinyLoopConfig({
        dir: out,
        id: name,
        mode: options.mode,
        url: tiny.baseURL,
        steps: options.steps,
        train,
        validation,
        staleness: options.staleness,
        every: options.every,
        groupsPerStep: TINY_MODE_SETTINGS[options.mode].groupsPerStep,
      }),
      onEvent: (event: FarmEvent) => {
        if (event.kind === "waiting" && event.reason.startsWith("staleness"))
          waits.push(Date.now());
      },
    });
    const { outcome } = await runWithTrainer(run, {
      model: `tiny:${warm}`,
      lr: options.lr,
      klCoef: TINY_MODE_SETTINGS[options.mode].klCoef,
    });
    const wallS = (Date.now() - started) / 1000;
    const lines = readJsonLines<TrainerLine>(join(run.runDir, "trainer", "steps.jsonl"));
    const steps = lines.filter((line) => line.event === "step");
    const ids = steps.map((line) => line.batch_id!);
    const commits = readJsonLines<{ type: string; at: number }>(join(run.runDir, "journal.jsonl"))
      .filter((line) => line.type === "policy")
      .map((line) => line.at);
    const farmWaitMs = waits.reduce((sum, at) => {
      const next = commits.find((commit) => commit >= at);
      return sum + (next === undefined ? 0 : next - at);
    }, 0);
    const metrics = readJsonLines<{ requests?: { calls: number; chat: number } }>(
      join(run.runDir, "metrics.jsonl"),
    );
    const calls = metrics.reduce((sum, line) => sum + (line.requests?.calls ?? 0), 0);
    const chats = metrics.reduce((sum, line) => sum + (line.requests?.chat ?? 0), 0);
    return {
      ...options,
      validation: readJsonLines<Record<Mode, { score: number }>>(
        join(run.runDir, "validation.jsonl"),
      ).map((line) => line[options.mode].score),
      wallS,
      batches: outcome.batches,
      trainerSteps: steps.length,
      duplicateBatches: ids.length - new Set(ids).size,
      lostBatches: outcome.batches - new Set(ids).size,
      logprobDiffMax: Math.max(...steps.map((line) => line.logprob_abs_diff_max ?? 0)),
      trainerWaitFraction: steps.reduce((sum, line) => sum + (line.wait_s ?? 0), 0) / wallS,
      farmWaitFraction: farmWaitMs / 1000 / wallS,
      updatePauseMs: lines
        .filter((line) => line.event === "update")
        .map((line) => (line.update_s ?? 0) * 1000),
      requestsPerCall: calls ? chats / calls : Number.NaN,
    };
  } finally {
    await tiny.close();
  }
}

export async function runLoopBenchmark(quick: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sandfarm-loop-bench-"));
  try {
    const warm = join(dir, "warm");
    pretrainTiny(warm, { steps: 300, maxTurns: 6 });
    const steps: Record<Mode, number> = quick
      ? { llm: 60, sandbox: 30 }
      : { llm: 500, sandbox: 800 };
    const every: Record<Mode, number> = quick ? { llm: 10, sandbox: 10 } : { llm: 25, sandbox: 25 };
    const runs: LoopRun[] = [];
    for (const mode of ["sandbox", "llm"] as const) {
      runs.push(
        await runLoop(dir, warm, {
          mode,
          lr: 1e-3,
          steps: steps[mode],
          staleness: 1,
          every: every[mode],
        }),
      );
      // The negative control: the same loop, nothing learned.
      runs.push(
        await runLoop(dir, warm, {
          mode,
          lr: 0,
          steps: Math.max(every[mode] * 5, Math.round(steps[mode] / 4)),
          staleness: 1,
          every: every[mode],
        }),
      );
    }
    const parity = await runLoop(dir, warm, {
      mode: "llm",
      lr: 1e-3,
      steps: quick ? 5 : 20,
      staleness: 0,
      every: 1000,
    });
    const learned = (mode: Mode) => runs.find((run) => run.mode === mode && run.lr > 0)!;
    const control = (mode: Mode) => runs.find((run) => run.mode === mode && run.lr === 0)!;
    const first = (run: LoopRun) => mean(run.validation.slice(0, 5));
    const last = (run: LoopRun) => mean(run.validation.slice(-5));
    const both = <T>(pick: (mode: Mode) => T) => ({ sandbox: pick("sandbox"), llm: pick("llm") });
    const main = [learned("llm"), learned("sandbox")];
    const stepsPerMinute = both((mode) => (learned(mode).trainerSteps / learned(mode).wallS) * 60);
    const rows: [string, string][] = [];
    for (const run of [...runs, parity])
      rows.push([
        `${run.mode} lr ${run.lr} S=${run.staleness}: validation first5 -> last5`,
        `${first(run).toFixed(3)} -> ${last(run).toFixed(3)} (${run.steps} steps, ${run.wallS.toFixed(0)} s)`,
      ]);
    rows.push(
      [
        "steps_per_minute llm / sandbox",
        `${stepsPerMinute.llm.toFixed(1)} / ${stepsPerMinute.sandbox.toFixed(1)}`,
      ],
      [
        "trainer_wait_fraction llm / sandbox",
        main.map((run) => run.trainerWaitFraction.toFixed(2)).join(" / "),
      ],
      [
        "farm_wait_fraction llm / sandbox",
        main.map((run) => run.farmWaitFraction.toFixed(2)).join(" / "),
      ],
      [
        "update_pause_ms p50",
        percentile(
          main.flatMap((run) => run.updatePauseMs),
          50,
        ).toFixed(0),
      ],
      ["logprob_abs_diff_max, staleness 0", parity.logprobDiffMax.toExponential(2)],
      [
        "logprob_abs_diff_max_s1 (llm / sandbox)",
        main.map((run) => run.logprobDiffMax.toExponential(2)).join(" / "),
      ],
      ["requests_per_model_call", mean(main.map((run) => run.requestsPerCall)).toFixed(2)],
      [
        "lost / duplicate batches",
        `${sum(runs, "lostBatches")} / ${sum(runs, "duplicateBatches")}`,
      ],
      ["chance", "0.10"],
      ["backend (sandbox mode)", "local"],
    );
    writeResults("loop", rows, {
      quick,
      backend: "local",
      steps_per_minute: stepsPerMinute,
      trainer_wait_fraction: both((mode) => learned(mode).trainerWaitFraction),
      farm_wait_fraction: both((mode) => learned(mode).farmWaitFraction),
      update_pause_ms_p50: percentile(
        main.flatMap((run) => run.updatePauseMs),
        50,
      ),
      logprob_abs_diff_max: parity.logprobDiffMax,
      logprob_abs_diff_max_s1: both((mode) => learned(mode).logprobDiffMax),
      reward_first_steps: both((mode) => first(learned(mode))),
      reward_last_steps: both((mode) => last(learned(mode))),
      control_first_steps: both((mode) => first(control(mode))),
      control_last_steps: both((mode) => last(control(mode))),
      chance: { sandbox: 0.1, llm: 0.1 },
      validation_curves: both((mode) => learned(mode).validation),
      control_curves: both((mode) => control(mode).validation),
      requests_per_model_call: mean(main.map((run) => run.requestsPerCall)),
      lost_batches: sum(runs, "lostBatches"),
      duplicate_batches: sum(runs, "duplicateBatches"),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sum(runs: readonly LoopRun[], key: "lostBatches" | "duplicateBatches"): number {
  return runs.reduce((total, run) => total + run[key], 0);
}
