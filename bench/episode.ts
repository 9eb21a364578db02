/**
 * `npm run bench -- episode [--quick]`: the farm's turn rate. The stub policy (a test double,
 * in its own process so its CPU is not counted as the farm's) answers instantly with trivial
 * commands; real sandboxes, started before each measurement, run them. Episodes of 50 turns (20
 * in quick mode) at concurrency 1, 16 and 64: turns per second, the farm's CPU milliseconds per
 * turn, and the event loop's lag p99. The baseline in the same run is the reference's mechanics:
 * one `docker exec` per command.
 *
 * Where the machine's CPU goes at concurrency 64 is measured too, because on 2 cores the turn
 * rate is a CPU budget: the machine's busy CPU per turn (from /proc/stat), the stub's own share
 * (from /proc/PID/stat), and the ceiling of the sandboxes alone (the same commands on the same
 * number of sandboxes with no model calls at all).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Task } from "../datasets/task.js";
import { runEpisode } from "../orchestrator/agent/episode.js";
import { PolicyClient } from "../orchestrator/policy/client.js";
import type { ManagedSandbox } from "../orchestrator/sandbox/backend.js";
import type { DockerBackend } from "../orchestrator/sandbox/docker-sandbox.js";
import { testBackend } from "../testing/sandboxes.js";
import { machineBusyMs, processCpuMs } from "./cpu.js";
import { writeResults } from "./report.js";
import { startStubProcess } from "./stub-process.js";

const startStub = () => startStubProcess(["--scripts", "bench"]);

function benchTask(turns: number): Task {
  return {
    id: `bench-${turns}`,
    domain: "general",
    question: `[script:bench-${turns}] Run the commands.`,
    documents: {},
    groundTruth: "done",
    answerType: "open_ended",
    instructions: [],
    scorerOptions: {},
    metadata: {},
  };
}

interface Measure {
  turnsPerS: number;
  cpuMsPerTurn: number;
  lagP99Ms: number;
  failures: number;
  /** Busy CPU of the whole machine (every process and the kernel) per turn. */
  machineCpuMsPerTurn: number;
  /** The stub policy process's CPU per turn. */
  stubCpuMsPerTurn: number;
}

let rollout = 0;

/**
 * Sandboxes for one measurement, started before the clock runs and removed after it stops, so
 * the turn rate is not mixed with container churn (measured by the sandbox benchmark).
 */
async function startedSandboxes(backend: DockerBackend, count: number): Promise<ManagedSandbox[]> {
  const sandboxes: ManagedSandbox[] = [];
  for (let start = 0; start < count; start += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, count - start) }, async () => {
        const sandbox = await backend.create();
        await sandbox.warmUp();
        return sandbox;
      }),
    );
    sandboxes.push(...batch);
  }
  return sandboxes;
}

