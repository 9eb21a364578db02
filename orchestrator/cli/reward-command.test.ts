import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startVllmStub } from "../../testing/vllm-stub/index.js";
import { sandfarm } from "../../testing/cli.js";

const FIXTURES = fileURLToPath(new URL("../../rewards/fixtures/custom/", import.meta.url));

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

  it("scores math and ifeval, and names bad options", async () => {
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
    const ifeval = await sandfarm(
      "reward",
      "--scorer",
      "ifeval",
      "--answer",
      "all quiet, all small",
      "--truth",
      '[{"id": "change_case:english_lowercase"}, {"id": "punctuation:no_comma"}]',
      "--options",
      '{"aggregate": "fraction"}',
    );
    expect(ifeval.code).toBe(0);
    expect(JSON.parse(ifeval.stdout)).toMatchObject({
      reward: 0.5,
      details: { mode: "loose", followed: [true, false] },
    });
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

  it("runs the judge against an OpenAI-compatible server, and custom scorers by name", async () => {
    const server = await startVllmStub({
      model: "judge-model",
      responder: () => "<think>close call</think> CORRECT",
      apiKey: "k-judge",
    });
    const chatRequests = () =>
      server.requests.filter((request) => request.path === "/v1/chat/completions");
    const file = join(mkdtempSync(join(tmpdir(), "sandfarm-reward-")), "cases.jsonl");
    writeFileSync(
      file,
      [
        { scorer: "judge", question: "Capital of Portugal?", answer: "Lisbon", truth: "Lisbon" },
        { scorer: "mine", answer: "PARIS", truth: "paris" },
        { scorer: "trimmed", answer: " 3 ", truth: "3" },
      ]
        .map((line) => JSON.stringify(line))
        .join("\n"),
    );
    // The key reaches the CLI the only way it takes one: the environment.
    process.env.SANDFARM_JUDGE_API_KEY = "k-judge";
    try {
      const run = await sandfarm(
        "reward",
        "--input",
        file,
        "--judge-url",
        server.baseURL,
        "--judge-model",
        "judge-model",
        "--judge-repeats",
        "2",
        "--scorer-command",
        `mine=python3 ${join(FIXTURES, "exact.py")}`,
        "--scorer-module",
        `trimmed=${join(FIXTURES, "module-sync.ts")}`,
      );
      expect(run.stderr.replace(/npm warn.*\n/g, "")).toBe("");
      expect(
        run.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as unknown),
      ).toEqual([
        {
          reward: 1,
          details: { verdicts: ["CORRECT", "CORRECT"], model: "judge-model", cached: false },
        },
        { reward: 1, details: { normalized: "paris" } },
        { reward: 1, details: { answer: "3" } },
      ]);
      expect(chatRequests()).toHaveLength(2);
      expect(server.requests[0]!.authorization).toBe("Bearer k-judge");
    } finally {
      delete process.env.SANDFARM_JUDGE_API_KEY;
      await server.close();
    }
  });

  it("names a scorer that does not exist, and a judge without its model", async () => {
    const missing = await sandfarm("reward", "--scorer", "nope", "--answer", "1", "--truth", "1");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("there is no scorer 'nope'; available: choice, multi_choice");
    const judge = await sandfarm(
      "reward",
      "--scorer",
      "judge",
      "--answer",
      "1",
      "--truth",
      "1",
      "--judge-url",
      "http://127.0.0.1:9/v1",
    );
    expect(judge.stderr).toContain("the judge needs both --judge-url and --judge-model");
  });
});
