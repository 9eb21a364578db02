/**
 * `npm run bench -- fleet [--quick]`: the sandbox fleet's costs and its failure handling, on
 * three engine hosts made on this machine (testing/engine-hosts.ts: a dockerd with mutual TLS in
 * its own network namespace each), each number beside its baseline from the same run:
 * - a warm acquire through the fleet's placement vs through one engine's pool;
 * - a command through the runner over TCP + TLS vs over the same engine's unix socket;
 * - sandboxes started per second across three engines vs one (they share two cores here);
 * - how long an engine takes to be ejected after its link goes down (refused at once) and after
 *   its packets start vanishing (pings time out), and to be readmitted, with default settings;
 * - a train run over three engines with one engine's dockerd and containerd killed mid-step:
 *   rollouts lost and duplicated, groups run again;
 * - how long a sandbox writing past its disk limit takes to be stopped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { launchTraining } from "../orchestrator/farm/training-run.js";
import type { ManagedSandbox } from "../orchestrator/sandbox/backend.js";
import { parseSandboxConfig } from "../orchestrator/sandbox/config.js";
import { DockerBackend } from "../orchestrator/sandbox/docker-sandbox.js";
import type { EngineSpec } from "../orchestrator/sandbox/engines.js";
import { DiskLimitError } from "../orchestrator/sandbox/errors.js";
import type { FleetEvent, SandboxFleet } from "../orchestrator/sandbox/fleet.js";
import { fleetFromConfig } from "../orchestrator/sandbox/fleet-setup.js";
import { imageOn, pushImage } from "../orchestrator/sandbox/images.js";
import { SandboxPool } from "../orchestrator/sandbox/pool.js";
import { type EngineHost, startEngineHosts, sweepEngineHosts } from "../testing/engine-hosts.js";
import {
  farmTestConfig,
  readRunLines,
  readSpooledBatches,
  writeRlTasks,
} from "../testing/farm-runs.js";
import { MINI_IMAGE, ensureMiniImage } from "../testing/mini-image.js";
import { startVllmStub } from "../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../testing/vllm-stub/script-sets.js";
import { percentile, timeEach, writeResults } from "./report.js";

const SANDBOX = { image: MINI_IMAGE, memoryMb: 128, runId: "bench-fleet" } as const;

function fleetOver(
  specs: readonly EngineSpec[],
  warmSize: number,
  onEvent?: (event: FleetEvent) => void,
): SandboxFleet {
  return fleetFromConfig(parseSandboxConfig({ ...SANDBOX, engines: [...specs] }), {
    warmSize,
    maxConcurrentStarts: 4,
    reapOrphansOnStart: false,
    ...(onEvent ? { onEvent } : {}),
  });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no change within ${ms} ms`);
    await settle(5);
  }
}

/** Warm acquires (with the warm set full each time) through `acquire`, in ms. */
async function warmAcquires(
  source: { acquire(): Promise<ManagedSandbox>; release(s: ManagedSandbox): Promise<void> },
  warm: () => number,
  full: number,
  count: number,
): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    while (warm() < full) await settle(10);
    const started = performance.now();
    const sandbox = await source.acquire();
    samples.push(performance.now() - started);
    await source.release(sandbox);
  }
  return samples;
}

async function acquireOverhead(hosts: EngineHost[], count: number) {
  const pool = new SandboxPool(new DockerBackend(parseSandboxConfig(SANDBOX), hosts[0]!.docker), {
    warmSize: 3,
    reapOrphansOnStart: false,
  });
  await pool.start();
  const single = await warmAcquires(pool, () => pool.stats().warm, 3, count).finally(() =>
    pool.close(),
  );
  // Three warm sandboxes on each engine, as deep as the single pool's: both hand out a
  // sandbox that has waited warm, not one whose runner just started.
  const fleet = fleetOver(
    hosts.map((host) => host.spec),
    9,
  );
  await fleet.start();
  const placed = await warmAcquires(fleet, () => fleet.stats().warm, 9, count).finally(() =>
    fleet.close(),
  );
  return { single: percentile(single, 50), fleet: percentile(placed, 50) };
}

