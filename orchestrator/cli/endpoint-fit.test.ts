import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { llmEvalArgs, sandfarm } from "../../testing/cli.js";
import { readRunLines, writeRlTasks } from "../../testing/farm-runs.js";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../../testing/vllm-stub/script-sets.js";

const WARNING =
  "warning: episode.maxTotalTokens 65536 is above the model's context of 32768 tokens; episodes use 32768";

describe("a default vLLM deployment (32,768 context) with no flags", () => {
  let dir: string;
  let served: RunningVllmStub;
  let silent: RunningVllmStub;
  let tasks: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sandfarm-fit-"));
    served = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-1" });
    silent = await startVllmStub({
      scripts: SCRIPT_SETS.rl!,
      defaultScript: "rl-1",
      omitMaxModelLen: true,
    });
    tasks = writeRlTasks(dir, "tasks.jsonl", 4);
  });

  afterAll(async () => {
    await served.close();
    await silent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("doctor passes and shows the limits the other commands will use", async () => {
    const run = await sandfarm("doctor", "--policy-url", served.baseURL, "--model", "stub-model");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "context 32768 tokens (served); episodes use maxTotalTokens 32768, maxTokensPerCall 32768",
    );
  });

  it("doctor fits a smaller budget as given, and an unreachable server is infrastructure", async () => {
    const smaller = await sandfarm(
      "doctor",
      "--policy-url",
      served.baseURL,
      "--model",
      "stub-model",
      "--max-total-tokens",
      "16384",
    );
    expect(smaller.code).toBe(0);
    expect(smaller.stdout).toContain("episodes use maxTotalTokens 16384, maxTokensPerCall 16384");
    const gone = await sandfarm(
      ...llmEvalArgs(tasks, "http://127.0.0.1:9/v1", join(dir, "gone"), "--no-doctor"),
    );
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain(
      "cannot read the served context from http://127.0.0.1:9/v1/models",
    );
  });

  it("eval runs, warns once, and sends one request per model call", async () => {
    const output = join(dir, "eval");
    const run = await sandfarm(...llmEvalArgs(tasks, served.baseURL, output));
    expect(run.code).toBe(0);
    expect(run.stderr.split(WARNING)).toHaveLength(2);
    const report = JSON.parse(readFileSync(join(output, "report.json"), "utf8")) as {
      requests: Record<string, { calls: number; chat: number; chatPerCall: number }>;
    };
    expect(report.requests.llm).toMatchObject({ calls: 4, chat: 4, chatPerCall: 1 });
    expect(readFileSync(join(output, "report.md"), "utf8")).toContain(
      "| LLM | 4 | 4 | 1.00 | 0 | 4 |",
    );
    const logged = readRunLines<{ event: string; msg: string }>(output, "sandfarm.log");
    expect(logged[0]).toMatchObject({ event: "warning", msg: WARNING });
  });

  it("train runs and records the fitted limits and the requests per step", async () => {
    const config = join(dir, "train.yaml");
    writeFileSync(
      config,
      stringify({
        run: { id: "fit", dir, mode: "llm", steps: 1 },
        data: { train: [tasks] },
        policy: { urls: [served.baseURL], model: "stub-model" },
        rollout: { groupSize: 2, groupsPerStep: 2, episodes: 4 },
      }),
    );
    const run = await sandfarm("train", config);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`sandfarm train: ${WARNING}`);
    const provenance = JSON.parse(readFileSync(join(dir, "fit", "provenance.json"), "utf8")) as {
      sessions: { endpoint: unknown }[];
    };
    expect(provenance.sessions[0]!.endpoint).toEqual({
      contextTokens: 32768,
      contextSource: "server",
      maxTotalTokens: 32768,
      maxTokensPerCall: 32768,
    });
    const [step] = readRunLines<{ requests: unknown }>(join(dir, "fit"), "metrics.jsonl");
    expect(step!.requests).toEqual({
      calls: 4,
      chat: 4,
      overflowRetries: 0,
      tokenize: 4,
      chatPerCall: 1,
      tokenizePerCall: 1,
    });
  });

  it("run answers with the same fit", async () => {
    const run = await sandfarm(
      "run",
      "--query",
      "[script:rl-1] [answer:7] What is 6 + 1?",
      "--mode",
      "llm",
      "--policy-url",
      served.baseURL,
      "--model",
      "stub-model",
      "--output-dir",
      join(dir, "run"),
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`sandfarm run: ${WARNING}`);
  });

  it("a server that does not report its context is a user error, or fitted to the given one", async () => {
    const missing = await sandfarm(...llmEvalArgs(tasks, silent.baseURL, join(dir, "silent")));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("set policy.contextTokens");
    const given = await sandfarm(
      ...llmEvalArgs(
        tasks,
        silent.baseURL,
        join(dir, "given"),
        "--set",
        "policy.contextTokens=20000",
      ),
    );
    expect(given.code).toBe(0);
    expect(given.stderr).toContain("the model's context of 20000 tokens; episodes use 20000");
  });
});
