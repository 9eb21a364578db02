import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BadRow, describeBadRow, readTasks } from "./load.js";
import { RowError, taskFromRow } from "./task.js";

describe("taskFromRow", () => {
  it("accepts the reference's field names unchanged, input_files as a JSON string", () => {
    const task = taskFromRow({
      id: "r1",
      domain: "general",
      problem_statement: "Which planet is described?",
      ground_truth: "B",
      input_files: JSON.stringify({ "doc one.txt": "Mars is red.\tTab" }),
      qa_type: "mcq",
      source: "seed-42",
    });
    expect(task).toEqual({
      id: "r1",
      domain: "general",
      question: "Which planet is described?",
      documents: { "doc one.txt": "Mars is red.\tTab" },
      groundTruth: "B",
      answerType: "single_choice",
      instructions: [],
      scorerOptions: {},
      metadata: { source: "seed-42" },
    });
  });

  it("accepts input_files as an object, numbers as truths, and a column mapping", () => {
    const task = taskFromRow(
      { key: "m1", area: "math", prompt: "2+2?", solution: 4, kind: "numeric" },
      {
        id: "key",
        domain: "area",
        question: "prompt",
        groundTruth: "solution",
        answerType: "kind",
      },
    );
    expect(task).toMatchObject({
      id: "m1",
      domain: "math",
      question: "2+2?",
      groundTruth: "4",
      answerType: "numeric",
    });
  });

  it("names every bad field in the row's own terms, with the fix", () => {
    const error = (() => {
      try {
        taskFromRow({
          id: "",
          domain: "chem",
          problem_statement: "Q",
          ground_truth: "",
          qa_type: "essay",
          input_files: "{oops",
        });
      } catch (caught) {
        return caught as RowError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RowError);
    const fields = error!.problems.map((problem) => problem.field);
    expect(fields).toEqual(["input_files", "qa_type", "id", "ground_truth"]);
    expect(error!.problems[1]!.message).toMatch(
      /^"essay" is not known; use one of single_choice, multiple_choice, open_ended, math, numeric, instruction_following, or a phrase naming one: single_choice \(mcq, /,
    );
    expect(error!.problems[3]!.message).toBe("is empty; give the official answer");
  });

  it("requires instructions for instruction following and safe document names", () => {
    expect(() =>
      taskFromRow({ id: "i1", domain: "if", question: "Write", answerType: "ifeval" }),
    ).toThrow("instructions: an instruction_following task needs at least one instruction");
    const ok = taskFromRow({
      id: "i2",
      domain: "if",
      question: "Write a haiku",
      answerType: "instruction_following",
      instructions: [
        { id: "length_constraints:number_words", kwargs: { num_words: 17, relation: "less than" } },
      ],
    });
    expect(ok.instructions).toHaveLength(1);
    expect(() =>
      taskFromRow({
        id: "i3",
        domain: "if",
        question: "Write",
        answerType: "instruction_following",
        instructions: [
          { id: "punctuation:no_coma" },
          { id: "length_constraints:number_words", kwargs: { num_words: 17, relation: "at most" } },
        ],
      }),
    ).toThrow(
      "instructions.0: unknown instruction id 'punctuation:no_coma'; did you mean 'punctuation:no_comma'?; instructions.1: length_constraints:number_words: ",
    );
    expect(() =>
      taskFromRow({
        id: "d",
        domain: "x",
        question: "q",
        groundTruth: "a",
        answerType: "open",
        documents: { "../etc/passwd": "x" },
      }),
    ).toThrow(/documents\.\.\.\/etc\/passwd: document names are relative paths without '\.\.'/);
    expect(() => taskFromRow(["not", "an", "object"])).toThrow(/is not a JSON object/);
  });

  it("reads qa_type phrases as people write them", () => {
    const reference = (qa_type: string) => ({
      id: "p",
      domain: "general",
      problem_statement: "Q",
      ground_truth: "A",
      qa_type,
    });
    expect(taskFromRow(reference("single-answer multiple choice")).answerType).toBe(
      "single_choice",
    );
    expect(taskFromRow(reference("multiple-choice (single)")).answerType).toBe("single_choice");
    expect(taskFromRow(reference("multi-select")).answerType).toBe("multiple_choice");
    expect(taskFromRow(reference("numerical")).answerType).toBe("numeric");
    expect(taskFromRow(reference("free-form")).answerType).toBe("open_ended");
    expect(taskFromRow(reference("single-choice")).answerType).toBe("single_choice");
    expect(() => taskFromRow(reference("single or multi-select"))).toThrow(
      'qa_type: "single or multi-select" is ambiguous (it says both single and multiple answers); use one of single_choice',
    );
  });

  it("names file, line and field for an ambiguous or unknown qa_type", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "sandfarm-task-")), "general.jsonl");
    const line = (id: string, qa_type: string) =>
      JSON.stringify({ id, domain: "general", problem_statement: "Q", ground_truth: "B", qa_type });
    writeFileSync(
      file,
      [line("a", "Multiple Choice"), line("b", "single/multi"), line("c", "vibes")].join("\n"),
    );
    const skipped: BadRow[] = [];
    const tasks = [];
    for await (const task of readTasks(file, { onBadRow: "skip", skipped })) tasks.push(task);
    expect(tasks.map((task) => task.answerType)).toEqual(["single_choice"]);
    const reports = skipped.map(describeBadRow);
    expect(reports[0]).toContain(
      `${file}:2: qa_type: "single/multi" is ambiguous (it says both single and multiple answers); use one of single_choice, multiple_choice,`,
    );
    expect(reports[0]).toContain("multiple_choice (multi-select, multiple-answer, select all");
    expect(reports[1]).toContain(
      `${file}:3: qa_type: "vibes" is not known; use one of single_choice`,
    );
  });
});
