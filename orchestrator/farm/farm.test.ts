import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  containersOfRun,
  farmTestConfig,
  readRunLines,
  readSpooledBatches,
  rlooByHand,
  writeRlTasks,
} from "../../testing/farm-runs.js";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../../testing/vllm-stub/script-sets.js";
import { decodeBatch } from "../../trainer-bridge/arrow.js";
import { BridgeClient } from "../../trainer-bridge/client.js";
import type { TrainingRow } from "../../trainer-bridge/training-row.js";
import { loadFarmConfig } from "../config/train.js";
import type { StepMetrics } from "./metrics.js";
import { type TrainingRun, launchTraining } from "./training-run.js";

let dir: string;
let stub: RunningVllmStub;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-farm-"));
  stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-1" });
});

afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Trained-token versions of a row (mask 1 positions), in order. */
function sampledVersions(row: TrainingRow): number[] {
  const versions: number[] = [];
  for (let index = 0; index < row.lossMask.length; index++)
    if (row.lossMask[index] === 1) versions.push(row.versions[index]!);
  return versions;
}

function rowsByGroup(rows: readonly TrainingRow[]): Map<string, TrainingRow[]> {
  const groups = new Map<string, TrainingRow[]>();
  for (const row of rows) groups.set(row.groupId, [...(groups.get(row.groupId) ?? []), row]);
  return groups;
}

async function runToEnd(run: TrainingRun) {
  try {
    return await run.farm.run();
  } finally {
    await run.close();
  }
}

