import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sandfarm } from "../../testing/cli.js";

describe("sandfarm reward", () => {
  it("scores one case from flags", async () => {
    const run = await sandfarm(
      "reward",
      "--scorer",
      "choice",
      "--answer",
      "Answer: B",
      "--truth",
      "B",
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      reward: 1,
      details: { extracted: "B", truth: "B", rule: "answer:" },
    });
    const numeric = await sandfarm(
      "reward",
      "--scorer",
      "numeric",
      "--answer",
      "3.2",
      "--truth",
      "3.1416",
      "--options",
      '{"relTol": 0.05}',
    );
    expect(JSON.parse(numeric.stdout)).toMatchObject({ reward: 1 });
  });

  it("scores a JSONL file line by line, keeping bad lines in place", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "sandfarm-reward-")), "cases.jsonl");
    writeFileSync(
      file,
      [
        JSON.stringify({ scorer: "multi_choice", answer: "A, C", truth: "A, C, D" }),
        "{broken",
        JSON.stringify({ scorer: "exact", answer: "Paris.", truth: "paris" }),
        JSON.stringify({ scorer: "f1", answer: "x" }),
      ].join("\n"),
    );
    const run = await sandfarm("reward", "--input", file);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(lines[0]!.reward).toBeCloseTo(0.8, 10);
    expect(lines[1]!.error).toMatch(new RegExp(`^${file}:2: \\(case\\): is not valid JSON`));
    expect(lines[2]!.reward).toBe(1);
    expect(lines[3]!.error).toBe(
      `${file}:4: truth: Invalid input: expected string, received undefined`,
    );
    expect(run.code).toBe(1);
  });

  it("scores math, names a scorer that does not exist yet, and bad options", async () => {
    const math = await sandfarm(
      "reward",
      "--scorer",
      "math",
      "--answer",
      "\\boxed{\\dfrac{1}{2}}",
      "--truth",
      "0.5",
    );
    expect(JSON.parse(math.stdout)).toMatchObject({ reward: 1 });
    const ifeval = await sandfarm("reward", "--scorer", "ifeval", "--answer", "1", "--truth", "1");
    expect(ifeval.code).toBe(1);
    expect(ifeval.stderr).toContain("scorer 'ifeval' is not built yet");
    const options = await sandfarm(
      "reward",
      "--scorer",
      "numeric",
      "--answer",
      "1",
      "--truth",
      "1",
      "--options",
      "{nope",
    );
    expect(options.stderr).toContain("--options is not valid JSON");
  });
});
