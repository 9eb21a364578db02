/**
 * The tiny policy learns through sandfarm, not by construction. Plain LLM mode (the code is in
 * the prompt) rises clearly above its own negative control (the same loop at learning rate 0,
 * which must stay exactly flat), from the warm start. Sandbox mode (the code is only in
 * /testbed/documents/code.txt, real sandboxes on the local backend) does too, from the loop
 * benchmark's sandbox run just after its rise began (testing/make-sandbox-midpoint.mts): the
 * onset comes anywhere from step 400 to 650, too late and too uncertain for CI, and the
 * benchmark is what shows it. A short sandbox run also checks the mechanism from the warm
 * start: read the file, write the answer, submit, trained on and updated. Thresholds come from
 * `npm run bench -- loop`'s full curves (README, Benchmarks).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeCodeTasks } from "../datasets/families/codes.js";
import { launchTraining } from "../orchestrator/farm/training-run.js";
import {
  pretrainTiny,
  readJsonLines,
  runWithTrainer,
  TINY_MODE_SETTINGS,
  tinyLoopConfig,
} from "./tiny-loop.js";
import { startTinyServer } from "./tiny-server.js";

let dir: string;
let warm: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-learning-"));
  warm = join(dir, "warm");
  pretrainTiny(warm, { steps: 300, maxTurns: 6 });
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tasks(name: string, count: number, seed: number): string {
  const path = join(dir, name);
  writeCodeTasks(path, { count, seed, prefix: name });
  return path;
}

/** One training run with the reference trainer; its greedy validation scores and the run dir. */
async function learn(options: {
  id: string;
  mode: "llm" | "sandbox";
  lr: number;
  steps: number;
  every: number;
  /** KL to the starting weights: sandbox mode needs it, or the format erodes (README, Benchmarks). */
  klCoef?: number;
  /** Starting weights, served and trained. @default the warm start */
  from?: string;
  groupsPerStep?: number;
}): Promise<{ scores: number[]; runDir: string; batches: number }> {
  const from = options.from ?? warm;
  const tiny = await startTinyServer({ weights: from });
  try {
    const run = await launchTraining({
      config: tinyLoopConfig({
        dir,
        id: options.id,
        mode: options.mode,
        url: tiny.baseURL,
        steps: options.steps,
        train: tasks(`${options.id}-train.jsonl`, 512, 1),
        validation: tasks(`${options.id}-val.jsonl`, 32, 2),
        every: options.every,
        ...(options.groupsPerStep ? { groupsPerStep: options.groupsPerStep } : {}),
      }),
    });
    const { outcome, trainerExit } = await runWithTrainer(run, {
      model: `tiny:${from}`,
      lr: options.lr,
      klCoef: options.klCoef,
    });
    expect(trainerExit).toBe(0);
    const scores = readJsonLines<Record<string, { score: number }>>(
      join(run.runDir, "validation.jsonl"),
    ).map((line) => line[options.mode]!.score);
    return { scores, runDir: run.runDir, batches: outcome.batches };
  } finally {
    await tiny.close();
  }
}

/** Steps of the sandbox-mode learning case, and the rise over its control it must show. */
const SANDBOX_STEPS = 200;
const SANDBOX_RISE = 0.15;

const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / values.length;

describe("the tiny policy learns through the farm and the reference trainer", () => {
  it("rises in plain LLM mode above its learning-rate-0 control, which stays flat", async () => {
    const control = await learn({ id: "llm-control", mode: "llm", lr: 0, steps: 75, every: 25 });
    const learned = await learn({ id: "llm-learn", mode: "llm", lr: 1e-3, steps: 200, every: 25 });
    // Nothing changes the control's weights: greedy validation gives the same score each time,
    // near chance (10%): the warm start knows the format, not the answers.
    expect(new Set(control.scores).size).toBe(1);
    expect(control.scores[0]).toBeLessThanOrEqual(0.2);
    expect(learned.scores).toHaveLength(8);
    // The benchmark's full curve is at 0.4-0.6 by step 175-200 against a control near 0.06 (a
    // run here has been as slow as 0.2 at step 150: 150 steps were too few for a fixed bar).
    // The best of the last four points: without a KL anchor plain mode can overshoot and
    // dip for a while after rising (a CI run went 0.28, 0.31, 0.19, 0.09 over steps 125-200).
    expect(
      Math.max(...learned.scores.slice(-4)),
      `validation every 25 steps: ${learned.scores.join(", ")}`,
    ).toBeGreaterThanOrEqual(control.scores[0]! + 0.15);
  }, 600_000);

  it("rises in sandbox mode above its learning-rate-0 control, from the benchmark run's onset", async () => {
    // The benchmark's sandbox curve sits at chance for 400-650 steps, then rises (README,
    // Benchmarks). Both runs here start from that run's weights just after the onset (a
    // validation of 0.44 at step 525); only the learning one may move on.
    const from = fileURLToPath(new URL("./fixtures/tiny-sandbox-midpoint", import.meta.url));
    const sandbox = { mode: "sandbox", from, ...TINY_MODE_SETTINGS.sandbox, every: 25 } as const;
    const control = await learn({ ...sandbox, id: "sandbox-control", lr: 0, steps: 50 });
    const learned = await learn({
      ...sandbox,
      id: "sandbox-learn",
      lr: 1e-3,
      steps: SANDBOX_STEPS,
    });
    expect(new Set(control.scores).size).toBe(1);
    expect(learned.scores).toHaveLength(SANDBOX_STEPS / 25);
    expect(
      mean(learned.scores.slice(-2)),
      `validation every 25 steps: ${learned.scores.join(", ")}; control ${control.scores[0]}`,
    ).toBeGreaterThanOrEqual(control.scores[0]! + SANDBOX_RISE);
  }, 900_000);

  it("runs the same loop in sandbox mode: reads the document, writes the answer, submits, and is trained on", async () => {
    const run = await learn({
      id: "sandbox",
      mode: "sandbox",
      lr: 1e-3,
      steps: 8,
      every: 4,
      klCoef: TINY_MODE_SETTINGS.sandbox.klCoef,
    });
    expect(run.batches).toBeGreaterThanOrEqual(6);
    const metrics = readJsonLines<{ turns_mean: number; reward_mean: number; version: number }>(
      join(run.runDir, "metrics.jsonl"),
    );
    expect(metrics).toHaveLength(8);
    // Three tool calls an episode, nearly always: cat the document, echo the answer, submit.
    for (const step of metrics) expect(step.turns_mean).toBeGreaterThan(2.5);
    expect(mean(metrics.map((step) => step.turns_mean))).toBeCloseTo(3, 0);
    // Rewarded at about chance before learning, and the versions it sampled advance.
    expect(mean(metrics.map((step) => step.reward_mean))).toBeLessThan(0.3);
    expect(metrics.at(-1)!.version).toBeGreaterThanOrEqual(5);
    expect(run.scores).toHaveLength(2);
  }, 600_000);
});