describe("sandfarm train, file sink, sandbox mode", () => {
  let runDir: string;
  let outcome: Awaited<ReturnType<TrainingRun["farm"]["run"]>>;
  let prometheus = "";
  let train: string;

  beforeAll(async () => {
    train = writeRlTasks(dir, "files.jsonl", 8);
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "files",
        overrides: { metrics: { prometheusPort: 0 } },
      }),
    });
    runDir = run.runDir;
    try {
      outcome = await run.farm.run();
      prometheus = await (await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`)).text();
    } finally {
      await run.close();
    }
  }, 180_000);

  it("runs three steps of two groups of four and commits every group whole", () => {
    expect(outcome).toMatchObject({ status: "finished", steps: 3, rollouts: 24 });
    expect(outcome.batches).toBe(readSpooledBatches(runDir).length);
    const batches = readSpooledBatches(runDir);
    expect(batches.map((batch) => batch.batchId)).toEqual(
      batches.map((_, index) => `files-${index}`),
    );
    const rows = batches.flatMap((batch) => batch.rows!);
    const groups = rowsByGroup(rows);
    expect([...groups.keys()].sort()).toEqual(
      ["files-s0", "files-s1", "files-s2", "files-s3", "files-s4", "files-s5"].sort(),
    );
    for (const batch of batches)
      for (const groupId of new Set(batch.rows!.map((row) => row.groupId)))
        expect(
          batches.filter((other) => other.rows!.some((row) => row.groupId === groupId)),
        ).toHaveLength(1);
    expect(new Set(rows.map((row) => row.sampleId)).size).toBe(rows.length);
  });

  it("gives each group half right answers and RLOO advantages of exactly +-2/3", () => {
    const rows = readSpooledBatches(runDir).flatMap((batch) => batch.rows!);
    for (const [groupId, members] of rowsByGroup(rows)) {
      const rollouts = [...new Map(members.map((row) => [row.rolloutId, row])).values()].sort(
        (a, b) => a.rolloutId.localeCompare(b.rolloutId),
      );
      expect(rollouts.map((row) => row.rolloutId)).toEqual(
        [0, 1, 2, 3].map((m) => `${groupId}-${m}`),
      );
      const rewards = rollouts.map((row) => row.reward);
      expect(rewards.filter((reward) => reward === 1)).toHaveLength(2);
      expect(rewards.filter((reward) => reward === 0)).toHaveLength(2);
      const expected = rlooByHand(rewards);
      rollouts.forEach((row, index) => expect(row.advantage).toBe(Math.fround(expected[index]!)));
      expect(rollouts.map((row) => Math.abs(row.advantage))).toEqual(
        Array(4).fill(Math.fround(2 / 3)),
      );
      for (const row of members) {
        expect(row.stopReason).toBe("submitted");
        expect(row.numTurns).toBe(4);
        expect(row.mode).toBe("sandbox");
        expect(row.trainable).toBe(true);
        expect(sampledVersions(row).every((version) => version === 0)).toBe(true);
      }
    }
  });

  it("rewards the answer the stub wrote into /testbed/answer.txt", () => {
    const records = readRunLines<{
      reward: number;
      verdict: string;
      episode: { rolloutId: string; answer: string; taskId: string };
    }>(runDir, "trajectories.jsonl");
    expect(records).toHaveLength(24);
    const tasks = new Map(
      readFileSync(train, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { id: string; groundTruth: string })
        .map((task) => [task.id, task.groundTruth]),
    );
    for (const record of records) {
      expect(record.verdict).toBe("batched");
      expect(record.reward).toBe(
        record.episode.answer === tasks.get(record.episode.taskId) ? 1 : 0,
      );
    }
    expect(new Set(records.map((record) => record.episode.rolloutId)).size).toBe(24);
  });

  it("writes one metrics line per step with the step's numbers", () => {
    const metrics = readRunLines<StepMetrics>(runDir, "metrics.jsonl");
    expect(metrics.map((line) => line.step)).toEqual([0, 1, 2]);
    for (const line of metrics) {
      expect(line).toMatchObject({
        version: 0,
        rollouts: 8,
        reward_mean: 0.5,
        reward_std: 0.5,
        accuracy: 0.5,
        turns_mean: 4,
        calls_mean: 4,
        stop_reasons: { submitted: 8 },
        groups: { batched: 2, dropped_tie: 0, dropped_stale: 0, masked_infrastructure: 0 },
        staleness_max: 0,
        merge_mismatches: 0,
      });
      // One file-writing turn (file management) of four per rollout.
      expect(line.capability_usage.file_management).toBe(0.25);
      expect(Object.values(line.domains).reduce((sum, domain) => sum + domain.n, 0)).toBe(8);
    }
    expect(
      readRunLines(runDir, "journal.jsonl").filter((line) => line.type === "step"),
    ).toHaveLength(3);
  });

  it("serves the same counts on the Prometheus endpoint", () => {
    expect(prometheus).toContain('sandfarm_rollouts_total{stop_reason="submitted"} 24');
    expect(prometheus).toContain('sandfarm_groups_total{verdict="batched"} 6');
    expect(prometheus).toContain("sandfarm_step 3");
    expect(prometheus).toContain("sandfarm_turns_total 96");
  });

  it("records provenance: config, version, git revision, image id, dataset fingerprints", () => {
    const provenance = JSON.parse(readFileSync(join(runDir, "provenance.json"), "utf8")) as {
      sandfarm: { version: string; git: string };
      sandbox: { id: string; recipe: string };
      policy: { urls: string[]; model: string };
      datasets: { file: string; sha256: string }[];
    };
    expect(provenance.sandfarm.version).toBe("0.1.0");
    expect(provenance.sandfarm.git).toMatch(/^[0-9a-f]{40}$|^unknown/);
    expect(provenance.sandbox.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(provenance.policy).toEqual({ urls: [stub.baseURL], model: "stub-model" });
    expect(provenance.datasets).toEqual([
      {
        file: train,
        bytes: readFileSync(train).length,
        sha256: createHash("sha256").update(readFileSync(train)).digest("hex"),
      },
    ]);
    const config = JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")) as {
      run: { id: string };
      rollout: { groupSize: number };
    };
    expect(config.run.id).toBe("files");
    expect(config.rollout.groupSize).toBe(4);
  });

  it("leaves no container behind", async () => {
    expect(await containersOfRun("files")).toEqual([]);
  });

  it("refuses to start a second run in the same directory", async () => {
    await expect(
      launchTraining({
        config: farmTestConfig({ dir, stubURL: stub.baseURL, train: [train], runId: "files" }),
      }),
    ).rejects.toThrow(/already holds a run; continue it with `sandfarm train --resume/);
  });
});

