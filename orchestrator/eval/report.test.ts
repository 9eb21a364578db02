/**
 * `computeReport` on a known set of records (testing/eval-fixtures.ts): every figure worked out
 * by hand from the fixture's rewards, turns, capability tags and token usage.
 */
import { describe, expect, it } from "vitest";
import { fixtureRecord, fixtureRecords, fixtureReport } from "../../testing/eval-fixtures.js";
import { computeReport, passAtK } from "./report.js";

function choose(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return result;
}

describe("passAtK", () => {
  it("is 1 - C(n-c, k) / C(n, k)", () => {
    for (let n = 1; n <= 12; n++)
      for (let c = 0; c <= n; c++)
        for (let k = 1; k <= n; k++) {
          const expected = n - c < k ? 1 : 1 - choose(n - c, k) / choose(n, k);
          expect(passAtK(n, c, k), `n=${n} c=${c} k=${k}`).toBeCloseTo(expected, 12);
        }
  });

  it("refuses k above the samples", () => {
    expect(() => passAtK(2, 1, 4)).toThrow("pass@4 needs at least 4 samples, got 2");
  });
});

describe("computeReport on the fixture run", () => {
  const report = fixtureReport();

  it("scores each domain and mode, leaving infrastructure failures out", () => {
    // math: sandbox [1, 1], [1, 0]; LLM [1, 0], [0, 0].
    expect(report.domains.math!.sandbox).toMatchObject({ score: 0.75, n: 4, tasks: 2, failed: 0 });
    expect(report.domains.math!.llm).toMatchObject({ score: 0.25, n: 4, tasks: 2 });
    expect(report.domains.math!.gain).toBe(0.5);
    expect(report.domains.math!.sandbox!.passAtK).toEqual({ "1": 0.75, "2": 1 });
    expect(report.domains.math!.llm!.passAtK).toEqual({ "1": 0.25, "2": 0.5 });
    // chemistry: sandbox 1, 0.5 and one infrastructure failure; LLM 0, 1, 0.
    expect(report.domains.chemistry!.sandbox).toMatchObject({ score: 0.75, n: 2, failed: 1 });
    expect(report.domains.chemistry!.sandbox!.passAtK).toEqual({ "1": 0.5 });
    expect(report.domains.chemistry!.llm!.score).toBeCloseTo(1 / 3, 12);
    expect(report.domains.chemistry!.gain).toBeCloseTo(0.75 - 1 / 3, 12);
    // long context: the LLM ahead.
    expect(report.domains.long_context!.gain).toBe(-0.5);
    // software: sandbox only (a max_turns rollout scores its 0); no gain without both modes.
    expect(report.domains.software!.sandbox).toMatchObject({ score: 0.5, n: 2 });
    expect(report.domains.software!.llm).toBeUndefined();
    expect(report.domains.software!.gain).toBeNull();
  });

  it("sums overall over rollouts, with the macro mean beside it", () => {
    expect(report.overall.sandbox).toMatchObject({
      score: 6.5 / 10,
      n: 10,
      failed: 1,
      macroScore: (0.75 + 0.75 + 0.5 + 0.5) / 4,
    });
    // Success shares per task: math 1, 0.5; chem 1, 0; long 1, 0; software 1, 0. Only the two
    // math tasks have two repeats: pass@2 is theirs.
    expect(report.overall.sandbox!.passAtK).toEqual({ "1": 4.5 / 8, "2": 1 });
    expect(report.overall.sandbox!.passAtKTasks).toEqual({ "1": 8, "2": 2 });
    expect(report.overall.llm!.score).toBeCloseTo(4 / 9, 12);
    expect(report.overall.llm!.macroScore).toBeCloseTo((0.25 + 1 / 3 + 1) / 3, 12);
    expect(report.overall.gain).toBeCloseTo(0.65 - 4 / 9, 12);
    expect(report.rollouts).toEqual({ sandbox: 11, llm: 9 });
  });

  it("rates capabilities over sandbox turns, per domain and overall", () => {
    expect(report.capability_usage.math).toEqual({
      turns: 8,
      computation: 1,
      external_resource: 0,
      file_management: 0.5,
    });
    const chemistry = report.capability_usage.chemistry!;
    expect(chemistry.turns).toBe(7);
    expect(chemistry.computation).toBeCloseTo(5 / 7, 12);
    expect(chemistry.external_resource).toBeCloseTo(3 / 7, 12);
    expect(chemistry.file_management).toBeCloseTo(2 / 7, 12);
    expect(report.capability_usage.software).toEqual({
      turns: 4,
      computation: 0.5,
      external_resource: 0,
      file_management: 0.25,
    });
    expect(report.capability_usage.overall!.turns).toBe(25);
    expect(report.capability_usage.overall!.computation).toBeCloseTo(17 / 25, 12);
    expect(report.capability_usage.overall!.file_management).toBeCloseTo(11 / 25, 12);
    expect(report.capability_usage.overall!.external_resource).toBeCloseTo(3 / 25, 12);
  });

  it("sums tokens per mode and domain, with the sandbox/LLM ratio per rollout", () => {
    // A sandbox turn's call i has 1500 (i + 1) prompt and 150 completion tokens.
    expect(report.tokens.byDomain.math!.sandbox).toMatchObject({
      prompt: 4 * 4500,
      completion: 4 * 300,
      rollouts: 4,
    });
    expect(report.tokens.byDomain.math!.llm).toMatchObject({
      prompt: 4 * 600,
      completion: 4 * 900,
    });
    expect(report.tokens.byDomain.long_context!.llm).toMatchObject({
      prompt: 520_000,
      completion: 900,
      total: 520_900,
      perRollout: { prompt: 260_000, completion: 450, total: 260_450 },
    });
    const sandboxTotal = 4 * 4800 + (9450 + 9450 + 1650) + 2 * 9450 + (9450 + 1650);
    const llmTotal = 4 * 1500 + 3 * 1500 + 2 * 260_450;
    expect(report.tokens.sandbox!.total).toBe(sandboxTotal);
    expect(report.tokens.llm!.total).toBe(llmTotal);
    expect(report.tokens.ratio!.total).toBeCloseTo(sandboxTotal / 11 / (llmTotal / 9), 12);
    expect(report.tokens.byDomain.long_context!.ratio).toEqual({
      prompt: 9000 / 260_000,
      completion: 450 / 450,
      total: 9450 / 260_450,
    });
    // A domain without plain-mode rollouts has no ratio.
    expect(report.tokens.byDomain.software!.ratio).toBeNull();
  });

  it("reports turns and stop reasons per mode", () => {
    expect(report.domains.math!.sandbox!.turns).toEqual({ mean: 2, max: 2 });
    expect(report.domains.math!.llm!.turns).toEqual({ mean: 1, max: 1 });
    expect(report.stop_reasons).toEqual({
      sandbox: { max_turns: 1, sandbox_error: 1, submitted: 9 },
      llm: { submitted: 9 },
    });
  });

  it("keeps each domain's best sandbox rollout to read, shortened", () => {
    expect(Object.keys(report.examples)).toEqual(["chemistry", "long_context", "math", "software"]);
    expect(report.examples.math).toEqual({
      taskId: "math-1",
      question: "Fixture question math-1: what is 6 * 7?",
      reward: 1,
      stopReason: "submitted",
      answer: "42",
      turns: [
        {
          tool: "execute_bash",
          input: "python3 solve.py",
          capabilities: ["computation"],
          observation: "ok",
          isError: false,
        },
        {
          tool: "execute_bash",
          input: "python3 solve.py > /testbed/out.txt",
          capabilities: ["computation", "file_management"],
          observation: "ok",
          isError: false,
        },
      ],
    });
    // chem-2 scored 0.5 and chem-3 failed: chem-1 (reward 1) is the one shown.
    expect(report.examples.chemistry!.taskId).toBe("chem-1");

    const long = fixtureRecord({ turns: Array.from({ length: 15 }, () => ["computation"]) });
    long.episode.turns[0]!.observation = "x".repeat(1000);
    const shown = computeReport([long], { runId: "long", modes: ["sandbox"] }).examples.math!;
    expect(shown.turns).toHaveLength(12);
    expect(shown.turns[0]!.observation).toBe(`${"x".repeat(400)}… (600 more characters)`);
    // No sandbox rollout, no example.
    const plain = computeReport([fixtureRecord({ mode: "llm" })], { runId: "p", modes: ["llm"] });
    expect(plain.examples).toEqual({});
  });

  it("gives nulls, not NaN, where a mode has nothing", () => {
    const only = computeReport([fixtureRecord({ mode: "sandbox" })], {
      runId: "one",
      modes: ["sandbox", "llm"],
    });
    expect(only.overall.llm).toBeUndefined();
    expect(only.overall.gain).toBeNull();
    expect(only.tokens.ratio).toBeNull();
    expect(only.rollouts).toEqual({ sandbox: 1, llm: 0 });
    const failed = computeReport([fixtureRecord({ trainable: false })], {
      runId: "failed",
      modes: ["sandbox"],
    });
    expect(failed.overall.sandbox).toMatchObject({ score: 0, n: 0, failed: 1, passAtK: {} });
    expect(JSON.stringify(failed)).not.toContain("NaN");
    expect(fixtureRecords()).toHaveLength(20);
  });
});
