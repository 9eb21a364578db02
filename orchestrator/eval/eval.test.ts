/**
 * `runEvaluation` end to end: real sandboxes, the stub replaying the recorded solutions of the
 * bundled samples, every figure of the report checked against values worked out from the
 * recordings themselves (which turns solve, which capabilities their commands use, how many
 * tokens the stub samples for them, what the plain-mode prompt renders to).
 */
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  appendFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPrompt } from "../../datasets/prompts.js";
import { readTasks } from "../../datasets/load.js";
import type { Task } from "../../datasets/task.js";
import {
  GIVE_UP,
  RECORDED_SOLUTIONS,
  startRecordedStub,
} from "../../testing/vllm-stub/recorded/index.js";
import {
  type RunningVllmStub,
  renderChat,
  sampleTurn,
  startVllmStub,
  stubTokenizer,
} from "../../testing/vllm-stub/index.js";
import { capabilitiesOf, CAPABILITIES, type Capability } from "../agent/capabilities.js";
import { toolDefinitions } from "../tools/definitions.js";
import { parseEvalConfig } from "../config/eval.js";
import { exportSft } from "./export-sft.js";
import { type EvalRecord, readEvalRecords, recordKey } from "./records.js";
import { rescoreRun } from "./rescore.js";
import { type EvalReport, computeReport } from "./report.js";
import { runEvaluation } from "./run-eval.js";

const MATH = "datasets/samples/math.jsonl";
const GENERAL = "datasets/samples/general.jsonl";

let stub: RunningVllmStub;
let dir: string;
let tasks: Task[] = [];
/** math-002's plain-mode recording, made wrong for these tests so the modes differ. */
const WRONG_LLM = "It is one half.\n\nAnswer: \\boxed{\\frac{1}{2}}";

beforeAll(async () => {
  const solutions = RECORDED_SOLUTIONS.map((solution) =>
    solution.id === "math-002" ? { ...solution, llm: WRONG_LLM } : solution,
  );
  stub = await startRecordedStub({ solutions, cutEveryOther: true });
  dir = mkdtempSync(join(tmpdir(), "sandfarm-eval-"));
  for await (const task of readTasks([MATH, GENERAL])) tasks.push(task);
});

afterAll(async () => {
  await stub?.close();
  rmSync(dir, { recursive: true, force: true });
  tasks = [];
});

function config(overrides: Record<string, unknown> = {}) {
  return parseEvalConfig({
    tasks: [MATH, GENERAL],
    limit: 2,
    mode: "both",
    repeats: 2,
    concurrency: 4,
    policy: { urls: [stub.baseURL], model: "stub-model" },
    sandbox: { network: "none", memoryMb: 512, runId: "vitest" },
    episode: { maxTokensPerCall: 4096, maxTotalTokens: 200_000 },
    ...overrides,
  });
}

const solutionOf = (id: string) => RECORDED_SOLUTIONS.find((solution) => solution.id === id)!;

function toolTags(turn: { toolCalls?: { name: string; arguments: string }[] }): Capability[] {
  const call = turn.toolCalls?.[0];
  if (!call) return [];
  return capabilitiesOf(call.name, JSON.parse(call.arguments) as Record<string, unknown>);
}