describe("sandfarm train, bridge sink", () => {
  it("bumps the version of tokens sampled after a policy update the trainer commits", async () => {
    const train = writeRlTasks(dir, "bridge.jsonl", 6, { script: "rl-10" });
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "bridge",
        overrides: {
          rollout: { groupsPerStep: 1, staleness: 1 },
          sink: { kind: "bridge", address: "127.0.0.1:0" },
        },
      }),
    });
    const client = new BridgeClient({ address: `127.0.0.1:${run.bridgePort}` });
    const received: TrainingRow[][] = [];
    const callsBefore = stub.chatCalls;
    const requestsBefore = stub.requests.length;
    const trainer = (async () => {
      // Update while slots 0 and 1 (S=1: two slots at v0) are mid-episode: 4 calls in of 11 each.
      while (stub.chatCalls - callsBefore < 4)
        await new Promise((resolve) => setTimeout(resolve, 5));
      await client.beginPolicyUpdate(1);
      await client.loadLoraAdapter(1, { name: "bridge-v1", path: "/ckpt/bridge-1" });
      await client.commitPolicyUpdate(1);
      for await (const batch of client.pull({ credits: 1 })) {
        received.push(batch.rows());
        batch.ack();
        if (new Set(received.flat().map((row) => row.groupId)).size === 3) break;
      }
    })();
    try {
      const outcome = await run.farm.run();
      await trainer;
      expect(outcome.status).toBe("finished");
    } finally {
      client.close();
      await run.close();
    }
    const rows = received.flat();
    const groups = rowsByGroup(rows);
    expect([...groups.keys()].sort()).toEqual(["bridge-s0", "bridge-s1", "bridge-s2"]);
    // Within any row, versions never go back.
    for (const row of rows) {
      const versions = sampledVersions(row);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    // Rollouts running across the update: sampled at 0 before it, at 1 after it.
    const spanning = [...groups.get("bridge-s0")!, ...groups.get("bridge-s1")!].filter(
      (row) => new Set(sampledVersions(row)).size === 2,
    );
    expect(spanning.length).toBeGreaterThanOrEqual(1);
    // Slot 2 was admitted only after the update: all version 1.
    for (const row of groups.get("bridge-s2")!)
      expect(new Set(sampledVersions(row))).toEqual(new Set([1]));
    const policyLines = readRunLines(run.runDir, "journal.jsonl").filter(
      (line) => line.type === "policy",
    );
    // The journal records the adapter, so a resumed run samples from it too; calls after the
    // commit asked for it by name.
    expect(policyLines).toMatchObject([{ version: 1, model: "bridge-v1" }]);
    const models = stub.requests
      .slice(requestsBefore)
      .filter((request) => request.path === "/v1/chat/completions")
      .map((request) => (request.body as { model: string }).model);
    expect(models.at(-1)).toBe("bridge-v1");
    expect(models.indexOf("bridge-v1")).toBeGreaterThan(0);
    expect(models.slice(models.indexOf("bridge-v1")).every((model) => model === "bridge-v1")).toBe(
      true,
    );
    expect(stub.pauses.map((event) => event.action)).toEqual(["pause", "resume"]);
  }, 180_000);

  it("drops a group whose oldest token is more than S versions old when it would be batched", async () => {
    const train = writeRlTasks(dir, "stale.jsonl", 4, { script: "rl-10", first: 300 });
    const callsBefore = stub.chatCalls;
    const run = await launchTraining({
      skipDoctor: true,
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "stale",
        overrides: {
          run: { steps: 2 },
          rollout: { groupSize: 2, groupsPerStep: 2, staleness: 0 },
          sink: { kind: "bridge", address: "127.0.0.1:0" },
        },
      }),
    });
    const client = new BridgeClient({ address: `127.0.0.1:${run.bridgePort}` });
    const received: TrainingRow[][] = [];
    const trainer = (async () => {
      // Update while step 0's groups are mid-episode (10 calls each; 4 calls in).
      while (stub.chatCalls - callsBefore < 4)
        await new Promise((resolve) => setTimeout(resolve, 5));
      await client.beginPolicyUpdate(1);
      await client.commitPolicyUpdate(1);
      for await (const batch of client.pull({ credits: 4 })) {
        received.push(batch.rows());
        batch.ack();
        const seen = new Set(received.flat().map((row) => row.groupId));
        if (seen.has("stale-s2") && seen.has("stale-s3")) break;
      }
    })();
    let metrics: StepMetrics[];
    try {
      const outcome = await run.farm.run();
      await trainer;
      expect(outcome).toMatchObject({ status: "finished", steps: 2 });
      metrics = readRunLines<StepMetrics>(run.runDir, "metrics.jsonl");
    } finally {
      client.close();
      await run.close();
    }
    const stale = readRunLines<{ type: string; verdict: string; groupId: string }>(
      run.runDir,
      "journal.jsonl",
    ).filter((line) => line.type === "group" && line.verdict === "dropped_stale");
    expect(stale.length).toBeGreaterThanOrEqual(1);
    expect(metrics[0]!.groups.dropped_stale).toBe(
      stale.filter((line) => /-s[01]$/.test(line.groupId)).length,
    );
    // Nothing sampled at version 0 reached the trainer.
    for (const row of received.flat()) expect(Math.min(...sampledVersions(row))).toBe(1);
    for (const line of stale)
      expect(received.flat().some((row) => row.groupId === line.groupId)).toBe(false);
  }, 180_000);
  it("validates on each committed policy version when everySteps is 0", async () => {
    const train = writeRlTasks(dir, "val-commit.jsonl", 2, { first: 1500 });
    const validation = writeRlTasks(dir, "val-commit-set.jsonl", 2, {
      script: "rl-1",
      first: 1600,
      domains: ["biomedicine"],
    });
    const run = await launchTraining({
      skipDoctor: true,
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        validation: [validation],
        runId: "val-commit",
        overrides: {
          run: { steps: 2 },
          rollout: { groupSize: 2, groupsPerStep: 1, staleness: 0 },
          sink: { kind: "bridge", address: "127.0.0.1:0" },
          validation: { everySteps: 0, modes: ["llm"] },
        },
      }),
    });
    const client = new BridgeClient({ address: `127.0.0.1:${run.bridgePort}` });
    // A trainer: one update after the first batch (S=0 needs it to admit the second step).
    const trainer = (async () => {
      let batches = 0;
      for await (const batch of client.pull()) {
        batch.ack();
        if (++batches === 2) break;
        await client.beginPolicyUpdate(1);
        await client.commitPolicyUpdate(1);
      }
    })();
    try {
      expect(await run.farm.run()).toMatchObject({ status: "finished", steps: 2 });
      await trainer;
    } finally {
      client.close();
      await run.close();
    }
    const lines = readRunLines<{ version: number; llm: { n: number; failed: number } }>(
      run.runDir,
      "validation.jsonl",
    );
    // Version 1 was committed while the run lasted: one validation, at that version.
    expect(lines.map((line) => line.version)).toEqual([1]);
    for (const line of lines) expect(line.llm).toMatchObject({ n: 2, failed: 0 });
  }, 120_000);

  it("stops admitting while the bridge's queue is above its high watermark", async () => {
    const train = writeRlTasks(dir, "backpressure.jsonl", 3, { first: 400 });
    const waits: string[] = [];
    const run = await launchTraining({
      skipDoctor: true,
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "backpressure",
        overrides: {
          run: { steps: 3 },
          // One group at a time; staleness far off, so only backpressure can hold slots back.
          rollout: { groupSize: 2, groupsPerStep: 1, episodes: 2, staleness: 5 },
          sink: {
            kind: "bridge",
            address: "127.0.0.1:0",
            highWatermarkTokens: 1,
            lowWatermarkTokens: 1,
          },
        },
      }),
      onEvent: (event) => {
        if (event.kind === "waiting") waits.push(event.reason);
      },
    });
    const finished = run.farm.run();
    try {
      while (waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(waits[0]).toMatch(/^backpressure: \d+ tokens queued for the trainer$/);
      // Held while the batches wait for a trainer: the queue counts committed batches, so the slot
      // admitted as the first batch was being committed may run, but no later one.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const admitted = () =>
        readRunLines<{ type: string }>(run.runDir, "journal.jsonl").filter(
          (line) => line.type === "admit",
        ).length;
      const held = admitted();
      expect(held).toBeLessThan(3);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(admitted()).toBe(held);
      const client = new BridgeClient({ address: `127.0.0.1:${run.bridgePort}` });
      const stream = client.pull();
      const acks = (async () => {
        for await (const batch of stream) batch.ack();
      })();
      expect(await finished).toMatchObject({ status: "finished", steps: 3 });
      expect(admitted()).toBe(3);
      stream.close();
      await acks;
      client.close();
    } finally {
      await run.close();
    }
  }, 120_000);
});

