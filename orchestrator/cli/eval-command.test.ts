/**
 * The evaluation commands as a user runs them: `sandfarm eval` from a config file and from flags
 * against the stub replaying recorded solutions, Ctrl-C then `--resume`, the config errors, and
 * `compare`, `rescore` and `export-sft` on the runs it wrote.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CLI_ENTRY, sandfarm } from "../../testing/cli.js";
import type { RunningVllmStub } from "../../testing/vllm-stub/index.js";
import { startRecordedStub } from "../../testing/vllm-stub/recorded/index.js";
import type { SftExample } from "../eval/export-sft.js";
import { readEvalRecords } from "../eval/records.js";
import type { EvalReport } from "../eval/report.js";

let dir: string;
let stub: RunningVllmStub;
const SANDBOX = ["--set", "sandbox.network=none", "--set", "sandbox.memoryMb=512"];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-eval-cli-"));
  stub = await startRecordedStub();
});

afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

const reportOf = (runDir: string) =>
  JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as EvalReport;

describe("sandfarm eval", () => {
  it("runs from a config file, prints the score table and where the files are", async () => {
    const config = join(dir, "eval.yaml");
    writeFileSync(
      config,
      stringify({
        tasks: ["datasets/samples/chemistry.jsonl", "datasets/samples/math.jsonl"],
        limit: 2,
        mode: "llm",
        policy: { urls: [stub.baseURL], model: "stub-model" },
      }),
    );
    const runDir = join(dir, "from-config");
    const run = await sandfarm("eval", config, "--output-dir", runDir, "--no-doctor");
    expect(run.stderr).toContain("sandfarm eval: 4/4 rollouts");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("| domain | LLM score | n |");
    expect(run.stdout).toContain("| chemistry | 100.0 | 2 |");
    expect(run.stdout).toContain("| math | 100.0 | 2 |");
    for (const name of ["report.json", "report.md", "report.html", "trajectories.jsonl"])
      expect(run.stdout).toContain(join(runDir, name));
    const logged = readFileSync(join(runDir, "sandfarm.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; msg: string; done?: number });
    expect(logged.map((line) => line.event)).toEqual([
      "progress",
      "progress",
      "progress",
      "progress",
      "progress",
      "finish",
    ]);
    expect(logged[4]).toMatchObject({ done: 4, total: 4 });
    expect(logged[4]!.msg).toMatch(/^4\/4 rollouts/);
    const report = reportOf(runDir);
    expect(report.modes).toEqual(["llm"]);
    expect(Object.keys(report.domains)).toEqual(["chemistry", "math"]);
  });

  it("runs from flags alone", async () => {
    const runDir = join(dir, "from-flags");
    const run = await sandfarm(
      "eval",
      "--tasks",
      "datasets/samples/math.jsonl",
      "datasets/samples/general.jsonl",
      "--domains",
      "math",
      "--limit",
      "2",
      "--mode",
      "both",
      "--policy-url",
      stub.baseURL,
      "--model",
      "stub-model",
      "--output-dir",
      runDir,
      ...SANDBOX,
      "--note",
      "stub replay",
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("| math | 100.0 | 100.0 | 0.0 | 2 / 2 |");
    const report = reportOf(runDir);
    expect(Object.keys(report.domains)).toEqual(["math"]);
    expect(report.notes).toEqual(["stub replay"]);
    expect(report.capability_usage.math!.computation).toBeGreaterThan(0);
    expect(readFileSync(join(runDir, "report.md"), "utf8")).toContain("> **Note.** stub replay");
    // The sandbox image is named in both renderings.
    expect(readFileSync(join(runDir, "report.md"), "utf8")).toContain(
      "- Sandbox: backend `docker`, image `sandfarm/sandbox:0.1.0`, id `sha256:",
    );
    expect(readFileSync(join(runDir, "report.html"), "utf8")).toContain("sandfarm/sandbox:0.1.0");
  });

  it("stops on Ctrl-C keeping what was done, and --resume finishes the run", async () => {
    const runDir = join(dir, "interrupted");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI_ENTRY,
        "eval",
        "--tasks",
        "datasets/samples/physics.jsonl",
        "--mode",
        "sandbox",
        "--concurrency",
        "1",
        "--policy-url",
        stub.baseURL,
        "--model",
        "stub-model",
        "--output-dir",
        runDir,
        "--no-doctor",
        ...SANDBOX,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.stdout.resume();
    await new Promise<void>((resolve) =>
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        // The first finished rollout (progress lines come at 0 and every 2 of 11).
        if (/sandfarm eval: [1-9]\d*\/11 rollouts/.test(stderr)) resolve();
      }),
    );
    child.kill("SIGINT");
    expect(await exit).toBe(130);
    expect(stderr).toContain(`finish with \`sandfarm eval --resume ${runDir}\``);
    const kept = (await readEvalRecords(join(runDir, "trajectories.jsonl"))).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(11);
    expect(existsSync(join(runDir, "report.json"))).toBe(false);

    // The policy may have moved (same model): the resumed session uses the URL given.
    const moved = await startRecordedStub();
    const resumed = await sandfarm(
      "eval",
      "--resume",
      runDir,
      "--policy-url",
      moved.baseURL,
      "--concurrency",
      "2",
      "--no-doctor",
    ).finally(() => moved.close());
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`sandfarm eval: ${kept}/11 rollouts`);
    const records = await readEvalRecords(join(runDir, "trajectories.jsonl"));
    expect(records).toHaveLength(11);
    expect(new Set(records.map((record) => record.task.id)).size).toBe(11);
    expect(reportOf(runDir).domains.physics!.sandbox).toMatchObject({ score: 1, n: 11 });
    const saved = JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")) as {
      concurrency: number;
      policy: { urls: string[] };
    };
    expect(saved.concurrency).toBe(2);
    expect(saved.policy.urls).toEqual([moved.baseURL]);
    expect(moved.requests.length).toBeGreaterThan(0);
  }, 120_000);

  it("names what is wrong with a config or the flags, and creates nothing", async () => {
    const config = join(dir, "bad.yaml");
    writeFileSync(
      config,
      stringify({
        tasks: ["datasets/samples/math.jsonl"],
        repeat: 2,
        policy: { urls: [stub.baseURL], model: "m" },
      }),
    );
    const bad = await sandfarm("eval", config, "--output-dir", join(dir, "never"));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${config} is not a valid sandfarm eval config`);
    expect(bad.stderr).toContain("repeat: unknown key; did you mean 'repeats'?");
    expect(existsSync(join(dir, "never"))).toBe(false);

    const noPolicy = await sandfarm("eval", "--tasks", "datasets/samples/math.jsonl");
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain(
      "give the policy: --policy-url http://HOST:PORT/v1 and --model NAME",
    );

    const missing = await sandfarm(
      "eval",
      "--tasks",
      join(dir, "nope.jsonl"),
      "--policy-url",
      stub.baseURL,
      "--model",
      "stub-model",
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`tasks[0]: no such file ${join(dir, "nope.jsonl")}`);

    const both = await sandfarm(
      "eval",
      "--resume",
      join(dir, "from-config"),
      "--tasks",
      "x.jsonl",
      "--policy-url",
      stub.baseURL,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(
      "--resume continues a run with its own config (RUN_DIR/config.json); drop --tasks (a different model",
    );

    const zero = await sandfarm("eval", "--tasks", "x.jsonl", "--repeats", "0");
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain(
      "--repeats <n>' argument '0' is invalid. must be a whole number >= 1",
    );
  });
});

describe("sandfarm compare, rescore, export-sft", () => {
  it("compares two runs in Markdown and HTML", async () => {
    const html = join(dir, "compare.html");
    const run = await sandfarm(
      "compare",
      join(dir, "from-config"),
      join(dir, "from-flags"),
      "--html",
      html,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("| math | LLM | 100.0 | 100.0 | 0.0 |");
    expect(run.stdout).toContain("| chemistry | LLM | 100.0 | - | - |");
    expect(run.stdout).toContain("Not every run evaluated: chemistry");
    expect(run.stdout).toContain(
      "> **Not the same tasks:** run 2 was evaluated on other task files than run 1 (1 of run 1's not used, 1 others)",
    );
    const page = readFileSync(html, "utf8");
    expect(page).toContain('data-chart="compare"');
    expect(page).toContain("<strong>Not the same tasks</strong>");
    const one = await sandfarm("compare", join(dir, "from-config"));
    expect(one.stderr).toContain("compare needs at least two runs");
  });

  it("re-scores a run with another scorer", async () => {
    const run = await sandfarm("rescore", join(dir, "from-config"), "--scorer", "exact");
    expect(run.code, run.stderr).toBe(0);
    const rescored = join(dir, "from-config", "rescored-exact");
    expect(run.stdout).toContain(join(rescored, "report.md"));
    // Exact text matching of the final answer line: the choice letters still match, the
    // boxed math answers (`\boxed{286}` is not the text `286`) no longer do.
    const report = reportOf(rescored);
    expect(report.domains.chemistry!.llm).toMatchObject({ score: 1, n: 2 });
    expect(report.domains.math!.llm).toMatchObject({ score: 0, n: 2 });
    expect(run.stdout).toContain("| math | LLM | 100.0 | 0.0 | -100.0 |");
    expect(run.stdout).toContain("2 of 4 reward(s) changed");
    const unknown = await sandfarm("rescore", join(dir, "from-config"), "--scorer", "nope");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--scorer nope: no such scorer; known: choice");
  });

  it("exports the successful trajectories for fine-tuning", async () => {
    const output = join(dir, "sft.jsonl");
    const run = await sandfarm(
      "export-sft",
      join(dir, "from-flags"),
      "--mode",
      "sandbox",
      "--output",
      output,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `sandfarm export-sft: 2 of 4 rollout(s) written to ${output} (left out: 2 other mode)`,
    );
    const examples = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as SftExample);
    expect(examples.map((example) => example.metadata.domain)).toEqual(["math", "math"]);
    for (const example of examples) {
      expect(example.messages[0]!.role).toBe("system");
      expect(example.messages.at(-1)!.role).toBe("assistant");
      expect(example.messages.at(-1)!.tool_calls![0]!.function.name).toBe("submit");
      expect(example.tools!.length).toBe(3);
    }
  });
});
