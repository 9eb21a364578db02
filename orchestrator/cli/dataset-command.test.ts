import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pl from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { codeTasks } from "../../datasets/families/codes.js";
import type { Task } from "../../datasets/task.js";
import { sandfarm } from "../../testing/cli.js";
import { parseMapping } from "./dataset-command.js";

const directory = (): string => mkdtempSync(join(tmpdir(), "sandfarm-dataset-"));

describe("sandfarm dataset validate", () => {
  it("counts good files by domain and answer type and exits 0", async () => {
    const folder = directory();
    const jsonl = join(folder, "a.jsonl");
    writeFileSync(
      jsonl,
      [
        { id: "m1", domain: "math", question: "1+1?", groundTruth: "2", answerType: "math" },
        {
          id: "g1",
          domain: "general",
          question: "Pick",
          groundTruth: "B",
          answerType: "single_choice",
        },
      ]
        .map((row) => JSON.stringify(row))
        .join("\n"),
    );
    const parquet = join(folder, "b.parquet");
    pl.DataFrame({
      id: ["g2"],
      domain: ["general"],
      problem_statement: ["Pick two"],
      ground_truth: ["A, C"],
      input_files: ['{"x.txt": "text"}'],
      qa_type: ["multi"],
    }).writeParquet(parquet);
    const run = await sandfarm("dataset", "validate", jsonl, parquet);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        "3 tasks in 2 file(s); 0 bad row(s)",
        "by domain:",
        "  general  2",
        "  math     1",
        "by answer type:",
        "  math             1",
        "  multiple_choice  1",
        "  single_choice    1",
        "",
      ].join("\n"),
    );
  });

  it("prints every bad row and unreadable file, and exits 1", async () => {
    const folder = directory();
    const first = join(folder, "first.jsonl");
    const second = join(folder, "second.jsonl");
    writeFileSync(
      first,
      [
        JSON.stringify({
          id: "a",
          domain: "math",
          question: "q",
          groundTruth: "1",
          answerType: "math",
        }),
        JSON.stringify({ id: "b", domain: "math", question: "q", answerType: "essay" }),
      ].join("\n"),
    );
    writeFileSync(
      second,
      JSON.stringify({
        id: "a",
        domain: "math",
        question: "q",
        groundTruth: "1",
        answerType: "math",
      }),
    );
    const run = await sandfarm(
      "dataset",
      "validate",
      "--json",
      first,
      second,
      join(folder, "gone.arrow"),
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ tasks: 1, byDomain: { math: 1 } });
    expect(report.badRows).toEqual([
      {
        file: first,
        line: 2,
        problems: [
          {
            field: "answerType",
            message: expect.stringContaining(
              '"essay" is not known; use one of single_choice',
            ) as string,
          },
          { field: "groundTruth", message: "is empty; give the official answer" },
        ],
      },
      {
        file: second,
        line: 1,
        problems: [
          { field: "id", message: `'a' is already used on ${first} line 1; ids must be unique` },
        ],
      },
    ]);
    expect(report.unreadable).toEqual([`${join(folder, "gone.arrow")}: no such file`]);
  });

  it("prints the prompt a bundled task gets, with replaced templates", async () => {
    const prompts = directory();
    writeFileSync(join(prompts, "llm-user.md"), "QUESTION: {{question}}");
    const run = await sandfarm(
      "dataset",
      "prompt",
      "datasets/samples/chemistry.jsonl",
      "--id",
      "chemistry-002",
      "--mode",
      "llm",
      "--prompts",
      prompts,
      "--json",
    );
    expect(run.code).toBe(0);
    const prompt = JSON.parse(run.stdout) as { system: string; user: string };
    expect(prompt.system).toBe(
      "You are an expert chemist who answers questions with precise chemical reasoning.",
    );
    expect(prompt.user).toMatch(/^QUESTION: \S/);
    expect(prompt.user).not.toContain("Answer: X");
  });

  it("rejects a bad --mapping naming the key and the fix", () => {
    expect(parseMapping('{"question": "prompt"}')).toEqual({ question: "prompt" });
    expect(() => parseMapping('{"prompt": "question"}')).toThrow(
      "--mapping key 'prompt' is not a task field; use id, domain, question, documents, groundTruth, answerType",
    );
    expect(() => parseMapping("{")).toThrow("--mapping is not valid JSON");
  });
});

describe("sandfarm dataset generate", () => {
  it("writes the codes family for a seed as JSONL that validate accepts", async () => {
    const out = join(directory(), "codes.jsonl");
    const run = await sandfarm(
      "dataset",
      "generate",
      "--count",
      "12",
      "--seed",
      "5",
      "--prefix",
      "val",
      "--out",
      out,
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`sandfarm dataset generate: 12 tasks in ${out}\n`);
    const lines = readFileSync(out, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    const written = lines.map((line) => JSON.parse(line) as Task);
    expect(written).toEqual(codeTasks({ count: 12, seed: 5, prefix: "val" }));
    expect(written.map((task) => task.id)).toEqual(
      Array.from({ length: 12 }, (_, index) => `val-${index}`),
    );
    const validated = await sandfarm("dataset", "validate", out);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toContain("12 tasks in 1 file(s); 0 bad row(s)");
  });
});
