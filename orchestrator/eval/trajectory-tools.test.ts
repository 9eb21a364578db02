/**
 * `compare`, `rescore` and `export-sft` on fixture runs (testing/eval-fixtures.ts): known
 * reports, known answers, known conversations; every expected value worked out by hand.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixtureRecord, fixtureRecords, fixtureReport } from "../../testing/eval-fixtures.js";
import { toolDefinitions } from "../tools/definitions.js";
import { compareReports, loadReport } from "./compare.js";
import { type SftExample, exportSft } from "./export-sft.js";
import { type EvalRecord, readEvalRecords, serializeEvalRecord } from "./records.js";
import { renderCompareMarkdown } from "./render-md.js";
import type { computeReport } from "./report.js";
import { rescoreRun } from "./rescore.js";

const root = mkdtempSync(join(tmpdir(), "sandfarm-eval-tools-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A run directory holding these records and their report, as `sandfarm eval` leaves it. */
function writeRun(name: string, records: readonly EvalRecord[], runId = name): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "trajectories.jsonl"),
    records.map((record) => `${serializeEvalRecord(record)}\n`).join(""),
  );
  const report = fixtureReport({ runId }, records);
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report)}\n`);
  return dir;
}

describe("compare", () => {
  const base = writeRun("base", fixtureRecords(), "base");
  // The second run: every math rollout right in both modes, and no software domain.
  const tunedRecords = fixtureRecords()
    .filter((record) => record.task.domain !== "software")
    .map((record) => (record.task.domain === "math" ? { ...record, reward: 1 } : record));
  const tuned = writeRun("tuned", tunedRecords, "tuned");

  it("puts runs side by side with differences from the first", () => {
    const comparison = compareReports([loadReport(base), loadReport(tuned)]);
    expect(comparison.runs.map((run) => run.runId)).toEqual(["base", "tuned"]);
    expect(comparison.domains).toEqual(["chemistry", "long_context", "math", "software"]);
    const row = (domain: string, mode: string) =>
      comparison.rows.find((entry) => entry.domain === domain && entry.mode === mode)!;
    expect(row("math", "sandbox")).toMatchObject({
      scores: [0.75, 1],
      deltas: [null, 0.25],
      n: [4, 4],
    });
    expect(row("math", "llm")).toMatchObject({ scores: [0.25, 1], deltas: [null, 0.75] });
    expect(row("chemistry", "sandbox").deltas).toEqual([null, 0]);
    // A domain a run lacks is a gap, not a zero.
    expect(row("software", "sandbox")).toMatchObject({ scores: [0.5, null], deltas: [null, null] });
    expect(row("software", "llm")).toMatchObject({ scores: [null, null] });
    expect(comparison.partial).toEqual(["software"]);
    // Overall sandbox: base 6.5 / 10; tuned without software (1 / 2) and math all right: 6.5 / 8.
    expect(row("overall", "sandbox").scores).toEqual([0.65, 6.5 / 8]);
    expect(comparison.gains.find((entry) => entry.domain === "math")!.gains).toEqual([0.5, 0]);

    const markdown = renderCompareMarkdown(comparison);
    expect(markdown).toContain("| math | sandbox | 75.0 | 100.0 | +25.0 |");
    expect(markdown).toContain("| software | sandbox | 50.0 | - | - |");
    expect(markdown).toContain("Not every run evaluated: software");
    // Each run's notes travel with it (the fixture's says the policy was the stub).
    expect(comparison.runs[0]!.notes).toEqual(fixtureReport().notes);
    expect(markdown).toContain(`  - note: ${fixtureReport().notes[0]}`);
    expect(row("chemistry", "sandbox").failed).toEqual([1, 1]);
    expect(row("software", "sandbox").failed).toEqual([0, null]);
    expect(comparison.differentTasks).toEqual([]);
  });

  it("says when runs were not evaluated on the same task files", () => {
    const other = join(root, "other-tasks");
    mkdirSync(other);
    writeFileSync(
      join(other, "report.json"),
      JSON.stringify(
        fixtureReport({
          runId: "other",
          taskFiles: [
            { file: "datasets/fixture/tasks.jsonl", sha256: "ab".repeat(32), tasks: 9 },
            { file: "more.jsonl", sha256: "cd".repeat(32), tasks: 3 },
          ],
        }),
      ),
    );
    const comparison = compareReports([loadReport(base), loadReport(tuned), loadReport(other)]);
    expect(comparison.differentTasks).toEqual([
      "run 3 was evaluated on other task files than run 1 (0 of run 1's not used, 1 others)",
    ]);
    expect(renderCompareMarkdown(comparison)).toContain(
      "> **Not the same tasks:** run 3 was evaluated on other task files than run 1",
    );
  });

  it("needs two runs, each with a report", () => {
    expect(() => compareReports([loadReport(base)])).toThrow("compare needs at least two runs");
    const empty = join(root, "empty");
    mkdirSync(empty);
    expect(() => loadReport(empty)).toThrow(`${empty}: no report.json`);
    writeFileSync(
      join(empty, "report.json"),
      JSON.stringify({ ...fixtureReport(), modes: ["gpu"] }),
    );
    expect(() => loadReport(empty)).toThrow(
      `${join(empty, "report.json")}: not a sandfarm eval report this version reads (modes.0: Invalid option`,
    );
  });
});

describe("rescore", () => {
  // Truth "42" for every fixture task.
  const records = [
    fixtureRecord({ taskId: "a", answer: "42", reward: 1 }),
    fixtureRecord({ taskId: "b", answer: "The answer is 42", reward: 1 }),
    fixtureRecord({ taskId: "c", answer: "41", reward: 0 }),
    fixtureRecord({ taskId: "d", trainable: false }),
    fixtureRecord({
      taskId: "e",
      answer: "42",
      reward: 0,
      stopReason: "max_turns",
      status: "penalized",
    }),
  ];
  const run = writeRun("to-rescore", records);

  it("scores saved answers again with the named scorer, stop-reason rules still applied", async () => {
    const result = await rescoreRun(run, { scorer: "exact", workers: 1 });
    const byTask = Object.fromEntries(
      result.records.map((record) => [record.task.id, [record.reward, record.status]]),
    );
    expect(byTask).toEqual({
      a: [1, "scored"],
      b: [0, "scored"],
      c: [0, "scored"],
      d: [0, "infrastructure"],
      e: [0, "penalized"],
    });
    expect(result.changed).toBe(1);
    expect(result.outputDir).toBe(join(run, "rescored-exact"));
    // Written beside the run: the records (episodes untouched) and their report.
    const written = await readEvalRecords(join(result.outputDir, "trajectories.jsonl"));
    expect(written.map((record) => record.reward)).toEqual([1, 0, 0, 0, 0]);
    expect(written[1]!.episode).toEqual(records[1]!.episode);
    expect(written[1]!.scorer).toBe("exact");
    const report = JSON.parse(
      readFileSync(join(result.outputDir, "report.json"), "utf8"),
    ) as ReturnType<typeof computeReport>;
    expect(report.overall.sandbox).toMatchObject({ score: 1 / 4, n: 4, failed: 1 });
    expect(report.notes.at(-1)).toContain("with the exact scorer");
    // Compared with the run: sandbox math 2/4 before, 1/4 after.
    expect(result.comparison.rows.find((row) => row.domain === "math")!.scores).toEqual([
      0.5, 0.25,
    ]);
  });

  it("takes a custom scorer module", async () => {
    const module = join(root, "contains-four.mjs");
    writeFileSync(
      module,
      "export function score({ answer }) { return { reward: answer.includes('4') ? 1 : 0, details: {} }; }\n",
    );
    const result = await rescoreRun(run, {
      scorer: "has_four",
      module,
      outputDir: join(root, "four"),
      workers: 1,
    });
    expect(result.records.map((record) => record.reward)).toEqual([1, 1, 1, 0, 0]);
  });

  it("names the scorers it knows and refuses a training run", async () => {
    await expect(rescoreRun(run, { scorer: "nope", workers: 1 })).rejects.toThrow(
      /--scorer nope: no such scorer; known: choice, multi_choice, exact, .*ifeval/,
    );
    await expect(rescoreRun(run, { scorer: "exact", outputDir: `${run}/` })).rejects.toThrow(
      "that is the run itself; give another directory",
    );
    const training = writeRun("training", records);
    writeFileSync(join(training, "journal.jsonl"), "");
    await expect(rescoreRun(training, { scorer: "exact" })).rejects.toThrow(
      "is a training run; rescore reads eval runs",
    );
  });
});

describe("export-sft", () => {
  const records = [
    fixtureRecord({ taskId: "m1", reward: 1, turns: [["computation"], ["file_management"]] }),
    fixtureRecord({ taskId: "m1", repeat: 1, reward: 1, turns: [["computation"]] }),
    fixtureRecord({ taskId: "m2", reward: 0.5 }),
    fixtureRecord({ taskId: "m3", reward: 0 }),
    fixtureRecord({ taskId: "m4", trainable: false }),
    fixtureRecord({ taskId: "m5", reward: 1, mode: "llm" }),
  ];
  const run = writeRun("sft", records);
  const read = (file: string) =>
    readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as SftExample);

  it("writes successful rollouts as chat conversations with their tool calls", async () => {
    const summary = await exportSft(run);
    expect(summary).toMatchObject({ read: 6, written: 3, output: join(run, "sft.jsonl") });
    expect(summary.skipped).toEqual({
      "reward below 1": 2,
      "not scored (failure or penalty)": 1,
    });
    const examples = read(summary.output);
    expect(examples.map((example) => [example.metadata.taskId, example.metadata.mode])).toEqual([
      ["m1", "sandbox"],
      ["m1", "sandbox"],
      ["m5", "llm"],
    ]);
    const [first] = examples;
    // system, user, then per turn an assistant call and its tool result, then the final answer.
    expect(first!.messages.map((message) => message.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(first!.messages[2]!.tool_calls).toEqual([
      {
        id: "call-0",
        type: "function",
        function: {
          name: "execute_bash",
          arguments: records[0]!.episode.turns[0]!.toolCall!.arguments,
        },
      },
    ]);
    expect(first!.messages[3]).toEqual({ role: "tool", content: "ok", tool_call_id: "call-0" });
    expect(first!.messages.at(-1)).toEqual({ role: "assistant", content: "42" });
    expect(first!.tools).toEqual(toolDefinitions());
    expect(examples[2]!.tools).toBeUndefined();
    expect(first!.metadata).toEqual({
      taskId: "m1",
      domain: "math",
      mode: "sandbox",
      reward: 1,
      rolloutId: "m1-sandbox-0",
      run: "sft",
    });
  });

  it("filters by reward, mode and rollouts per task", async () => {
    const output = join(root, "half.jsonl");
    expect((await exportSft(run, { minReward: 0.5, output })).written).toBe(4);
    expect(
      await exportSft(run, { minReward: 0.5, mode: "sandbox", perTask: 1, output }),
    ).toMatchObject({
      written: 2,
      skipped: {
        "other mode": 1,
        "per-task cap": 1,
        "reward below 0.5": 1,
        "not scored (failure or penalty)": 1,
      },
    });
    expect(read(output).map((example) => example.metadata.taskId)).toEqual(["m1", "m2"]);
  });

  it("reads a training run's trajectories too", async () => {
    const dir = join(root, "train-run");
    mkdirSync(dir);
    writeFileSync(join(dir, "journal.jsonl"), "");
    const lines = [
      { reward: 1, status: "scored", episode: records[0]!.episode },
      { reward: 0, status: "scored", episode: records[3]!.episode },
    ].map((line, slot) =>
      JSON.stringify({ groupId: "g", step: 0, slot, verdict: "batched", advantage: 0, ...line }),
    );
    writeFileSync(join(dir, "trajectories.jsonl"), `${lines.join("\n")}\n`);
    const summary = await exportSft(dir);
    expect(summary).toMatchObject({ read: 2, written: 1 });
    expect(read(summary.output)[0]!.metadata).toMatchObject({ taskId: "m1", run: "train-run" });
  });

  it("never writes over the run's trajectories, and leaves no half file", async () => {
    await expect(exportSft(run, { output: join(run, "trajectories.jsonl") })).rejects.toThrow(
      "that is the run's own trajectories; give another file",
    );
    const empty = join(root, "no-trajectories");
    mkdirSync(empty);
    await expect(exportSft(empty)).rejects.toThrow(`${empty}: no trajectories.jsonl`);
    expect(readdirSync(empty)).toEqual([]);
  });

  it("names a damaged line by file and line", async () => {
    const dir = join(root, "damaged");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "trajectories.jsonl"),
      `${serializeEvalRecord(records[0]!)}\n{"schemaVersion": 1}\n`,
    );
    await expect(exportSft(dir)).rejects.toThrow(
      `${join(dir, "trajectories.jsonl")}:2: not an eval trajectory record (task:`,
    );
  });
});
