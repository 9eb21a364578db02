import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, EXIT_CODES, InfrastructureError, ModelError } from "../../common/errors.js";
import { DatasetError } from "../../datasets/load.js";
import { JudgeUnavailableError } from "../../rewards/judge.js";
import { llmEvalArgs, sandfarm } from "../../testing/cli.js";
import { writeRlTasks } from "../../testing/farm-runs.js";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../../testing/vllm-stub/script-sets.js";
import { SandboxLostError } from "../sandbox/errors.js";
import { reportFailure } from "./failure.js";

function report(error: unknown, verbose = false): { code: number; text: string } {
  let text = "";
  const code = reportFailure(error, { verbose, write: (chunk) => (text += chunk) });
  return { code, text };
}

describe("reportFailure", () => {
  it("gives each fault its exit code and the message alone", () => {
    expect(report(new ConfigError("run.id: bad; use letters"))).toEqual({
      code: 2,
      text: "sandfarm: ConfigError: run.id: bad; use letters\n",
    });
    const row = new DatasetError({
      file: "tasks.jsonl",
      line: 3,
      problems: [{ field: "answer", message: "required" }],
    });
    expect(report(row)).toEqual({
      code: 2,
      text: "sandfarm: DatasetError: tasks.jsonl:3: answer: required\n",
    });
    expect(report(new ModelError("killed its sandbox")).code).toBe(3);
    expect(report(new InfrastructureError("engine down")).code).toBe(4);
    expect(report(new JudgeUnavailableError("judge gone")).code).toBe(4);
    expect(report(new SandboxLostError("gone", true)).code).toBe(3);
    expect(report(new SandboxLostError("gone", false)).code).toBe(4);
    expect(EXIT_CODES).toEqual({
      ok: 0,
      failed: 1,
      user: 2,
      model: 3,
      infrastructure: 4,
      bug: 70,
      interrupted: 130,
    });
  });

  it("names anything else a bug in one line, with the stack only when verbose", () => {
    const bug = new TypeError("cannot read properties of undefined (reading 'x')\nsecond line");
    const quiet = report(bug);
    expect(quiet.code).toBe(70);
    expect(quiet.text).toBe(
      "sandfarm: bug: TypeError: cannot read properties of undefined (reading 'x')\n" +
        "  this is sandfarm's fault, not yours: rerun with --verbose (or SANDFARM_DEBUG=1) for the stack, and report it\n",
    );
    const loud = report(new Error("outer", { cause: new Error("inner") }), true);
    expect(loud.code).toBe(70);
    expect(loud.text).toMatch(/^sandfarm: bug: Error: outer\nError: outer\n {4}at /);
    expect(loud.text).toContain("caused by: Error: inner");
    expect(report(new ConfigError("x"), true).text).toMatch(/ConfigError: x\n.*\n {4}at /s);
  });
});

describe("a bad dataset row reaches the user as file:line:field and the user exit code", () => {
  let dir: string;
  let stub: RunningVllmStub;
  let tasks: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sandfarm-failure-"));
    stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-1" });
    tasks = writeRlTasks(dir, "tasks.jsonl", 3);
    appendFileSync(tasks, `${JSON.stringify({ id: "bad-4", domain: "math", question: "?" })}\n`);
  });

  afterAll(async () => {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function expectRowError(run: { code: number; stderr: string }): void {
    expect(run.code).toBe(EXIT_CODES.user);
    expect(run.stderr).toContain(`sandfarm: DatasetError: ${tasks}:4: `);
    expect(run.stderr).toMatch(/groundTruth|answer/);
    expect(run.stderr).not.toMatch(/\n {4}at /);
    expect(run.stderr).not.toContain("node:internal");
  }

  it("during train", async () => {
    const config = join(dir, "train.yaml");
    writeFileSync(
      config,
      stringify({
        run: { id: "bad-row", dir, mode: "llm", steps: 1 },
        data: { train: [tasks] },
        policy: { urls: [stub.baseURL], model: "stub-model" },
        episode: { maxTokensPerCall: 2048, maxTotalTokens: 16384 },
        rollout: { groupSize: 2, groupsPerStep: 1, episodes: 2 },
      }),
    );
    expectRowError(await sandfarm("train", config));
  });

  it("during eval", async () => {
    const run = await sandfarm(...llmEvalArgs(tasks, stub.baseURL, join(dir, "eval")));
    expectRowError(run);
  });
  it("or, with onBadRow skip, is counted and listed: eval, train, dataset validate", async () => {
    const output = join(dir, "eval-skip");
    const evaluated = await sandfarm(
      ...llmEvalArgs(tasks, stub.baseURL, output, "--on-bad-row", "skip"),
    );
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(readFileSync(join(output, "report.json"), "utf8")) as {
      skippedRows: string[];
      rollouts: { llm: number };
    };
    expect(report.rollouts.llm).toBe(3);
    expect(report.skippedRows).toHaveLength(1);
    expect(report.skippedRows[0]).toMatch(new RegExp(`^${tasks.replace(/[/.]/g, "\\$&")}:4: `));
    expect(readFileSync(join(output, "report.md"), "utf8")).toContain(
      "## Skipped task rows (1, onBadRow: skip)",
    );

    const config = join(dir, "train-skip.yaml");
    writeFileSync(
      config,
      stringify({
        run: { id: "skip-row", dir, mode: "llm", steps: 1 },
        data: { train: [tasks] },
        policy: { urls: [stub.baseURL], model: "stub-model" },
        episode: { maxTokensPerCall: 2048, maxTotalTokens: 16384 },
        rollout: { groupSize: 2, groupsPerStep: 1, episodes: 2 },
      }),
    );
    const trained = await sandfarm("train", config, "--on-bad-row", "skip");
    expect(trained.code).toBe(0);
    expect(trained.stderr).toContain("1 task row(s) skipped (data.onBadRow: skip)");
    expect(readFileSync(join(dir, "skip-row", "skipped-rows.txt"), "utf8")).toMatch(
      new RegExp(`^${tasks.replace(/[/.]/g, "\\$&")}:4: `),
    );

    expect((await sandfarm("dataset", "validate", tasks)).code).toBe(1);
    expect((await sandfarm("dataset", "validate", tasks, "--on-bad-row", "skip")).code).toBe(0);
  });
});
