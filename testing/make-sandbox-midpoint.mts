/**
 * Makes testing/fixtures/tiny-sandbox-midpoint/: the tiny policy from the loop benchmark's
 * sandbox-mode run (warm start at chance, lr 1e-3, KL 0.05, 4 groups of 8 a step, staleness 1,
 * local backend) just after its rise has begun: the run drains at the first validation that
 * scores at least ONSET, and the trainer's last checkpoint is kept. The learning test's
 * sandbox-mode case continues from there against a learning-rate-0 control from the same
 * weights. The onset itself comes anywhere from about step 400 to 650 (README, Benchmarks),
 * which is too uncertain and too long for CI; the benchmark is what shows it.
 *
 * Run: npx tsx testing/make-sandbox-midpoint.mts (about 6-10 minutes on 2 cores).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeCodeTasks } from "../datasets/families/codes.js";
import { launchTraining } from "../orchestrator/farm/training-run.js";
import { pretrainTiny, runWithTrainer, TINY_MODE_SETTINGS, tinyLoopConfig } from "./tiny-loop.js";
import { startTinyServer } from "./tiny-server.js";

/** The validation score that marks the onset of the rise (chance is 0.1). */
const ONSET = 0.4;
const MAX_STEPS = 1000;
const out = resolve(import.meta.dirname, "fixtures/tiny-sandbox-midpoint");
const dir = mkdtempSync(join(tmpdir(), "sandfarm-midpoint-"));
try {
  const warm = join(dir, "warm");
  pretrainTiny(warm, { steps: 300, maxTurns: 6 });
  const train = join(dir, "train.jsonl");
  const validation = join(dir, "validation.jsonl");
  writeCodeTasks(train, { count: 512, seed: 1, prefix: "train" });
  writeCodeTasks(validation, { count: 32, seed: 2, prefix: "validation" });
  const tiny = await startTinyServer({ weights: warm });
  try {
    let onset: { step: number; score: number } | undefined;
    const run = await launchTraining({
      config: tinyLoopConfig({
        dir,
        id: "midpoint",
        mode: "sandbox",
        url: tiny.baseURL,
        steps: MAX_STEPS,
        train,
        validation,
        groupsPerStep: TINY_MODE_SETTINGS.sandbox.groupsPerStep,
      }),
      onEvent: (event) => {
        if (event.kind !== "validation" || onset) return;
        const score = event.report.scores.sandbox?.score ?? 0;
        process.stdout.write(`step ${event.report.step}: ${score.toFixed(3)}\n`);
        if (score < ONSET) return;
        onset = { step: event.report.step ?? 0, score };
        run.farm.drain();
      },
    });
    await runWithTrainer(run, {
      model: `tiny:${warm}`,
      lr: 1e-3,
      klCoef: TINY_MODE_SETTINGS.sandbox.klCoef,
    });
    if (!onset) throw new Error(`no validation reached ${ONSET} in ${MAX_STEPS} steps`);
    const checkpoints = join(run.runDir, "trainer");
    const last = readdirSync(checkpoints)
      .filter((name) => name.startsWith("step-"))
      .sort()
      .at(-1)!;
    rmSync(out, { recursive: true, force: true });
    cpSync(join(checkpoints, last, "model"), out, { recursive: true });
    process.stdout.write(
      `wrote ${out} (trainer ${last}; validation ${onset.score} at farm step ${onset.step})\n`,
    );
  } finally {
    await tiny.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