async function execOver(docker: Docker, count: number): Promise<number[]> {
  const sandbox = await new DockerBackend(parseSandboxConfig(SANDBOX), docker).create();
  try {
    await sandbox.warmUp();
    await timeEach(20, () => sandbox.exec("true"));
    return await timeEach(count, () => sandbox.exec("true"));
  } finally {
    await sandbox.close();
  }
}

/** Sandboxes started per second: `count` cold starts through a fleet with no warm pool. */
async function startRate(specs: readonly EngineSpec[], count: number): Promise<number> {
  const fleet = fleetOver(specs, 0);
  await fleet.start();
  const held: ManagedSandbox[] = [];
  try {
    const started = performance.now();
    await Promise.all(Array.from({ length: count }, async () => held.push(await fleet.acquire())));
    return count / ((performance.now() - started) / 1000);
  } finally {
    for (const sandbox of held) await fleet.release(sandbox);
    await fleet.close();
  }
}

/** Seconds from the fault to the ejection, then from the repair to the readmission. */
async function ejections(hosts: EngineHost[], rounds: number, silent: boolean) {
  const events: (FleetEvent & { at: number })[] = [];
  const fleet = fleetOver(
    hosts.map((host) => host.spec),
    3,
    (event) => events.push({ ...event, at: Date.now() }),
  );
  await fleet.start();
  const detect: number[] = [];
  const readmit: number[] = [];
  const victim = hosts[2]!;
  try {
    for (let round = 0; round < rounds; round++) {
      // Faults land at random points of the ping cycle.
      await settle(500 + Math.random() * 1000);
      const cut = Date.now();
      if (silent) victim.setBlackhole(true);
      else victim.setLink(false);
      const before = events.length;
      await until(() => events.length > before, 30_000);
      detect.push((events.at(-1)!.at - cut) / 1000);
      const repaired = Date.now();
      if (silent) victim.setBlackhole(false);
      else victim.setLink(true);
      await until(() => events.length > before + 1, 60_000);
      readmit.push((events.at(-1)!.at - repaired) / 1000);
    }
  } finally {
    victim.setLink(true);
    victim.setBlackhole(false);
    await fleet.close();
  }
  return { detect: percentile(detect, 50), readmit: percentile(readmit, 50), samples: detect };
}

