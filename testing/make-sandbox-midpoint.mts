/**
 * Makes testing/fixtures/tiny-sandbox-midpoint/: the tiny policy after the first 400 steps of
 * the loop benchmark's sandbox-mode run (warm start at chance, lr 1e-3, KL 0.05, 4 groups of 8 a
 * step, staleness 1, local backend), where greedy validation is still at chance and the rise
 * has not begun. The learning test's sandbox-mode case starts there, so CI sees sandbox mode
 * learn in minutes instead of the benchmark's ten; its control starts there too and stays flat.
 *
 * Run: npx tsx testing/make-sandbox-midpoint.mts (about 6 minutes on 2 cores).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeCodeTasks } from "../datasets/families/codes.js";
import { launchTraining } from "../orchestrator/farm/training-run.js";
import { pretrainTiny, runWithTrainer, TINY_MODE_SETTINGS, tinyLoopConfig } from "./tiny-loop.js";
import { startTinyServer } from "./tiny-server.js";

const STEPS = 400;
const out = resolve(import.meta.dirname, "fixtures/tiny-sandbox-midpoint");
const dir = mkdtempSync(join(tmpdir(), "sandfarm-midpoint-"));
try {
  const warm = join(dir, "warm");
  pretrainTiny(warm, { steps: 300, maxTurns: 6 });
  const train = join(dir, "train.jsonl");
  writeCodeTasks(train, { count: 512, seed: 1, prefix: "train" });
  const tiny = await startTinyServer({ weights: warm });
  try {
    const run = await launchTraining({
      config: tinyLoopConfig({
        dir,
        id: "midpoint",
        mode: "sandbox",
        url: tiny.baseURL,
        steps: STEPS,
        train,
        groupsPerStep: TINY_MODE_SETTINGS.sandbox.groupsPerStep,
      }),
    });
    await runWithTrainer(run, {
      model: `tiny:${warm}`,
      lr: 1e-3,
      klCoef: TINY_MODE_SETTINGS.sandbox.klCoef,
    });
    const checkpoints = join(run.runDir, "trainer");
    const last = readdirSync(checkpoints)
      .filter((name) => name.startsWith("step-"))
      .sort()
      .at(-1)!;
    rmSync(out, { recursive: true, force: true });
    cpSync(join(checkpoints, last, "model"), out, { recursive: true });
    process.stdout.write(`wrote ${out} (trainer ${last}, farm step ${STEPS})\n`);
  } finally {
    await tiny.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