async function measure(
  backend: DockerBackend,
  policy: PolicyClient,
  stubPid: number,
  concurrency: number,
  turns: number,
): Promise<Measure> {
  const ready = await startedSandboxes(backend, concurrency);
  const source = {
    acquire: () => Promise.resolve(ready.pop()!),
    release: () => Promise.resolve(),
  };
  const used = [...ready];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const cpu = process.cpuUsage();
  const [machineBefore, stubBefore] = [machineBusyMs(), processCpuMs(stubPid)];
  const started = performance.now();
  lag.enable();
  const episodes = await Promise.all(
    Array.from({ length: concurrency }, () =>
      runEpisode(
        benchTask(turns),
        "sandbox",
        { policy, sandboxes: source },
        { rolloutId: `bench-${rollout++}`, groupId: "bench" },
        { maxTurns: turns + 5, maxTokensPerCall: 1024, maxTotalTokens: 60_000 },
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  lag.disable();
  const cpuUsed = process.cpuUsage(cpu);
  const [machineUsed, stubUsed] = [
    machineBusyMs() - machineBefore,
    processCpuMs(stubPid) - stubBefore,
  ];
  await Promise.all(used.map((sandbox) => sandbox.close()));
  const done = episodes.reduce((sum, episode) => sum + episode.turns.length, 0);
  return {
    turnsPerS: round1(done / seconds),
    cpuMsPerTurn: round2((cpuUsed.user + cpuUsed.system) / 1000 / done),
    lagP99Ms: round2(lag.percentile(99) / 1e6),
    failures: episodes.filter((episode) => episode.stopReason !== "submitted").length,
    machineCpuMsPerTurn: round2(machineUsed / done),
    stubCpuMsPerTurn: round2(stubUsed / done),
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * The sandboxes' ceiling: each of `concurrency` sandboxes runs the bench script's commands back
 * to back through its runner, with no model call between them. Returns commands per second and
 * the machine's busy CPU per command.
 */
async function commandsOnly(
  backend: DockerBackend,
  concurrency: number,
  commands: number,
): Promise<{ perS: number; machineCpuMs: number }> {
  const sandboxes = await startedSandboxes(backend, concurrency);
  const machineBefore = machineBusyMs();
  const started = performance.now();
  await Promise.all(
    sandboxes.map(async (sandbox) => {
      for (let turn = 0; turn < commands; turn++) await sandbox.exec(`true # ${turn}`);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const machineUsed = machineBusyMs() - machineBefore;
  await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
  const done = concurrency * commands;
  return { perS: round1(done / seconds), machineCpuMs: round2(machineUsed / done) };
}

export async function runEpisodeBenchmark(quick: boolean): Promise<void> {
  const turns = quick ? 20 : 50;
  const { baseURL, child } = await startStub();
  const policy = new PolicyClient({ urls: [baseURL], model: "stub-model" });
  const runner = testBackend({ runId: "bench", memoryMb: 256 });
  const exec = testBackend({ runId: "bench", memoryMb: 256, execMode: "exec" });
  try {
    const pid = child.pid!;
    const c1 = await measure(runner, policy, pid, 1, turns);
    const c16 = await measure(runner, policy, pid, 16, turns);
    const c64 = await measure(runner, policy, pid, 64, turns);
    const sandboxesAlone = await commandsOnly(runner, 64, turns);
    // The reference's mechanics: a docker exec per command, 16 at once (shorter: it is slow).
    const baseline = await measure(exec, policy, pid, 16, 10);
    const failures = c1.failures + c16.failures + c64.failures + baseline.failures;
    writeResults(
      "episode",
      [
        [`turns/s, concurrency 1 (${turns}-turn episodes)`, String(c1.turnsPerS)],
        ["turns/s, concurrency 16", String(c16.turnsPerS)],
        ["turns/s, concurrency 64", String(c64.turnsPerS)],
        ["farm CPU ms per turn (c64)", String(c64.cpuMsPerTurn)],
        ["event-loop lag p99 ms (c64)", String(c64.lagP99Ms)],
        ["machine busy CPU ms per turn (c64, every process)", String(c64.machineCpuMsPerTurn)],
        ["  of which the stub policy process", String(c64.stubCpuMsPerTurn)],
        ["sandboxes alone: commands/s, 64 sandboxes, no model", String(sandboxesAlone.perS)],
        ["sandboxes alone: machine CPU ms per command", String(sandboxesAlone.machineCpuMs)],
        ["baseline: docker exec per command, c16, turns/s", String(baseline.turnsPerS)],
        ["c64 over the baseline", `${Math.round((c64.turnsPerS / baseline.turnsPerS) * 10) / 10}x`],
        ["episodes not submitted", String(failures)],
      ],
      {
        turns_per_s_c1: c1.turnsPerS,
        turns_per_s_c16: c16.turnsPerS,
        turns_per_s_c64: c64.turnsPerS,
        cpu_ms_per_turn: c64.cpuMsPerTurn,
        loop_lag_p99_ms: c64.lagP99Ms,
        baseline_exec_turns_per_s_c16: baseline.turnsPerS,
        turns_per_episode: turns,
        failed_episodes: failures,
        machine_cpu_ms_per_turn_c64: c64.machineCpuMsPerTurn,
        stub_cpu_ms_per_turn_c64: c64.stubCpuMsPerTurn,
        sandboxes_only_commands_per_s_c64: sandboxesAlone.perS,
        sandboxes_only_machine_cpu_ms_per_command: sandboxesAlone.machineCpuMs,
      },
    );
  } finally {
    policy.close();
    child.kill("SIGTERM");
  }
}
