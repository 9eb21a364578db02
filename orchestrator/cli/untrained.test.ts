import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { sandfarm } from "../../testing/cli.js";
import { readRunLines, writeRlTasks } from "../../testing/farm-runs.js";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../../testing/vllm-stub/script-sets.js";

describe("a training run whose groups all tie", () => {
  let dir: string;
  let stub: RunningVllmStub;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sandfarm-untrained-"));
    stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-tie" });
  });
  afterAll(async () => {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("says at once, in the metrics and in its summary that it trained nothing", async () => {
    const tasks = writeRlTasks(dir, "ties.jsonl", 2, { script: "rl-tie" });
    const config = join(dir, "ties.yaml");
    writeFileSync(
      config,
      stringify({
        run: { id: "ties", dir, steps: 1 },
        data: { train: [tasks] },
        policy: { urls: [stub.baseURL], model: "stub-model" },
        sandbox: { network: "none", memoryMb: 512, pidsLimit: 256 },
        episode: { maxTurns: 4, maxTotalTokens: 16384, maxTokensPerCall: 2048 },
        rollout: { groupSize: 2, groupsPerStep: 1, episodes: 2, warmSandboxes: 2 },
      }),
    );
    const run = await sandfarm("train", config);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "sandfarm train: warning: step 0 trained nothing: 1 group(s) tied, 0 stale, 0 masked, 0 without token ids; no batch went to the trainer",
    );
    expect(run.stderr).toContain(
      "1 step(s) trained nothing: every group tied, went stale or was masked",
    );
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ batches: 0, stepsWithoutBatch: 1 });
    const runDir = join(dir, "ties");
    const [step] = readRunLines<{ groups: { batched: number; dropped_tie: number } }>(
      runDir,
      "metrics.jsonl",
    );
    expect(step!.groups).toMatchObject({ batched: 0, dropped_tie: 1 });
    expect(
      readRunLines<{ event: string }>(runDir, "sandfarm.log").map((line) => line.event),
    ).toContain("untrained");
  });
});
