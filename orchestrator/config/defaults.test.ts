import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sandfarm } from "../../testing/cli.js";
import { parseSandboxConfig } from "../sandbox/config.js";
import { BRIDGE_DEFAULTS } from "../../trainer-bridge/defaults.js";
import { episodeOptionsFor } from "../launch/episode-options.js";
import { policyClientFor } from "../launch/policy.js";
import { PolicyClient } from "../policy/client.js";
import { parseEvalConfig } from "./eval.js";
import { parseFarmConfig } from "./train.js";

const policy = { urls: ["http://127.0.0.1:8000/v1"], model: "m" };

/** The documented default of every key in one section of docs/config.md, as parsed JSON. */
function documentedDefaults(section: string): Map<string, unknown> {
  const text = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
  const start = text.indexOf(`## \`${section}\``);
  const end = text.indexOf("\n## ", start + 1);
  const defaults = new Map<string, unknown>();
  for (const line of text.slice(start, end === -1 ? undefined : end).split("\n")) {
    const cells = /^\| `([^`]+)` \| [^|]*(?:\\\|[^|]*)* \| `(.+)` \|/.exec(line);
    if (cells) defaults.set(cells[1]!, JSON.parse(cells[2]!));
  }
  return defaults;
}

function valueAt(config: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], config);
}

describe("every default is defined once and the commands hold to it", () => {
  it("parses an empty train and eval config to exactly the documented defaults", () => {
    const train = parseFarmConfig({ data: { train: ["t.jsonl"] }, policy });
    const trainDocs = documentedDefaults("sandfarm train");
    expect(trainDocs.size).toBeGreaterThan(40);
    for (const [key, value] of trainDocs) expect([key, valueAt(train, key)]).toEqual([key, value]);
    const evaluation = parseEvalConfig({ tasks: ["t.jsonl"], policy });
    const evalDocs = documentedDefaults("sandfarm eval");
    expect(evalDocs.size).toBeGreaterThan(25);
    for (const [key, value] of evalDocs)
      expect([key, valueAt(evaluation, key)]).toEqual([key, value]);
  });

  it("builds the episode runner's, the policy client's and the bridge's options from them", () => {
    const docs = documentedDefaults("sandfarm train");
    const config = parseFarmConfig({ data: { train: ["t.jsonl"] }, policy });
    expect(episodeOptionsFor(config.episode)).toEqual({
      maxTurns: docs.get("episode.maxTurns"),
      maxTokensPerCall: docs.get("episode.maxTokensPerCall"),
      maxTotalTokens: docs.get("episode.maxTotalTokens"),
      timeoutMs: (docs.get("episode.timeoutS") as number) * 1000,
    });
    // No sampling key has a default: nothing is sent that the config did not ask for.
    expect(config.policy.sampling).toEqual({});

    const fromConfig = policyClientFor(config.policy);
    const bare = new PolicyClient(policy);
    try {
      for (const options of [fromConfig.options, bare.options])
        expect(options).toMatchObject({
          retries: docs.get("policy.retries"),
          requestTimeoutMs: (docs.get("policy.requestTimeoutS") as number) * 1000,
          cacheSaltPerVersion: docs.get("policy.cacheSaltPerVersion"),
        });
    } finally {
      fromConfig.close();
      bare.close();
    }

    expect(BRIDGE_DEFAULTS.ackTimeoutMs).toBe((docs.get("sink.ackTimeoutS") as number) * 1000);
    expect(BRIDGE_DEFAULTS.address).toBe(docs.get("sink.address"));
    expect(BRIDGE_DEFAULTS.delivery).toBe(docs.get("sink.delivery"));
  });

  it("refuses at check time what the policy client would refuse at launch", () => {
    expect(() =>
      parseFarmConfig({
        data: { train: ["t.jsonl"] },
        policy: { ...policy, sampling: { temperature: 3 } },
      }),
    ).toThrow(/policy\.sampling\.temperature: .*<=2.* \(got 3\)/);
    expect(() => new PolicyClient({ ...policy, sampling: { temperature: 3 } })).toThrow();
    const ok = policyClientFor(
      parseFarmConfig({
        data: { train: ["t.jsonl"] },
        policy: { ...policy, sampling: { temperature: 2, top_k: -1 } },
      }).policy,
    );
    ok.close();
  });

  it("shows the same defaults in the commands' help texts", async () => {
    const docs = documentedDefaults("sandfarm eval");
    const sandbox = parseSandboxConfig();
    const [evalHelp, runHelp, execHelp, bridgeHelp] = await Promise.all([
      sandfarm("eval", "--help"),
      sandfarm("run", "--help"),
      sandfarm("sandbox", "exec", "--help"),
      sandfarm("bridge", "serve", "--help"),
    ]);
    const flat = (text: string) => text.replace(/\s+/g, " ");
    expect(flat(evalHelp.stdout)).toContain(`(default ${String(docs.get("repeats"))})`);
    expect(flat(evalHelp.stdout)).toContain(
      `episodes at once (default ${String(docs.get("concurrency"))})`,
    );
    expect(flat(evalHelp.stdout)).toContain(`or both (default ${String(docs.get("mode"))})`);
    expect(flat(runHelp.stdout)).toContain(
      `model calls at most (default ${String(docs.get("episode.maxTurns"))})`,
    );
    expect(flat(runHelp.stdout)).toContain(
      `in seconds (default ${String(docs.get("episode.timeoutS"))})`,
    );
    expect(flat(execHelp.stdout)).toContain(`memory limit in MiB (default ${sandbox.memoryMb})`);
    expect(flat(execHelp.stdout)).toContain(
      `command timeout (default: ${sandbox.commandTimeoutS})`,
    );
    expect(flat(bridgeHelp.stdout)).toContain(`(default: ${BRIDGE_DEFAULTS.ackTimeoutMs / 1000})`);
    expect(flat(bridgeHelp.stdout)).toContain(`(default: "${BRIDGE_DEFAULTS.address}")`);
  });
});
