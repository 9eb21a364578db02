import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CLI_ENTRY, sandfarm } from "../../testing/cli.js";
import {
  containersOfRun,
  readRunLines,
  readSpooledBatches,
  writeRlTasks,
} from "../../testing/farm-runs.js";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../../testing/vllm-stub/script-sets.js";

let dir: string;
let stub: RunningVllmStub;

/** A line of RUN_DIR/sandfarm.log. */
interface LoggedEvent {
  name: string;
  event: string;
  msg: string;
  [field: string]: unknown;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-train-cli-"));
  stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-1" });
});

afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, runId: string, train: string, steps: number): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    stringify({
      run: { id: runId, dir, steps, seed: 3 },
      data: { train: [train] },
      policy: { urls: [stub.baseURL], model: "stub-model" },
      sandbox: { network: "none", memoryMb: 512, pidsLimit: 256, ttlS: 900 },
      episode: { maxTurns: 12, maxTokensPerCall: 2048, maxTotalTokens: 16384, timeoutS: 120 },
      rollout: { groupSize: 4, groupsPerStep: 2, episodes: 8, warmSandboxes: 2 },
    }),
  );
  return path;
}

function startTrain(...args: string[]): {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", CLI_ENTRY, "train", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

/** Resolves once the run's spool has committed at least `count` batches. */
async function committedBatches(runDir: string, count: number): Promise<void> {
  const journal = join(runDir, "batches", "journal.jsonl");
  for (;;) {
    if (
      existsSync(journal) &&
      readFileSync(journal, "utf8")
        .split("\n")
        .filter((line) => line.includes('"commit"')).length >= count
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every committed rollout id, in commit order (duplicates kept, so a test can find them). */
function committedRollouts(runDir: string): string[] {
  return readSpooledBatches(runDir).flatMap((batch) => batch.rolloutIds);
}

function expectCompleteRun(runDir: string, runId: string, slots: number, steps: number): void {
  const batches = readSpooledBatches(runDir);
  expect(batches.map((batch) => batch.sequence)).toEqual(batches.map((_, index) => index));
  const rollouts = committedRollouts(runDir);
  const expected = Array.from({ length: slots }, (_, slot) =>
    [0, 1, 2, 3].map((m) => `${runId}-s${slot}-${m}`),
  ).flat();
  expect([...rollouts].sort()).toEqual([...expected].sort());
  expect(readRunLines<{ step: number }>(runDir, "metrics.jsonl").map((line) => line.step)).toEqual(
    Array.from({ length: steps }, (_, step) => step),
  );
  const trajectories = readRunLines<{ episode: { rolloutId: string } }>(
    runDir,
    "trajectories.jsonl",
  );
  expect(trajectories.map((record) => record.episode.rolloutId).sort()).toEqual(
    [...expected].sort(),
  );
}

describe("sandfarm train (CLI)", () => {
  it("resumes after kill -9 without losing or duplicating a rollout, and leaves no container", async () => {
    const train = writeRlTasks(dir, "kill.jsonl", 12, { first: 2000 });
    const config = writeConfig("kill.yaml", "killed", train, 4);
    const runDir = join(dir, "killed");
    const first = startTrain(config);
    await committedBatches(runDir, 1);
    first.child.kill("SIGKILL");
    await first.exit;
    const before = committedRollouts(runDir).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(32);
    // The kill may land between a step's metrics line and its journal line; make sure it did,
    // and a torn line after it: the resumed run writes that step's line again, once.
    const stepsJournaled = readFileSync(join(runDir, "journal.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith('{"type":"step"')).length;
    appendFileSync(join(runDir, "metrics.jsonl"), `{"step":${stepsJournaled}}\n{"step":`);

    const resumed = await sandfarm("train", "--resume", runDir);
    expect(resumed.stderr).toContain(`resuming killed in ${runDir}`);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout.trim())).toMatchObject({ status: "finished", steps: 4 });
    expectCompleteRun(runDir, "killed", 8, 4);
    const provenance = JSON.parse(readFileSync(join(runDir, "provenance.json"), "utf8")) as {
      sessions: { resumed: boolean }[];
    };
    expect(provenance.sessions.map((session) => session.resumed)).toEqual([false, true]);
    // Both sessions log to the same file, line by line, so the killed one's lines are there.
    const logged = readRunLines<LoggedEvent>(runDir, "sandfarm.log");
    expect(logged.every((line) => line.name === "sandfarm train" && line.msg)).toBe(true);
    expect(logged.filter((line) => line.event === "start").map((line) => line.resumed)).toEqual([
      false,
      true,
    ]);
    const resumedAt = logged.findIndex((line) => line.event === "start" && line.resumed);
    const step = logged.slice(resumedAt).find((line) => line.event === "step")!;
    expect(resumed.stderr).toContain(`sandfarm train: ${step.msg}\n`);
    expect([typeof step.step, typeof step.reward_mean]).toEqual(["number", "number"]);
    expect(logged.at(-1)).toMatchObject({ event: "finish", status: "finished", steps: 4, runDir });
    expect(await containersOfRun("killed")).toEqual([]);
  }, 240_000);

  it("drains on SIGINT, exits 130 with nothing left running, and resumes to the same totals", async () => {
    const train = writeRlTasks(dir, "sigint.jsonl", 8, { first: 3000 });
    const config = writeConfig("sigint.yaml", "interrupted", train, 3);
    const runDir = join(dir, "interrupted");
    const first = startTrain(config);
    await committedBatches(runDir, 1);
    first.child.kill("SIGINT");
    expect(await first.exit).toBe(130);
    expect(first.stderr()).toMatch(/draining: no new groups/);
    expect(
      readRunLines<LoggedEvent>(runDir, "sandfarm.log")
        .filter((line) => line.event === "stopping" || line.event === "finish")
        .map((line) => [line.event, line.how ?? line.status]),
    ).toEqual([
      ["stopping", "drain"],
      ["finish", "drained"],
    ]);
    expect(await containersOfRun("interrupted")).toEqual([]);
    // Drained: every admitted group finished and was committed or journaled.
    const admitted = readRunLines<{ type: string; groupId: string }>(runDir, "journal.jsonl")
      .filter((line) => line.type === "admit")
      .map((line) => line.groupId);
    const committed = new Set(committedRollouts(runDir).map((id) => id.replace(/-\d+$/, "")));
    expect(admitted.filter((groupId) => !committed.has(groupId))).toEqual([]);

    const resumed = await sandfarm("train", "--resume", runDir);
    expect(resumed.code).toBe(0);
    expectCompleteRun(runDir, "interrupted", 6, 3);
  }, 240_000);

  it("names the key, the value and the fix for a bad config", async () => {
    const train = writeRlTasks(dir, "bad.jsonl", 2);
    const path = join(dir, "bad.yaml");
    writeFileSync(
      path,
      stringify({
        data: { train: [train] },
        policy: { urls: [stub.baseURL], model: "stub-model" },
        rollout: { groupSzie: 4, staleness: -1 },
      }),
    );
    const result = await sandfarm("train", path);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("rollout.groupSzie: unknown key; did you mean 'groupSize'?");
    expect(result.stderr).toMatch(/rollout\.staleness: .*>=0.* \(got -1\)/);
  });

  it("refuses a missing data file, a missing run directory and an unusable endpoint, each with its fix", async () => {
    const missing = writeConfig("missing.yaml", "missing", join(dir, "nope.jsonl"), 1);
    const noData = await sandfarm("train", missing);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toContain(`data.train[0]: no such file ${join(dir, "nope.jsonl")}`);

    const noRun = await sandfarm("train", "--resume", join(dir, "never-ran"));
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain("no config.json there");

    const train = writeRlTasks(dir, "doctor.jsonl", 2);
    const path = join(dir, "doctor.yaml");
    writeFileSync(
      path,
      stringify({
        run: { id: "doctor", dir },
        data: { train: [train] },
        policy: { urls: ["http://127.0.0.1:9/v1"], model: "stub-model" },
      }),
    );
    const unreachable = await sandfarm("train", path);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain("the policy endpoint failed its preflight");
    expect(unreachable.stderr).toContain("http://127.0.0.1:9/v1 reachable:");
    expect(unreachable.stderr).toContain("fix:");
    // A run that failed its checks leaves no directory behind.
    expect(existsSync(join(dir, "doctor"))).toBe(false);
  });
});