describe("sandfarm eval on recorded solutions", () => {
  let report: EvalReport;
  let runDir: string;
  const chosen = () =>
    tasks.filter((task) =>
      ["math-001", "math-002", "general-single-001", "general-single-002"].includes(task.id),
    );

  let inMemory: EvalRecord[];

  beforeAll(async () => {
    const result = await runEvaluation({
      config: config({ outputDir: join(dir, "run"), notes: ["stub replay"] }),
    });
    runDir = result.runDir;
    report = result.report!;
    inMemory = result.records;
  }, 300_000);

  it("runs every task, mode and repeat once and writes the report files", async () => {
    const records = await readEvalRecords(join(runDir, "trajectories.jsonl"));
    expect(records).toHaveLength(4 * 2 * 2);
    const keys = records.map((record) =>
      recordKey({ taskId: record.task.id, mode: record.mode, repeat: record.repeat }),
    );
    expect(new Set(keys).size).toBe(16);
    expect(new Set(records.map((record) => record.task.id))).toEqual(
      new Set(["math-001", "math-002", "general-single-001", "general-single-002"]),
    );
    for (const name of ["report.json", "report.md", "report.html", "config.json"])
      expect(existsSync(join(runDir, name)), name).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, "report.json"), "utf8"))).toEqual(report);
    expect(report.notes).toEqual(["stub replay"]);
    expect(report.sandbox).toEqual({
      backend: "docker",
      image: "sandfarm/sandbox:0.1.0",
      id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as string,
      recipe: expect.stringMatching(/^[0-9a-f]{16}$/) as string,
    });
    expect(report.taskFiles.map((entry) => [entry.file, entry.tasks])).toEqual([
      [resolve(MATH), 2],
      [resolve(GENERAL), 2],
    ]);
  });

  it("keeps slim records in memory, with the same figures as the whole ones in the file", async () => {
    expect(inMemory).toHaveLength(16);
    expect(inMemory.every((record) => record.episode.messages.length === 0)).toBe(true);
    expect(
      inMemory.some((record) => record.episode.calls.some((call) => call.promptTokenIds)),
    ).toBe(false);
    const whole = await readEvalRecords(join(runDir, "trajectories.jsonl"));
    expect(whole.every((record) => record.episode.messages.length > 0)).toBe(true);
    const fromFile = computeReport(whole, { runId: report.runId, modes: report.modes });
    for (const key of [
      "domains",
      "overall",
      "capability_usage",
      "tokens",
      "stop_reasons",
      "examples",
    ] as const)
      expect(fromFile[key], key).toEqual(report[key]);
  });

  it("scores each domain and mode as the recordings decide", () => {
    // Every other conversation of a task gives up, so each task and mode has one success in
    // two repeats, except math-002 in plain mode, whose response is wrong both times.
    expect(report.domains.math!.sandbox).toMatchObject({ score: 0.5, n: 4, tasks: 2, failed: 0 });
    expect(report.domains.math!.llm).toMatchObject({ score: 0.25, n: 4, tasks: 2, failed: 0 });
    expect(report.domains.math!.gain).toBeCloseTo(0.25, 12);
    expect(report.domains.general!.sandbox!.score).toBe(0.5);
    expect(report.domains.general!.llm!.score).toBe(0.5);
    expect(report.domains.general!.gain).toBe(0);
    // pass@1 = successes / 2 per task; pass@2 = 1 when one of the two succeeded.
    expect(report.domains.math!.sandbox!.passAtK).toEqual({ "1": 0.5, "2": 1 });
    expect(report.domains.math!.llm!.passAtK).toEqual({ "1": 0.25, "2": 0.5 });
    expect(report.overall.sandbox).toMatchObject({ score: 0.5, n: 8, macroScore: 0.5 });
    expect(report.overall.llm).toMatchObject({ score: 0.375, n: 8, macroScore: 0.375 });
    expect(report.overall.gain).toBeCloseTo(0.125, 12);
    expect(report.stop_reasons).toEqual({ sandbox: { submitted: 8 }, llm: { submitted: 8 } });
  });

  it("counts turns and capability usage from the recorded tool calls", () => {
    for (const domain of ["math", "general"]) {
      const mine = chosen().filter((task) => task.domain === domain);
      // Per task: the whole recording once, and one give-up turn (submit, no capability).
      const turns = mine.flatMap((task) => [...solutionOf(task.id).sandbox.map(toolTags), []]);
      const usage = report.capability_usage[domain]!;
      expect(usage.turns).toBe(turns.length);
      for (const capability of CAPABILITIES) {
        const expected = turns.filter((tags) => tags.includes(capability)).length / turns.length;
        expect(usage[capability], `${domain} ${capability}`).toBeCloseTo(expected, 12);
      }
      expect(report.domains[domain]!.sandbox!.turns.mean).toBe(turns.length / (mine.length * 2));
      expect(report.domains[domain]!.sandbox!.turns.max).toBe(
        Math.max(...mine.map((task) => solutionOf(task.id).sandbox.length)),
      );
    }
    expect(report.capability_usage.math!.computation).toBeGreaterThan(0);
  });

  it("counts the tokens the stub sampled and the prompts it rendered", () => {
    const giveUp = {
      sandbox: sampleTurn(GIVE_UP.sandbox).ids.length,
      llm: sampleTurn(GIVE_UP.llm).ids.length,
    };
    for (const domain of ["math", "general"]) {
      const mine = chosen().filter((task) => task.domain === domain);
      // Completions: each recorded turn as the stub samples it, plus one give-up per task.
      const sandboxCompletion = mine.reduce(
        (sum, task) =>
          sum +
          solutionOf(task.id).sandbox.reduce(
            (turns, turn) => turns + sampleTurn(turn).ids.length,
            0,
          ) +
          giveUp.sandbox,
        0,
      );
      const llmText = (task: Task) =>
        task.id === "math-002" ? WRONG_LLM : solutionOf(task.id).llm;
      const llmCompletion = mine.reduce(
        (sum, task) => sum + sampleTurn({ content: llmText(task) }).ids.length + giveUp.llm,
        0,
      );
      // Plain-mode prompts: the stub's rendering of the two messages sandfarm builds.
      const llmPrompt = mine.reduce((sum, task) => {
        const prompt = buildPrompt(task, "llm");
        const ids = renderChat(
          [
            { role: "system", content: prompt.system },
            { role: "user", content: prompt.user },
          ],
          undefined,
          { addGenerationPrompt: true },
        );
        return sum + 2 * ids.length;
      }, 0);
      const tokens = report.tokens.byDomain[domain]!;
      expect(tokens.sandbox!.completion, `${domain} sandbox completion`).toBe(sandboxCompletion);
      expect(tokens.llm!.completion, `${domain} llm completion`).toBe(llmCompletion);
      expect(tokens.llm!.prompt, `${domain} llm prompt`).toBe(llmPrompt);
      expect(tokens.llm!.perRollout.total).toBe((llmPrompt + llmCompletion) / (mine.length * 2));
      // Every sandbox call sends at least the first call's prompt (system, user, tools).
      const firstPrompt = mine.map((task) => {
        const prompt = buildPrompt(task, "sandbox");
        return renderChat(
          [
            { role: "system", content: prompt.system },
            { role: "user", content: prompt.user },
          ],
          toolDefinitions(),
          { addGenerationPrompt: true },
        ).length;
      });
      expect(tokens.sandbox!.prompt).toBeGreaterThan(Math.min(...firstPrompt) * 2 * mine.length);
    }
    const all = report.tokens;
    expect(all.ratio!.total).toBeCloseTo(
      all.sandbox!.perRollout.total / all.llm!.perRollout.total,
      12,
    );
    expect(stubTokenizer.encode("x").length).toBe(1);
  });
});

