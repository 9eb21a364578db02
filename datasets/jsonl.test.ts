import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type BadRow, DatasetError, readJsonlTasks } from "./jsonl.js";

function writeJsonl(lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "sandfarm-jsonl-")), "tasks.jsonl");
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

const row = (id: string, domain = "math"): string =>
  JSON.stringify({ id, domain, problem_statement: `Q ${id}`, ground_truth: "1", qa_type: "math" });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("readJsonlTasks", () => {
  it("streams tasks, skipping blank lines, filtering by domain and stopping at the limit", async () => {
    const file = writeJsonl([row("a"), "", row("b", "chemistry"), row("c"), row("d")]);
    expect((await collect(readJsonlTasks(file))).map((task) => task.id)).toEqual([
      "a",
      "b",
      "c",
      "d",
    ]);
    expect(
      (await collect(readJsonlTasks(file, { domains: ["math"], limit: 2 }))).map((task) => task.id),
    ).toEqual(["a", "c"]);
  });

  it("stops at a bad row naming file, line and field", async () => {
    const file = writeJsonl([
      row("a"),
      '{"id": "b", "domain": "math", "problem_statement": "Q"',
      row("c"),
    ]);
    await expect(collect(readJsonlTasks(file))).rejects.toThrow(DatasetError);
    await expect(collect(readJsonlTasks(file))).rejects.toThrow(
      `${file}:2: (row): is not valid JSON`,
    );
  });

  it("skips and reports bad rows when asked, duplicates included", async () => {
    const file = writeJsonl([
      row("a"),
      JSON.stringify({ id: "b", domain: "math", problem_statement: "Q", qa_type: "math" }),
      row("a"),
      row("c"),
    ]);
    const skipped: BadRow[] = [];
    const tasks = await collect(readJsonlTasks(file, { onBadRow: "skip", skipped }));
    expect(tasks.map((task) => task.id)).toEqual(["a", "c"]);
    expect(skipped).toEqual([
      {
        file,
        line: 2,
        problems: [{ field: "ground_truth", message: "is empty; give the official answer" }],
      },
      {
        file,
        line: 3,
        problems: [{ field: "id", message: "'a' is already used on line 1; ids must be unique" }],
      },
    ]);
  });
});
