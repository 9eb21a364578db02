/**
 * The closed loop on this machine: `sandfarm train` (bridge sink, plain LLM mode) against the
 * tiny real policy's vLLM-wire server, and the reference trainer over the bridge. The trainer
 * trains on every batch exactly once, pushes versions that later rows carry, computes at
 * staleness 0 the logprobs the sampler returned, and survives kill -9: it resumes from its last
 * checkpoint (the same weights), redelivered batches are not trained twice and none is lost.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeCodeTasks } from "../datasets/families/codes.js";
import { launchTraining } from "../orchestrator/farm/training-run.js";
import {
  exited,
  pretrainTiny,
  readJsonLines,
  runWithTrainer,
  spawnTrainer,
  tinyLoopConfig,
} from "./tiny-loop.js";
import { readSpooledBatches } from "./farm-runs.js";
import { type RunningTinyServer, startTinyServer } from "./tiny-server.js";

/** A TCP port free on 127.0.0.1 right now (for a farm process the test starts twice). */
function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

let dir: string;
let warm: string;
let tasks: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-loop-"));
  warm = join(dir, "warm");
  pretrainTiny(warm, { steps: 120, maxTurns: 6 });
  tasks = join(dir, "codes.jsonl");
  writeCodeTasks(tasks, { count: 256, seed: 3, prefix: "c" });
}, 120_000);

