import { describe, expect, it } from "vitest";
import { loadEvalConfig, modesOf, parseEvalConfig } from "./eval.js";

describe("the eval config", () => {
  it("reads the example with every default filled in", () => {
    const config = loadEvalConfig("examples/eval-samples.yaml", ["repeats=4"]);
    expect(config.tasks).toHaveLength(7);
    expect(config.repeats).toBe(4);
    expect(modesOf(config)).toEqual(["sandbox", "llm"]);
    expect(config.episode).toEqual({
      maxTurns: 100,
      maxTokensPerCall: 65_536,
      maxTotalTokens: 131_072,
      timeoutS: 5_400,
    });
    expect(config.policy.sampling).toMatchObject({ temperature: 0.7, top_p: 0.8, top_k: 20 });
    expect(config.rewards.overlongPenalty).toBe(true);
  });

  it("names each bad key, its value and the fix", () => {
    expect(() =>
      parseEvalConfig(
        {
          tasks: [],
          mode: "sandbox-only",
          repeatsByDomain: { math: 0 },
          policy: { urls: ["not a url"], model: "m", apiKey: "sk-1" },
        },
        "eval.yaml",
      ),
    ).toThrow(
      [
        "eval.yaml is not a valid sandfarm eval config:",
        "  tasks: give at least one task file (JSONL, Parquet, Arrow IPC) (got [])",
        '  mode: Invalid option: expected one of "sandbox"|"llm"|"both" (got "sandbox-only")',
        "  repeatsByDomain.math: Too small: expected number to be >=1 (got 0)",
        '  policy.urls.0: give http(s)://host:port/v1 (got "not a url")',
        "  policy.apiKey: secrets never go in the config file; set SANDFARM_POLICY_API_KEY (the policy) or SANDFARM_JUDGE_API_KEY (the judge) instead",
      ].join("\n"),
    );
    expect(modesOf({ mode: "llm" })).toEqual(["llm"]);
  });
});
