import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sandfarm } from "../../testing/cli.js";
import { configReference } from "./reference.js";
import { loadFarmConfig, parseFarmConfig } from "./train.js";

const minimal = {
  data: { train: ["tasks.jsonl"] },
  policy: { urls: ["http://127.0.0.1:8000/v1"], model: "m" },
};

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "sandfarm-config-")), "run.yaml");
  writeFileSync(path, text);
  return path;
}

describe("the run configuration", () => {
  it("fills every default in one place", () => {
    const config = parseFarmConfig(minimal);
    expect(config.run).toEqual({ dir: "runs", mode: "sandbox", seed: 0, nice: -10 });
    expect(config.rollout).toMatchObject({ groupSize: 8, groupsPerStep: 8, staleness: 1 });
    expect(config.sandbox).toMatchObject({ network: "none", memoryMb: 2048, execMode: "runner" });
    expect(config.sink).toMatchObject({ kind: "files", tokenBudget: 262_144 });
    expect(config.rewards).toEqual({ advantage: "rloo", overlongPenalty: true });
  });

  it("names each bad key, the value it got, and the fix; secrets are refused", () => {
    const attempt = () =>
      parseFarmConfig(
        {
          ...minimal,
          policy: { ...minimal.policy, apiKey: "sk-secret" },
          rollout: { groupSize: 1, groupsPerStp: 4 },
          sink: { kind: "kafka", lowWatermarkTokens: 10, highWatermarkTokens: 5 },
        },
        "run.yaml",
      );
    expect(attempt).toThrow(/^run\.yaml is not a valid sandfarm config:/);
    const message = (() => {
      try {
        attempt();
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain(
      "policy.apiKey: secrets never go in the config file; set SANDFARM_POLICY_API_KEY",
    );
    expect(message).not.toContain("sk-secret");
    expect(message).toMatch(/rollout\.groupSize: .*>=2 \(got 1\)/);
    expect(message).toContain("rollout.groupsPerStp: unknown key; did you mean 'groupsPerStep'?");
    expect(message).toMatch(/sink\.kind: .*"bridge"\|"files".* \(got "kafka"\)/);
  });

  it("reads YAML with --set overrides, and places a YAML error at its line", () => {
    const path = file(
      "data:\n  train: [a.jsonl]\npolicy:\n  urls: [http://127.0.0.1:8000/v1]\n  model: m\n",
    );
    const config = loadFarmConfig(path, [
      "rollout.groupSize=4",
      "run.mode=llm",
      "data.domains=[math]",
    ]);
    expect(config.rollout.groupSize).toBe(4);
    expect(config.run.mode).toBe("llm");
    expect(config.data.domains).toEqual(["math"]);
    expect(() => loadFarmConfig(file("data:\n  train: [a\npolicy: x\n"))).toThrow(
      /run\.yaml:\d+:\d+: not valid YAML/,
    );
    expect(() => loadFarmConfig(path, ["rollout.groupSize"])).toThrow(/write KEY=VALUE/);
  });

  it("accepts both examples, which differ only in the mode", () => {
    const sandbox = loadFarmConfig("examples/sandbox-rl.yaml");
    const llm = loadFarmConfig("examples/llm-rl.yaml");
    expect(sandbox.run.mode).toBe("sandbox");
    expect(llm.run.mode).toBe("llm");
    expect(llm.data).toEqual(sandbox.data);
    expect(llm.rollout).toEqual(sandbox.rollout);
  });

  it("keeps docs/config.md equal to the generated reference", () => {
    expect(readFileSync("docs/config.md", "utf8")).toBe(configReference());
  });

  it("exports a JSON Schema and checks files from the CLI", async () => {
    const schema = await sandfarm("config", "schema");
    expect(schema.code).toBe(0);
    const parsed = JSON.parse(schema.stdout) as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(parsed.properties)).toEqual([
      "run",
      "data",
      "policy",
      "sandbox",
      "episode",
      "rollout",
      "rewards",
      "sink",
      "validation",
      "metrics",
    ]);
    expect(parsed.required).toEqual(["data", "policy"]);
    const bad = await sandfarm("config", "check", file("data: {train: [a.jsonl]}\n"));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/policy: .*\(got nothing\)/);
    const good = await sandfarm(
      "config",
      "check",
      "examples/llm-rl.yaml",
      "--set",
      "rollout.groupSize=2",
    );
    expect(good.code).toBe(0);
    expect((JSON.parse(good.stdout) as { rollout: { groupSize: number } }).rollout.groupSize).toBe(
      2,
    );
  });
});
