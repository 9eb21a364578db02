/**
 * The recorded solutions of the bundled samples, replayed by the stub through real episodes: one
 * per task, and each one's sandbox replay really reaches the ground truth in a real sandbox (the
 * answer file its commands write scores 1), as does its plain-mode response.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTasks } from "../../../datasets/load.js";
import type { Task } from "../../../datasets/task.js";
import { runEpisode } from "../../../orchestrator/agent/episode.js";
import { PolicyClient } from "../../../orchestrator/policy/client.js";
import { SandboxPool } from "../../../orchestrator/sandbox/pool.js";
import { Rewarder } from "../../../rewards/rewarder.js";
import { testSandboxBackend } from "../../sandboxes.js";
import type { RunningVllmStub } from "../server.js";
import { RECORDED_SOLUTIONS, SAMPLES_DIR, startRecordedStub } from "./index.js";

const FILES = [
  "math",
  "physics",
  "chemistry",
  "biomedicine",
  "instruction_following",
  "general",
  "long_context",
];

let tasks: Task[] = [];
let stub: RunningVllmStub;
let policy: PolicyClient;
let pool: SandboxPool;
let rewarder: Rewarder;

beforeAll(async () => {
  for await (const task of readTasks(FILES.map((name) => `${SAMPLES_DIR}/${name}.jsonl`)))
    tasks.push(task);
  stub = await startRecordedStub();
  policy = new PolicyClient({ urls: [stub.baseURL], model: "stub-model" });
  pool = new SandboxPool(testSandboxBackend({ memoryMb: 1024 }), { warmSize: 4 });
  await pool.start();
  rewarder = await Rewarder.create({ pool: "in-process" });
});

afterAll(async () => {
  policy?.close();
  await stub?.close();
  await pool?.close();
  await rewarder?.close();
  tasks = [];
});

describe("recorded solutions of the bundled samples", () => {
  it("exist once for every sample task and for nothing else", () => {
    const ids = RECORDED_SOLUTIONS.map((solution) => solution.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(tasks.map((task) => task.id).sort());
    for (const solution of RECORDED_SOLUTIONS) {
      const last = solution.sandbox.at(-1);
      expect(last?.toolCalls?.[0]?.name, `${solution.id} ends with submit`).toBe("submit");
    }
  });

  it.each(FILES)(
    "%s: each sandbox replay writes the right answer file",
    async (file) => {
      const mine = tasks.filter((task) => `${task.domain}` === file);
      expect(mine.length).toBeGreaterThan(0);
      const queue = [...mine];
      const results: Record<string, { reward: number; stop: string; answer: string | null }> = {};
      const worker = async () => {
        for (let task = queue.shift(); task; task = queue.shift()) {
          const episode = await runEpisode(
            task,
            "sandbox",
            { policy, sandboxes: pool },
            { rolloutId: `rec-${task.id}`, groupId: "recorded" },
            { maxTotalTokens: 1 << 20, maxTokensPerCall: 16_384, timeoutMs: 120_000 },
          );
          const outcome = await rewarder.reward({
            task,
            answer: episode.answer,
            mode: "sandbox",
            stopReason: episode.stopReason,
          });
          results[task.id] = {
            reward: outcome.reward,
            stop: episode.stopReason,
            answer: episode.answer,
          };
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const wrong = Object.entries(results).filter(([, result]) => result.reward !== 1);
      expect(wrong, JSON.stringify(wrong, null, 1)).toEqual([]);
      expect(Object.keys(results)).toHaveLength(mine.length);
    },
    300_000,
  );

  it.each(FILES)("%s: each plain-mode response scores 1", async (file) => {
    const mine = tasks.filter((task) => `${task.domain}` === file);
    const wrong: [string, number][] = [];
    for (const task of mine) {
      const solution = RECORDED_SOLUTIONS.find((entry) => entry.id === task.id);
      const outcome = await rewarder.reward({
        task,
        answer: solution?.llm ?? null,
        mode: "llm",
        stopReason: "submitted",
      });
      if (outcome.reward !== 1) wrong.push([task.id, outcome.reward]);
    }
    expect(wrong).toEqual([]);
  });
});