describe("paper-style scoring with an LLM judge", () => {
  const PHYSICS = "datasets/samples/physics.jsonl";

  it("sends physics to the judge and counts a judge outage as failed, not as the model's 0", async () => {
    // A judge model (the stub as a test double) that agrees only with the right physics answer.
    const judge = await startVllmStub({
      model: "judge-model",
      responder: (body) =>
        JSON.stringify(body.messages).includes("5.10, 35.3") ? "CORRECT" : "INCORRECT",
    });
    const down = await startVllmStub({
      model: "judge-model",
      responder: () => ({ status: 404, body: { error: { message: "no such model" } } }),
    });
    // A policy replaying every recording whole (the file's shared stub cuts every other one).
    const policy = await startRecordedStub();
    try {
      const run = (url: string, name: string) =>
        runEvaluation({
          config: config({
            tasks: [PHYSICS, MATH],
            limit: 1,
            mode: "llm",
            repeats: 1,
            outputDir: join(dir, name),
            policy: { urls: [policy.baseURL], model: "stub-model" },
            rewards: { judge: { url, model: "judge-model" } },
          }),
        });
      const judged = await run(judge.baseURL, "judged");
      const byTask = Object.fromEntries(
        judged.records.map((record) => [record.task.id, [record.scorer, record.reward]]),
      );
      // Physics goes to the judge (4 judgments, all CORRECT); math keeps its equivalence check.
      expect(byTask).toEqual({ "physics-001": ["judge", 1], "math-001": ["math", 1] });
      expect(judged.report!.scoring).toEqual({
        judge: "judge-model",
        routes: { math: "math", physics: "judge", long_context: "judge" },
      });

      const outage = await run(down.baseURL, "judge-down");
      expect(outage.report!.domains.physics!.llm).toMatchObject({ n: 0, failed: 1 });
      expect(outage.report!.domains.math!.llm).toMatchObject({ score: 1, n: 1, failed: 0 });
      expect(outage.records.find((record) => record.task.id === "physics-001")).toMatchObject({
        status: "infrastructure",
        trainable: false,
      });
    } finally {
      await Promise.all([judge.close(), down.close(), policy.close()]);
    }
  }, 60_000);
});