async function killDuringTrain(hosts: EngineHost[]) {
  const stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-10" });
  const dir = mkdtempSync(join(tmpdir(), "sandfarm-bench-fleet-"));
  const steps = 4;
  const groups = 3;
  try {
    const train = writeRlTasks(dir, "fleet.jsonl", 16, { script: "rl-10" });
    const run = await launchTraining({
      config: farmTestConfig({
        dir,
        stubURL: stub.baseURL,
        train: [train],
        runId: "bench-fleet-kill",
        overrides: {
          run: { steps },
          sandbox: { ...SANDBOX, engines: hosts.map((host) => ({ ...host.spec, capacity: 8 })) },
          rollout: { groupSize: 4, groupsPerStep: groups, episodes: 12, warmSandboxes: 6 },
        },
      }),
    });
    let outcome: Awaited<ReturnType<typeof run.farm.run>>;
    try {
      const running = run.farm.run();
      await until(() => run.pool!.stats().engines[1]!.inUse >= 2, 60_000);
      await hosts[1]!.kill();
      outcome = await running;
    } finally {
      await run.close();
      await hosts[1]!.start();
    }
    const batched = readSpooledBatches(run.runDir).flatMap((batch) => batch.rolloutIds);
    const masked = readRunLines<{ verdict?: string }>(run.runDir, "journal.jsonl").filter(
      (line) => line.verdict === "masked_infrastructure",
    ).length;
    return {
      status: outcome.status,
      lost: steps * groups * 4 - new Set(batched).size,
      duplicated: batched.length - new Set(batched).size,
      retries: outcome.engineRetries ?? 0,
      masked,
    };
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function diskLimitDetect(rounds: number): Promise<number[]> {
  const backend = new DockerBackend(
    parseSandboxConfig({ runId: "bench-fleet", memoryMb: 256, diskLimitMb: 64 }),
  );
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const sandbox = await backend.create();
    try {
      const started = performance.now();
      const error = await sandbox
        .exec("dd if=/dev/zero of=/testbed/fill bs=1M count=96 2>/dev/null; sleep 60", {
          timeoutS: 90,
        })
        .catch((caught: unknown) => caught);
      if (!(error instanceof DiskLimitError)) throw new Error("the disk limit did not stop dd");
      samples.push((performance.now() - started) / 1000);
    } finally {
      await sandbox.close();
    }
  }
  return samples;
}

export async function runFleetBenchmark(quick: boolean): Promise<void> {
  ensureMiniImage();
  const hosts = await startEngineHosts(3);
  try {
    for (const host of hosts)
      if (!(await imageOn(host.docker, MINI_IMAGE)))
        await pushImage(new Docker(), { name: host.name, docker: host.docker }, MINI_IMAGE);
    const overhead = await acquireOverhead(hosts, quick ? 20 : 100);
    const tls = await execOver(hosts[0]!.docker, quick ? 100 : 500);
    const unix = await execOver(
      new Docker({ socketPath: join(hosts[0]!.dir, "docker.sock") }),
      quick ? 100 : 500,
    );
    const startsOne = await startRate([hosts[0]!.spec], quick ? 12 : 30);
    const startsThree = await startRate(
      hosts.map((host) => host.spec),
      quick ? 12 : 30,
    );
    const refused = await ejections(hosts, quick ? 3 : 7, false);
    const silent = await ejections(hosts, quick ? 3 : 7, true);
    const kill = await killDuringTrain(hosts);
    const disk = await diskLimitDetect(quick ? 3 : 5);
    const results = {
      quick,
      acquire_p50_ms_single_engine: Math.round(overhead.single * 100) / 100,
      acquire_p50_ms_fleet: Math.round(overhead.fleet * 100) / 100,
      acquire_overhead_p50_ms: Math.round((overhead.fleet - overhead.single) * 100) / 100,
      runner_exec_p50_ms_tls: percentile(tls, 50),
      runner_exec_p50_ms_unix: percentile(unix, 50),
      starts_per_s_one_engine: Math.round(startsOne * 10) / 10,
      starts_per_s_three_engines: Math.round(startsThree * 10) / 10,
      ejection_detect_p50_s: refused.detect,
      ejection_detect_silent_p50_s: silent.detect,
      readmit_s: refused.readmit,
      readmit_silent_s: silent.readmit,
      train_status: kill.status,
      lost_rollouts: kill.lost,
      duplicated_rollouts: kill.duplicated,
      infra_retries: kill.retries,
      disk_limit_detect_s: percentile(disk, 50),
    };
    const ratio = (a: number, b: number) => `${Math.round((a / b) * 100) / 100}x`;
    writeResults(
      "fleet",
      [
        ["warm acquire p50, one engine's pool (ms)", `${results.acquire_p50_ms_single_engine}`],
        ["warm acquire p50, fleet of three (ms)", `${results.acquire_p50_ms_fleet}`],
        ["  placement overhead (ms, target <= 1)", `${results.acquire_overhead_p50_ms}`],
        ["runner command p50 over unix socket (ms)", `${results.runner_exec_p50_ms_unix}`],
        ["runner command p50 over TCP + TLS (ms)", `${results.runner_exec_p50_ms_tls}`],
        [
          "  TLS / unix (target <= 1.5x)",
          ratio(results.runner_exec_p50_ms_tls, results.runner_exec_p50_ms_unix),
        ],
        ["sandbox starts/s, one engine", `${results.starts_per_s_one_engine}`],
        ["sandbox starts/s, three engines (same 2 cores)", `${results.starts_per_s_three_engines}`],
        [
          "  three / one",
          ratio(results.starts_per_s_three_engines, results.starts_per_s_one_engine),
        ],
        ["ejection after link down, p50 (s, target <= 5)", `${results.ejection_detect_p50_s}`],
        ["ejection after packets vanish, p50 (s)", `${results.ejection_detect_silent_p50_s}`],
        ["readmission after repair, p50 (s)", `${results.readmit_s} / ${results.readmit_silent_s}`],
        ["train with an engine killed: status", results.train_status],
        [
          "  lost / duplicated rollouts",
          `${results.lost_rollouts} / ${results.duplicated_rollouts}`,
        ],
        ["  groups run again (engine lost)", `${results.infra_retries}`],
        ["disk limit stop, p50 (s, target <= 5)", `${results.disk_limit_detect_s}`],
      ],
      results,
    );
  } finally {
    sweepEngineHosts();
  }
}