describe("sandfarm train, other paths", () => {
  it("runs the demo's example config against the stub: two steps of two groups of four", async () => {
    const config = loadFarmConfig("examples/stub-rl.yaml", [
      `policy.urls=[${stub.baseURL}]`,
      `run.dir=${dir}`,
      "run.id=example",
    ]);
    const outcome = await runToEnd(await launchTraining({ config }));
    expect(outcome).toMatchObject({ status: "finished", steps: 2, rollouts: 16 });
    const metrics = readRunLines<StepMetrics>(join(dir, "example"), "metrics.jsonl");
    expect(metrics.map((line) => line.groups.batched)).toEqual([2, 2]);
  }, 120_000);

  it("runs plain LLM-mode groups on the same data", async () => {
    const train = writeRlTasks(dir, "llm.jsonl", 4, { first: 500 });
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "llm",
        overrides: { run: { mode: "llm", steps: 2 } },
      }),
    });
    const outcome = await runToEnd(run);
    expect(outcome).toMatchObject({ status: "finished", steps: 2, rollouts: 16 });
    const rows = readSpooledBatches(run.runDir).flatMap((batch) => batch.rows!);
    expect(rows).toHaveLength(16);
    for (const row of rows) {
      expect(row.mode).toBe("llm");
      expect(row.numTurns).toBe(1);
      expect(Math.abs(row.advantage)).toBe(Math.fround(2 / 3));
    }
    const provenance = JSON.parse(readFileSync(join(run.runDir, "provenance.json"), "utf8")) as {
      sandbox: { backend: string };
    };
    expect(provenance.sandbox.backend).toMatch(/none/);
  }, 120_000);

  it("does not wait on the trainer for steps that sent it nothing (every group tied)", async () => {
    const train = writeRlTasks(dir, "tied-bridge.jsonl", 8, { script: "rl-tie", first: 750 });
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "tied-bridge",
        overrides: {
          run: { steps: 3, mode: "llm" },
          rollout: { groupSize: 2, groupsPerStep: 2, staleness: 0 },
          sink: { kind: "bridge", address: "127.0.0.1:0" },
        },
      }),
    });
    // No trainer ever connects: each step ties whole, so none should wait for an update.
    const outcome = await runToEnd(run);
    expect(outcome).toMatchObject({
      status: "finished",
      steps: 3,
      batches: 0,
      stepsWithoutBatch: 3,
    });
    const steps = readRunLines<{ type: string; trained?: boolean }>(
      run.runDir,
      "journal.jsonl",
    ).filter((line) => line.type === "step");
    expect(steps.map((line) => line.trained)).toEqual([false, false, false]);
  }, 120_000);

  it("drops tied groups, and refills their slots when asked", async () => {
    const train = writeRlTasks(dir, "ties.jsonl", 6, { script: "rl-tie", first: 700 });
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "ties",
        overrides: {
          run: { steps: 1 },
          rollout: { groupSize: 2, groupsPerStep: 2, refillZeroVariance: true },
        },
      }),
    });
    const outcome = await runToEnd(run);
    // Two slots, every group ties: each slot is refilled until the six tasks run out.
    expect(outcome).toMatchObject({ status: "finished", steps: 1, rollouts: 12, batches: 0 });
    const journal = readRunLines<{ type: string; reason?: string; verdict?: string }>(
      run.runDir,
      "journal.jsonl",
    );
    expect(
      journal.filter((line) => line.type === "admit" && line.reason === "refill"),
    ).toHaveLength(4);
    expect(
      journal.filter((line) => line.type === "group" && line.verdict === "dropped_tie"),
    ).toHaveLength(6);
    expect(readRunLines<StepMetrics>(run.runDir, "metrics.jsonl")[0]!.groups.dropped_tie).toBe(6);
  }, 120_000);

  it("retries groups that fail for infrastructure reasons, then halts with the cause", async () => {
    const failing = await startVllmStub({
      scripts: SCRIPT_SETS.rl!,
      faults: () => ({ status: 503 }),
    });
    try {
      const train = writeRlTasks(dir, "infra.jsonl", 4, { first: 900 });
      const run = await launchTraining({
        skipDoctor: true,
        config: farmTestConfig({
          dir,
          stubURL: failing.baseURL,
          train: [train],
          runId: "infra",
          overrides: {
            run: { mode: "llm" },
            policy: { retries: 0 },
            rollout: { groupSize: 2, groupsPerStep: 1, episodes: 2, maxInfraFailures: 3 },
          },
        }),
      });
      const outcome = await runToEnd(run);
      expect(outcome.status).toBe("halted");
      expect(outcome.message).toMatch(
        /^3 groups in a row failed for infrastructure reasons; the last: infra-s0\.2-\d: policy_error/,
      );
      const journal = readRunLines<{
        type: string;
        groupId: string;
        reason?: string;
        taskId?: string;
      }>(run.runDir, "journal.jsonl");
      expect(
        journal
          .filter((line) => line.type === "admit")
          .map((line) => `${line.groupId}:${line.reason}`),
      ).toEqual(["infra-s0:new", "infra-s0.1:retry", "infra-s0.2:retry"]);
      // Retried on the same task.
      const tasks = journal.filter((line) => line.type === "admit").map((line) => line.taskId);
      expect(new Set(tasks).size).toBe(1);
    } finally {
      await failing.close();
    }
  }, 120_000);

  it("admits no more rollouts than the sandbox fleet holds, and says so in its metrics", async () => {
    const train = writeRlTasks(dir, "capped.jsonl", 4, { first: 1300 });
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "capped",
        overrides: {
          run: { steps: 1 },
          sandbox: {
            engines: [{ name: "small", host: "unix:///var/run/docker.sock", capacity: 3 }],
          },
          rollout: { episodes: 16, warmSandboxes: 8 },
          metrics: { prometheusPort: 0 },
        },
      }),
    });
    // Counts the sandboxes the farm holds, at each hand-out and return.
    const fleet = run.pool!;
    let held = 0;
    let most = 0;
    const acquire = fleet.acquire.bind(fleet);
    const release = fleet.release.bind(fleet);
    fleet.acquire = async () => {
      const sandbox = await acquire();
      most = Math.max(most, ++held);
      return sandbox;
    };
    fleet.release = (sandbox) => {
      held--;
      return release(sandbox);
    };
    try {
      expect(run.pool!.capacity).toBe(3);
      // Warm sandboxes are capped at the engine's capacity too.
      expect(run.pool!.stats().warm).toBe(3);
      const outcome = await run.farm.run();
      expect(outcome.status).toBe("finished");
      const prometheus = await (await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`)).text();
      expect(prometheus).toMatch(/^sandfarm_admission_limit 3$/m);
      expect(prometheus).toMatch(/^sandfarm_admission_capped_by_fleet 1$/m);
    } finally {
      await run.close();
    }
    // Eight rollouts (groups of four), three sandboxes at a time at most: a fleet of one
    // engine of capacity 3.
    expect(most).toBe(3);
    expect(readRunLines(run.runDir, "trajectories.jsonl")).toHaveLength(8);
  }, 120_000);

  it("evaluates the validation set every N steps, per mode and domain", async () => {
    const train = writeRlTasks(dir, "val-train.jsonl", 4, { first: 1100 });
    const validation = writeRlTasks(dir, "val.jsonl", 2, {
      script: "rl-1",
      first: 1200,
      domains: ["chemistry"],
    });
    const first = stub.requests.length;
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        validation: [validation],
        runId: "val",
        overrides: {
          run: { steps: 2 },
          policy: {
            urls: [stub.baseURL],
            model: "stub-model",
            sampling: { temperature: 0.8, byMode: { sandbox: { top_p: 0.95 } } },
          },
          rollout: { groupSize: 2, groupsPerStep: 1 },
          validation: {
            everySteps: 1,
            modes: ["sandbox", "llm"],
            sampling: { temperature: 0, byMode: { llm: { seed: 7 } } },
          },
        },
      }),
    });
    await runToEnd(run);
    // Training rollouts send every distribution-shaping key; validation only what it sets.
    const rollouts = {
      temperature: 0.8,
      top_p: 0.95,
      top_k: -1,
      min_p: 0,
      repetition_penalty: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
    };
    const chats = stub.requests
      .slice(first)
      .filter((request) => request.path === "/v1/chat/completions")
      .map((request) => request.body as Record<string, unknown>);
    const asks = (body: Record<string, unknown>, answer: string) =>
      JSON.stringify(body.messages).includes(`[answer:${answer}]`);
    const training = chats.filter((body) =>
      ["1100", "1101", "1102", "1103"].some((a) => asks(body, a)),
    );
    const validating = chats.filter((body) => ["1200", "1201"].some((a) => asks(body, a)));
    expect(training.length).toBeGreaterThan(0);
    for (const body of training) expect(body).toMatchObject(rollouts);
    const shaping = ["top_p", "top_k", "min_p", "repetition_penalty"];
    for (const body of validating) {
      expect(body.temperature).toBe(0);
      for (const key of shaping) expect(body).not.toHaveProperty(key);
      expect(body.seed).toBe(body.tools === undefined ? 7 : undefined);
    }
    expect(new Set(validating.map((body) => body.tools === undefined))).toEqual(
      new Set([true, false]),
    );
    const provenance = JSON.parse(readFileSync(join(run.runDir, "provenance.json"), "utf8")) as {
      sampling: unknown;
    };
    expect(provenance.sampling).toEqual({
      rollouts,
      validation: { sandbox: { temperature: 0 }, llm: { temperature: 0, seed: 7 } },
    });
    // Every batch carries what its rollouts were sampled with, for the trainer's ratio.
    const batches = readdirSync(join(run.runDir, "batches")).filter((name) =>
      name.endsWith(".arrow"),
    );
    expect(batches.length).toBeGreaterThanOrEqual(1);
    for (const name of batches)
      expect(decodeBatch(readFileSync(join(run.runDir, "batches", name))).sampling).toEqual(
        rollouts,
      );
    const lines = readRunLines<{
      step: number;
      sandbox: {
        n: number;
        score: number;
        failed: number;
        domains: Record<string, { n: number; score: number }>;
      };
      llm: { n: number; score: number; failed: number };
    }>(run.runDir, "validation.jsonl");
    expect(lines.map((line) => line.step).sort()).toEqual([1, 2]);
    // Each validation task's k-th conversation per mode answers right when k is even: over the
    // two validations, each task is right exactly once (whichever validation reached it first).
    expect(lines.reduce((sum, line) => sum + line.sandbox.score, 0)).toBe(1);
    expect(lines.reduce((sum, line) => sum + line.llm.score, 0)).toBe(1);
    for (const line of lines) {
      expect(line.sandbox).toMatchObject({ n: 2, failed: 0 });
      expect(line.llm).toMatchObject({ n: 2, failed: 0 });
      expect(Object.keys(line.sandbox.domains)).toEqual(["chemistry"]);
    }
  }, 120_000);
});
