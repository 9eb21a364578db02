/**
 * `npm run bench -- sandbox [--quick]`: the sandbox layer's costs, each against its baseline in
 * the same run: a command through the runner vs one `docker exec` per command; a warm-pool
 * acquire vs a cold create+start; sustained acquire+release cycles; N sandboxes held at once
 * running `echo` in a loop; idle memory per sandbox measured on the host.
 */
import { readFileSync } from "node:fs";
import type { ManagedSandbox } from "../orchestrator/sandbox/backend.js";
import type { DockerSandbox } from "../orchestrator/sandbox/docker-sandbox.js";
import { SandboxPool } from "../orchestrator/sandbox/pool.js";
import { testBackend } from "../testing/sandboxes.js";
import { percentile, timeEach, writeResults } from "./report.js";

function availableMemoryMb(): number {
  const line = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"));
  return Number(line?.[1] ?? 0) / 1024;
}

async function settle(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function measureExec(execMode: "runner" | "exec", count: number): Promise<number[]> {
  const sandbox = await testBackend({ execMode, runId: "bench" }).create();
  try {
    await sandbox.warmUp();
    await timeEach(10, () => sandbox.exec("true"));
    return await timeEach(count, () => sandbox.exec("true"));
  } finally {
    await sandbox.close();
  }
}

async function measureWarmAcquire(count: number): Promise<number[]> {
  const pool = new SandboxPool(testBackend({ runId: "bench" }), {
    warmSize: 2,
    reapOrphansOnStart: false,
  });
  await pool.start();
  const samples: number[] = [];
  try {
    for (let index = 0; index < count; index++) {
      while (pool.stats().warm < 2) await settle(10);
      const started = performance.now();
      const sandbox = await pool.acquire();
      samples.push(performance.now() - started);
      await pool.release(sandbox);
    }
  } finally {
    await pool.close();
  }
  return samples;
}

async function measureColdStart(count: number): Promise<number[]> {
  const backend = testBackend({ runId: "bench" });
  const created: DockerSandbox[] = [];
  const samples = await timeEach(count, async () => created.push(await backend.create()));
  await Promise.all(created.map((sandbox) => sandbox.close()));
  return samples;
}

async function measureCycles(seconds: number): Promise<number> {
  const pool = new SandboxPool(testBackend({ runId: "bench", memoryMb: 128 }), {
    warmSize: 8,
    maxConcurrentStarts: 4,
    reapOrphansOnStart: false,
  });
  await pool.start();
  let cycles = 0;
  const deadline = performance.now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() < deadline) {
          const sandbox = await pool.acquire();
          await sandbox.exec("true");
          await pool.release(sandbox);
          cycles++;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return cycles / seconds;
}

interface ConcurrentResult {
  held: number;
  failures: number;
  commands: number;
  idleMbPerSandbox: number;
}

async function measureConcurrent(count: number, seconds: number): Promise<ConcurrentResult> {
  const backend = testBackend({ runId: "bench", memoryMb: 64, pidsLimit: 64, cpus: 0.5 });
  const pool = new SandboxPool(backend, {
    warmSize: 0,
    maxConcurrentStarts: 4,
    reapOrphansOnStart: false,
  });
  await settle(2000);
  const before = availableMemoryMb();
  let failures = 0;
  let commands = 0;
  try {
    const sandboxes: ManagedSandbox[] = [];
    await Promise.all(
      Array.from({ length: count }, async () => {
        try {
          const sandbox = await pool.acquire();
          await sandbox.warmUp();
          sandboxes.push(sandbox);
        } catch {
          failures++;
        }
      }),
    );
    await settle(5000);
    const idleMbPerSandbox = (before - availableMemoryMb()) / Math.max(1, sandboxes.length);
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      sandboxes.map(async (sandbox, index) => {
        while (performance.now() < deadline) {
          try {
            const result = await sandbox.exec(`echo ${index}`, { timeoutS: 60 });
            if (result.stdout !== `${index}\n`) failures++;
            commands++;
          } catch {
            failures++;
            return;
          }
        }
      }),
    );
    return { held: sandboxes.length, failures, commands, idleMbPerSandbox };
  } finally {
    await pool.close();
  }
}

export async function runSandboxBenchmark(quick: boolean): Promise<void> {
  const execCount = quick ? 100 : 500;
  const runner = await measureExec("runner", execCount);
  const perCall = await measureExec("exec", quick ? 50 : 200);
  const warm = await measureWarmAcquire(quick ? 10 : 40);
  const cold = await measureColdStart(quick ? 5 : 20);
  const cyclesPerS = await measureCycles(quick ? 8 : 30);
  const concurrent = await measureConcurrent(quick ? 32 : 512, quick ? 8 : 30);
  const image = await testBackend().docker.getImage(testBackend().config.image).inspect();

  const results = {
    runner_exec_p50_ms: percentile(runner, 50),
    runner_exec_p99_ms: percentile(runner, 99),
    docker_exec_p50_ms: percentile(perCall, 50),
    docker_exec_p99_ms: percentile(perCall, 99),
    warm_acquire_p50_ms: percentile(warm, 50),
    cold_start_p50_ms: percentile(cold, 50),
    cycles_per_s: Math.round(cyclesPerS * 100) / 100,
    concurrent_sandboxes: concurrent.held,
    concurrent_failures: concurrent.failures,
    idle_memory_mb_per_sandbox: Math.round(concurrent.idleMbPerSandbox * 100) / 100,
    image_size_mb: Math.round(image.Size / 1e6),
  };
  const ratio = (a: number, b: number): string => `${Math.round((a / b) * 10) / 10}x`;
  writeResults(
    "sandbox",
    [
      [
        "command via runner p50 / p99 (ms)",
        `${results.runner_exec_p50_ms} / ${results.runner_exec_p99_ms}`,
      ],
      [
        "command via docker exec p50 / p99 (ms)",
        `${results.docker_exec_p50_ms} / ${results.docker_exec_p99_ms}`,
      ],
      ["  runner speed-up (p50)", ratio(results.docker_exec_p50_ms, results.runner_exec_p50_ms)],
      ["warm acquire p50 (ms)", `${results.warm_acquire_p50_ms}`],
      ["cold create+start p50 (ms)", `${results.cold_start_p50_ms}`],
      ["  warm speed-up (p50)", ratio(results.cold_start_p50_ms, results.warm_acquire_p50_ms)],
      ["acquire+release cycles/s (4 workers)", `${results.cycles_per_s}`],
      ["sandboxes held at once", `${results.concurrent_sandboxes}`],
      ["  echo commands in the loop", `${concurrent.commands}`],
      ["  failures", `${results.concurrent_failures}`],
      ["idle memory per sandbox (MB)", `${results.idle_memory_mb_per_sandbox}`],
      ["image size (MB)", `${results.image_size_mb}`],
    ],
    results,
  );
}