afterAll(() => {
  if (!process.env.SANDFARM_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

/** Each test gets a server of its own: a trainer's pushes change the weights it serves. */
const servers: RunningTinyServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

interface StepLine {
  event: string;
  step?: number;
  batch_id?: string;
  logprob_abs_diff_max?: number;
  weights_sha256?: string;
  saved_sha256?: string;
  pushed_version?: number;
}

const lines = readJsonLines;

function trainer(address: string, out: string): ChildProcess {
  return spawnTrainer({ address, model: `tiny:${warm}`, out, lr: 1e-3 });
}

async function launch(runId: string, steps: number) {
  const tiny = await startTinyServer({ weights: warm });
  servers.push(tiny);
  return launchTraining({
    config: tinyLoopConfig({
      dir,
      id: runId,
      mode: "llm",
      url: tiny.baseURL,
      steps,
      train: tasks,
      staleness: 0,
      groupsPerStep: 4,
    }),
  });
}

describe("the closed loop: sandfarm train, the tiny policy, the reference trainer", () => {
  it("trains on every batch once, pushes the versions rows carry, and matches the sampler's logprobs at staleness 0", async () => {
    const run = await launch("loop", 5);
    const { outcome, trainerExit } = await runWithTrainer(run, { model: `tiny:${warm}`, lr: 1e-3 });
    expect(trainerExit).toBe(0);
    expect(outcome.status).toBe("finished");
    const steps = lines<StepLine>(join(run.runDir, "trainer", "steps.jsonl")).filter(
      (line) => line.event === "step",
    );
    expect(steps).toHaveLength(outcome.batches);
    expect(outcome.batches).toBeGreaterThanOrEqual(3);
    expect(new Set(steps.map((line) => line.batch_id)).size).toBe(steps.length);
    // Each step pushed a version (the last may find the farm gone); the farm committed them in order.
    const updates = lines<StepLine & { version: number }>(
      join(run.runDir, "trainer", "steps.jsonl"),
    )
      .filter((line) => line.event === "update")
      .map((line) => line.version);
    expect(updates.length).toBeGreaterThanOrEqual(steps.length - 1);
    const policy = lines<{ type: string; version: number }>(join(run.runDir, "journal.jsonl"))
      .filter((line) => line.type === "policy")
      .map((line) => line.version);
    expect(policy).toEqual(updates);
    expect(updates).toEqual(updates.map((_, index) => index + 1));
    // At staleness 0 every token was sampled by the weights of its version, served as the
    // trainer pushed them: the engine's KV-cache steps and the trainer's batched forward agree.
    for (const line of steps) expect(line.logprob_abs_diff_max).toBeLessThanOrEqual(1e-4);
    // The acks carried the trainer's metrics into the run.
    const acks = lines<{ batchId: string; metrics: Record<string, number> }>(
      join(run.runDir, "trainer.jsonl"),
    );
    expect(acks.map((ack) => ack.batchId).sort()).toEqual(
      steps.map((line) => line.batch_id).sort(),
    );
    for (const ack of acks)
      expect(Object.keys(ack.metrics)).toEqual(
        expect.arrayContaining([
          "loss",
          "grad_norm",
          "clip_fraction",
          "kl_sampler",
          "logprob_abs_diff_max",
        ]),
      );
  }, 300_000);

  it("resumes a trainer killed with -9 from its checkpoint, training no batch twice and losing none", async () => {
    const run = await launch("kill", 8);
    const address = `127.0.0.1:${run.bridgePort}`;
    const stepsFile = join(run.runDir, "trainer", "steps.jsonl");
    const first = trainer(address, run.runDir);
    const farm = run.farm.run();
    let outcome;
    let second: ChildProcess | undefined;
    try {
      await expect
        .poll(() => lines<StepLine>(stepsFile).filter((line) => line.event === "step").length, {
          timeout: 120_000,
          interval: 50,
        })
        .toBeGreaterThanOrEqual(2);
      first.kill("SIGKILL");
      await exited(first);
      second = trainer(address, run.runDir);
      outcome = await farm;
      await run.bridge!.drained();
    } finally {
      await run.close();
    }
    // The farm's bridge closed: the trainer sees the run end and exits cleanly.
    expect(await exited(second)).toBe(0);
    const log = lines<StepLine>(stepsFile);
    const restored = log.find((line) => line.event === "restored")!;
    expect(restored.weights_sha256).toBe(restored.saved_sha256);
    const trained = log.filter((line) => line.event === "step").map((line) => line.batch_id);
    expect(new Set(trained).size).toBe(trained.length);
    expect(trained).toHaveLength(outcome.batches);
    const acked = lines<{ batchId: string }>(join(run.runDir, "trainer.jsonl")).map(
      (ack) => ack.batchId,
    );
    expect(new Set(acked).size).toBe(acked.length);
    expect(acked.sort()).toEqual([...trained].sort());
  }, 300_000);

  it("resumes a farm killed with -9 (train --resume): the trainer waits for it, and no batch is lost or trained twice", async () => {
    const tiny = await startTinyServer({ weights: warm });
    servers.push(tiny);
    const port = await freePort();
    const config = tinyLoopConfig({
      dir,
      id: "farm-kill",
      mode: "llm",
      url: tiny.baseURL,
      steps: 10,
      train: tasks,
      groupsPerStep: 4,
    });
    const path = join(dir, "farm-kill.yaml");
    writeFileSync(
      path,
      JSON.stringify({
        ...config,
        run: { ...config.run, nice: 0 },
        sink: { ...config.sink, address: `127.0.0.1:${port}` },
      }),
    );
    const runDir = join(dir, "farm-kill");
    const logFile = (first: string) =>
      openSync(join(dir, `farm-kill-${first.replace(/\W/g, "")}.log`), "a");
    const farm = (...args: string[]) =>
      spawn(process.execPath, ["--import", "tsx", "orchestrator/cli/main.ts", "train", ...args], {
        stdio: ["ignore", logFile(args[0]!), logFile(args[0]!)],
      });
    const first = farm(path);
    await expect
      .poll(() => existsSync(join(runDir, "journal.jsonl")), { timeout: 60_000 })
      .toBe(true);
    const child = spawnTrainer({
      address: `127.0.0.1:${port}`,
      model: `tiny:${warm}`,
      out: runDir,
      lr: 1e-3,
    });
    const stepsFile = join(runDir, "trainer", "steps.jsonl");
    await expect
      .poll(
        () => readJsonLines<StepLine>(stepsFile).filter((line) => line.event === "step").length,
        {
          timeout: 120_000,
          interval: 50,
        },
      )
      .toBeGreaterThanOrEqual(3);
    first.kill("SIGKILL");
    await exited(first);
    const second = farm("--resume", runDir);
    // Bounded, with the logs when it is not done: a hang says where it hung.
    const timer = setTimeout(() => second.kill("SIGKILL"), 200_000);
    const resumed = await exited(second);
    clearTimeout(timer);
    if (resumed === null)
      throw new Error(
        `the resumed farm did not finish within 200 s:\n${readFileSync(join(dir, "farm-kill-resume.log"), "utf8").slice(-4000)}\ntrainer:\n${readFileSync(join(runDir, "trainer-0.log"), "utf8").slice(-4000)}`,
      );
    if (resumed !== 0)
      throw new Error(
        `the resumed farm exited ${resumed}:\n${readFileSync(join(dir, "farm-kill-resume.log"), "utf8")}`,
      );
    expect(await exited(child)).toBe(0);
    const log = readJsonLines<StepLine>(stepsFile);
    expect(log.map((line) => line.event)).toEqual(
      expect.arrayContaining(["farm_lost", "farm_back"]),
    );
    const trained = log.filter((line) => line.event === "step").map((line) => line.batch_id!);
    expect(new Set(trained).size).toBe(trained.length);
    // Every batch the farm committed, in both sessions, was acked, and each was trained once.
    const batches = readSpooledBatches(runDir);
    expect(batches.every((batch) => batch.acked)).toBe(true);
    expect([...trained].sort()).toEqual(batches.map((batch) => batch.batchId).sort());
    const steps = readJsonLines<{ type: string }>(join(runDir, "journal.jsonl")).filter(
      (line) => line.type === "step",
    );
    expect(steps).toHaveLength(10);
  }, 300_000);
});
