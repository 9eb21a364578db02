/**
 * `npm run bench -- farm [--quick]`: the whole `sandfarm train` loop under load. The stub policy
 * (a test double, in its own process) answers instantly with the `rl` scripts (half of each
 * group right, N-turn episodes); real sandboxes, one fresh container per rollout; the bridge
 * sink with a trainer client in this process that acks every batch and commits a policy update
 * as soon as the farm finishes a step (an instant "training step").
 *
 * Measured over a window once the farm is at its concurrency: rollouts/s and turns/s, the
 * episodes actually running (sampled), the event loop's lag p99, and the farm process's share
 * of the machine's busy CPU. After the window the farm drains and every admitted rollout is
 * accounted for: committed to a batch and received by the trainer, or journaled as dropped
 * (`lost_rollouts` counts the rest).
 *
 * Baseline in the same run: the synchronous on-policy loop (staleness 0: a step's groups start
 * only after the previous step's update), the usual default of the Python stacks, at the same
 * concurrency.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseFarmConfig } from "../orchestrator/config/train.js";
import { launchTraining } from "../orchestrator/farm/training-run.js";
import { readRunLines, readSpooledBatches, writeRlTasks } from "../testing/farm-runs.js";
import { BridgeClient } from "../trainer-bridge/client.js";
import { machineBusyMs } from "./cpu.js";
import { writeResults } from "./report.js";
import { startStubProcess } from "./stub-process.js";

interface FarmMeasure {
  rolloutsPerS: number;
  turnsPerS: number;
  runningMean: number;
  runningMin: number;
  lagP99Ms: number;
  farmCpuShare: number;
  farmCpuMsPerTurn: number;
  admitted: number;
  lost: number;
  steps: number;
}

// Its own session: the farm raises its session's priority, and the stub stands for a vLLM that
// runs elsewhere.
const startStub = () =>
  startStubProcess(["--scripts", "rl", "--default-script", "rl-1"], { detached: true });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(options: {
  dir: string;
  baseURL: string;
  concurrency: number;
  turns: number;
  staleness: number;
  windowS: number;
  warmUpS: number;
  warmSandboxes: number;
  label: string;
}): Promise<FarmMeasure> {
  const groupSize = 8;
  const train = writeRlTasks(options.dir, `rl-${options.turns}.jsonl`, 5000, {
    script: `rl-${options.turns}`,
    domains: ["math", "physics", "chemistry", "biomedicine"],
  });
  const config = parseFarmConfig({
    run: { id: options.label, dir: options.dir, steps: 10_000 },
    data: { train: [train] },
    policy: { urls: [options.baseURL], model: "stub-model" },
    sandbox: { network: "none", memoryMb: 256, pidsLimit: 128, ttlS: 1800 },
    episode: {
      maxTurns: options.turns + 4,
      maxTokensPerCall: 1024,
      maxTotalTokens: 64_000,
      timeoutS: 900,
    },
    rollout: {
      groupSize,
      groupsPerStep: options.concurrency / groupSize,
      staleness: options.staleness,
      episodes: options.concurrency,
      sandboxStarts: 8,
      warmSandboxes: options.warmSandboxes,
    },
    sink: { kind: "bridge", address: "127.0.0.1:0" },
  });
  const t0 = Date.now();
  const mark = (what: string) =>
    process.stderr.write(
      `${options.label}: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  const run = await launchTraining({ config });
  mark("launched");
  const client = new BridgeClient({ address: `127.0.0.1:${run.bridgePort}` });
  const acked = new Set<string>();
  let version = 0;
  let stopTrainer = false;
  const updater = (async () => {
    while (!stopTrainer) {
      if (run.farm.progress().step > version) {
        version++;
        await client.beginPolicyUpdate(version);
        await client.commitPolicyUpdate(version);
      }
      await sleep(20);
    }
  })();
  const stream = client.pull({ credits: 4, verify: false });
  const puller = (async () => {
    // A trainer in this process: decoding rows here would put the trainer's work on the farm's
    // event loop, so the batch is acked unread (the bridge benchmark measures delivery).
    for await (const batch of stream) {
      acked.add(batch.header.batchId);
      batch.ack();
    }
  })();
  const finished = run.farm.run();
  try {
    // Warm-up: until the farm runs its concurrency (container starts bound how fast).
    const warmUntil = Date.now() + options.warmUpS * 1000;
    const inSandboxes = () => run.pool!.stats().inUse;
    while (inSandboxes() < options.concurrency * 0.9 && Date.now() < warmUntil) await sleep(100);
    mark(`warm (${inSandboxes()} episodes in sandboxes)`);
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const before = run.farm.progress();
    const cpu = process.cpuUsage();
    const machineBefore = machineBusyMs();
    const started = performance.now();
    const running: number[] = [];
    lag.enable();
    while (performance.now() - started < options.windowS * 1000) {
      await sleep(250);
      running.push(inSandboxes());
    }
    lag.disable();
    const seconds = (performance.now() - started) / 1000;
    const after = run.farm.progress();
    const used = process.cpuUsage(cpu);
    const farmCpuMs = (used.user + used.system) / 1000;
    const machineMs = machineBusyMs() - machineBefore;
    mark("window done");
    run.farm.drain();
    const outcome = await finished;
    mark("drained");
    const drained = await Promise.race([
      run.bridge!.drained().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, 120_000, false).unref()),
    ]);
    if (!drained) process.stderr.write(`${options.label}: the trainer did not get every batch\n`);
    const admits = readRunLines<{ type: string }>(run.runDir, "journal.jsonl");
    const admitted = admits.filter((line) => line.type === "admit").length * groupSize;
    const dropped = admits.filter((line) => line.type === "group").length * groupSize;
    const batches = readSpooledBatches(run.runDir);
    const committed = batches.flatMap((batch) => batch.rolloutIds);
    const notReceived = batches
      .filter((batch) => !acked.has(batch.batchId))
      .reduce((sum, batch) => sum + batch.rolloutIds.length, 0);
    const turns = after.turns - before.turns;
    return {
      rolloutsPerS: Math.round(((after.rollouts - before.rollouts) / seconds) * 100) / 100,
      turnsPerS: Math.round((turns / seconds) * 10) / 10,
      runningMean: Math.round(running.reduce((sum, n) => sum + n, 0) / running.length),
      runningMin: Math.min(...running),
      lagP99Ms: Math.round((lag.percentile(99) / 1e6) * 10) / 10,
      farmCpuShare: Math.round((farmCpuMs / machineMs) * 1000) / 1000,
      farmCpuMsPerTurn: Math.round((farmCpuMs / Math.max(1, turns)) * 100) / 100,
      admitted,
      lost: admitted - committed.length - dropped + notReceived,
      steps: outcome.steps,
    };
  } finally {
    stopTrainer = true;
    stream.close();
    await Promise.allSettled([updater, puller]);
    client.close();
    await run.close();
    mark("closed");
  }
}

export async function runFarmBenchmark(quick: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sandfarm-bench-farm-"));
  const { baseURL, child } = await startStub();
  const common = { dir, baseURL };
  try {
    const turns64 = quick ? 10 : 20;
    const window64 = quick ? 8 : 60;
    const phase64 = { warmUpS: quick ? 6 : 120, warmSandboxes: quick ? 16 : 64 };
    const c64 = await measure({
      ...common,
      concurrency: 64,
      turns: turns64,
      staleness: 1,
      windowS: window64,
      ...phase64,
      label: "bench-c64",
    });
    const sync = await measure({
      ...common,
      concurrency: 64,
      turns: turns64,
      staleness: 0,
      windowS: window64,
      ...phase64,
      label: "bench-sync-c64",
    });
    const c256 = quick
      ? undefined
      : await measure({
          ...common,
          concurrency: 256,
          turns: 80,
          staleness: 1,
          windowS: 120,
          warmUpS: 180,
          warmSandboxes: 64,
          label: "bench-c256",
        });
    const lost = c64.lost + sync.lost + (c256?.lost ?? 0);
    const rows: [string, string][] = [
      [`c64 (${turns64}-turn episodes, G=8, S=1): rollouts/s`, String(c64.rolloutsPerS)],
      ["c64: turns/s", String(c64.turnsPerS)],
      ["c64: episodes running, mean (min)", `${c64.runningMean} (${c64.runningMin})`],
      ["c64: event-loop lag p99 ms", String(c64.lagP99Ms)],
      ["c64: farm CPU share of the machine's busy CPU", String(c64.farmCpuShare)],
      ["baseline, synchronous (S=0) c64: rollouts/s", String(sync.rolloutsPerS)],
      ["baseline: episodes running, mean (min)", `${sync.runningMean} (${sync.runningMin})`],
      [
        "c64 over the synchronous baseline",
        `${Math.round((c64.rolloutsPerS / sync.rolloutsPerS) * 100) / 100}x`,
      ],
    ];
    if (c256)
      rows.push(
        ["c256 (80-turn episodes): rollouts/s", String(c256.rolloutsPerS)],
        ["c256: turns/s", String(c256.turnsPerS)],
        ["c256: episodes running, mean (min)", `${c256.runningMean} (${c256.runningMin})`],
        ["c256: event-loop lag p99 ms", String(c256.lagP99Ms)],
        ["c256: farm CPU share", String(c256.farmCpuShare)],
        ["c256: farm CPU ms per turn", String(c256.farmCpuMsPerTurn)],
      );
    rows.push([
      "rollouts admitted (all phases)",
      String(c64.admitted + sync.admitted + (c256?.admitted ?? 0)),
    ]);
    rows.push(["lost rollouts", String(lost)]);
    const headline = c256 ?? c64;
    writeResults("farm", rows, {
      rollouts_per_s_c64: c64.rolloutsPerS,
      turns_per_s_c64: c64.turnsPerS,
      ...(c256
        ? {
            rollouts_per_s_c256: c256.rolloutsPerS,
            turns_per_s_c256: c256.turnsPerS,
            running_mean_c256: c256.runningMean,
            running_min_c256: c256.runningMin,
          }
        : {}),
      loop_lag_p99_ms: Math.max(c64.lagP99Ms, c256?.lagP99Ms ?? 0),
      lost_rollouts: lost,
      farm_cpu_share: headline.farmCpuShare,
      farm_cpu_ms_per_turn: headline.farmCpuMsPerTurn,
      baseline_sync_rollouts_per_s_c64: sync.rolloutsPerS,
      quick: quick ? 1 : 0,
    });
  } finally {
    child.kill("SIGTERM");
    // Detached: do not wait for it (or its stdout) to go.
    child.stdout?.destroy();
    child.unref();
    rmSync(dir, { recursive: true, force: true });
  }
}