describe("an interrupted eval run", () => {
  it("resumes without losing or duplicating a rollout, cutting a torn last line", async () => {
    const controller = new AbortController();
    const outputDir = join(dir, "resumed");
    const first = await runEvaluation({
      config: config({ outputDir, mode: "llm", repeats: 3 }),
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.done >= 5) controller.abort();
      },
    });
    expect(first.cancelled).toBe(true);
    expect(first.report).toBeUndefined();
    expect(existsSync(join(outputDir, "report.json"))).toBe(false);
    const kept = await readEvalRecords(join(outputDir, "trajectories.jsonl"));
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeLessThan(12);
    // A crash in the middle of a write leaves half a line.
    appendFileSync(join(outputDir, "trajectories.jsonl"), '{"schemaVersion":1,"task":{"id":"ma');

    const second = await runEvaluation({ resumeDir: outputDir });
    expect(second.cancelled).toBe(false);
    const records = await readEvalRecords(join(outputDir, "trajectories.jsonl"));
    expect(records).toHaveLength(4 * 3);
    const keys = records.map((record) =>
      recordKey({ taskId: record.task.id, mode: record.mode, repeat: record.repeat }),
    );
    expect(new Set(keys).size).toBe(12);
    // The first session's records are kept as they were, in front.
    expect(records.slice(0, kept.length).map((record) => record.episode.rolloutId)).toEqual(
      kept.map((record) => record.episode.rolloutId),
    );
    expect(second.report!.rollouts).toEqual({ llm: 12 });
    // Plain mode only: no sandbox to name.
    expect(second.report!.sandbox).toBeNull();
    expect(second.report!.overall.llm!.n).toBe(12);
  }, 120_000);

  it("runs a rollout lost to an infrastructure failure again, and only the new one counts", async () => {
    const outputDir = join(dir, "infra");
    await runEvaluation({ config: config({ outputDir, mode: "llm", repeats: 1, limit: 1 }) });
    const path = join(outputDir, "trajectories.jsonl");
    const [first, second] = readFileSync(path, "utf8").trim().split("\n");
    // As if the first rollout's policy call had failed.
    const failed = {
      ...(JSON.parse(first!) as EvalRecord),
      reward: 0,
      status: "infrastructure",
      trainable: false,
    };
    writeFileSync(path, `${JSON.stringify(failed)}\n${second}\n`);

    const resumed = await runEvaluation({ resumeDir: outputDir });
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(3);
    const records = await readEvalRecords(path);
    expect(records.map((record) => [record.task.id, record.trainable])).toEqual([
      [failed.task.id === "math-001" ? "general-single-001" : "math-001", true],
      [failed.task.id, true],
    ]);
    expect(resumed.report!.overall.llm).toMatchObject({ n: 2, failed: 0 });
    expect(resumed.report!.rollouts).toEqual({ llm: 2 });
    // Everything that reads the run sees each key once.
    expect((await exportSft(outputDir, { output: join(dir, "infra-sft.jsonl") })).read).toBe(2);
    const rescored = await rescoreRun(outputDir, { scorer: "exact", workers: 1 });
    expect(rescored.records).toHaveLength(2);
    expect(rescored.report.rollouts).toEqual({ llm: 2 });
  }, 60_000);

  it("refuses to resume when a task file changed", async () => {
    const file = join(dir, "tasks.jsonl");
    writeFileSync(file, readFileSync(MATH, "utf8").split("\n").slice(0, 2).join("\n") + "\n");
    const outputDir = join(dir, "changed");
    await runEvaluation({ config: config({ tasks: [file], outputDir, mode: "llm", repeats: 1 }) });
    expect(JSON.parse(readFileSync(join(outputDir, "task-files.json"), "utf8"))).toEqual([
      { file, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string },
    ]);
    writeFileSync(file, readFileSync(MATH, "utf8").split("\n").slice(0, 1).join("\n") + "\n");
    await expect(runEvaluation({ resumeDir: outputDir })).rejects.toThrow(
      new RegExp(
        `${file} changed since the eval run started \\(sha256 [0-9a-f]{12}\\.\\.\\. is now [0-9a-f]{12}\\.\\.\\.\\); restore the file or start a new run`,
      ),
    );
  }, 60_000);

  it("refuses to resume on another sandbox image", async () => {
    const outputDir = join(dir, "image");
    await runEvaluation({
      config: config({ outputDir, mode: "sandbox", repeats: 1, limit: 1, domains: ["math"] }),
    });
    const path = join(outputDir, "sandbox-image.json");
    const image = JSON.parse(readFileSync(path, "utf8")) as Record<string, string>;
    expect(image.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    writeFileSync(path, JSON.stringify({ ...image, id: `sha256:${"0".repeat(64)}` }));
    await expect(runEvaluation({ resumeDir: outputDir })).rejects.toThrow(
      `the sandbox image sandfarm/sandbox:0.1.0 changed since the eval run started (id 000000000000 is now ${image.id!.slice(7, 19)}); rebuild the old one or start a new run`,
    );
  }, 60_000);

  it("refuses to start over a finished run and names --resume", async () => {
    const outputDir = join(dir, "twice");
    await runEvaluation({ config: config({ outputDir, mode: "llm", repeats: 1, limit: 1 }) });
    await expect(
      runEvaluation({ config: config({ outputDir, mode: "llm", repeats: 1, limit: 1 }) }),
    ).rejects.toThrow(`continue it with \`sandfarm eval --resume ${outputDir}\``);
  }, 60_000);

  it("sends only the sampling keys the config sets, per mode, and the chat template's switches with every call", async () => {
    const first = stub.requests.length;
    const { report: sampled } = await runEvaluation({
      config: config({
        outputDir: join(dir, "sampling"),
        tasks: [MATH],
        limit: 1,
        repeats: 1,
        policy: {
          urls: [stub.baseURL],
          model: "stub-model",
          sampling: { temperature: 0.6, byMode: { llm: { temperature: 0, seed: 5 } } },
          chatTemplateKwargs: { enable_thinking: false },
        },
      }),
    });
    const requests = stub.requests.slice(first);
    const chats = requests
      .filter((request) => request.path === "/v1/chat/completions")
      .map((request) => request.body as Record<string, unknown>);
    const tokenizes = requests
      .filter((request) => request.path === "/tokenize")
      .map((request) => request.body as Record<string, unknown>);
    // The preflight's two probe calls (doctor's checks) carry the switches too.
    const isProbe = (body: Record<string, unknown>) =>
      (body.messages as { content: string }[])[0]!.content === "Reply with the word ok.";
    expect(chats.filter(isProbe)).toHaveLength(2);
    const episodes = chats.filter((body) => !isProbe(body));
    const sandbox = episodes.filter((body) => body.tools !== undefined);
    const llm = episodes.filter((body) => body.tools === undefined);
    expect(sandbox.length).toBeGreaterThanOrEqual(1);
    expect(llm).toHaveLength(1);
    const SHAPING = ["top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty"];
    for (const body of sandbox) {
      expect(body.temperature).toBe(0.6);
      for (const key of [...SHAPING, "seed"]) expect(body).not.toHaveProperty(key);
    }
    expect(llm[0]).toMatchObject({ temperature: 0, seed: 5 });
    for (const key of SHAPING) expect(llm[0]).not.toHaveProperty(key);
    for (const body of [...chats, ...tokenizes])
      expect(body.chat_template_kwargs).toEqual({ enable_thinking: false });
    // Far from every limit (a 1M context, 4096 tokens a call) no prompt's length can change a
    // call, so none is counted (the count's switches: policy/client.test.ts).
    expect(tokenizes).toHaveLength(0);
    // The report says what was sent and the limits the episodes ran under.
    expect(sampled!.generation).toEqual({
      sampling: { sandbox: { temperature: 0.6 }, llm: { temperature: 0, seed: 5 } },
      chatTemplateKwargs: { enable_thinking: false },
      endpoint: {
        contextTokens: 1_048_576,
        contextSource: "server",
        maxTotalTokens: 200_000,
        maxTokensPerCall: 4096,
      },
    });
    const markdown = readFileSync(join(dir, "sampling", "report.md"), "utf8");
    expect(markdown).toContain(
      '- Sampling: sandbox `{"temperature":0.6}`; LLM `{"temperature":0,"seed":5}`',
    );
    expect(markdown).toContain(
      "- Context: 1048576 tokens (served); maxTotalTokens 200000, maxTokensPerCall 4096",
    );
  }, 120_000);

  it("names a missing task file by its key", async () => {
    writeFileSync(join(dir, "present.jsonl"), "");
    await expect(
      runEvaluation({
        config: config({ tasks: [join(dir, "present.jsonl"), join(dir, "nope.jsonl")] }),
      }),
    ).rejects.toThrow(`tasks[1]: no such file ${join(dir, "nope.jsonl")}`);
  });
});
