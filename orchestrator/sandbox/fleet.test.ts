/**
 * A fleet of real engines: three dockerd hosts in their own network namespaces, each speaking
 * mutual TLS on its veth address (testing/engine-hosts.ts), running a few-MB image made from this
 * machine's binaries (testing/mini-image.ts) that the tests push with `sandfarm image push`.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandfarmWithEnv } from "../../testing/cli.js";
import {
  farmTestConfig,
  readRunLines,
  readSpooledBatches,
  writeRlTasks,
} from "../../testing/farm-runs.js";
import { startVllmStub } from "../../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../../testing/vllm-stub/script-sets.js";
import { parseEvalConfig } from "../config/eval.js";
import { runEvaluation } from "../eval/run-eval.js";
import { launchTraining } from "../farm/training-run.js";
import {
  ENGINE_HOSTS_CERTS,
  ENGINE_HOSTS_DIR,
  bareHost,
  type EngineHost,
  containersOn,
  startEngineHosts,
  sweepEngineHosts,
} from "../../testing/engine-hosts.js";
import { MINI_IMAGE, ensureMiniImage } from "../../testing/mini-image.js";
import type { ManagedSandbox } from "./backend.js";
import { parseSandboxConfig } from "./config.js";
import { type EngineSpec, parseEngines } from "./engines.js";
import type { FleetEvent, SandboxFleet } from "./fleet.js";
import { imageOn, pushImage } from "./images.js";
import { fleetFromConfig, proportionalSplit } from "./fleet-setup.js";

let hosts: EngineHost[];
const certs = ENGINE_HOSTS_CERTS;
/** The CLI as a user with the fleet's client certificate in DOCKER_CERT_PATH runs it. */
const cli = (...args: string[]) =>
  sandfarmWithEnv({ ...process.env, DOCKER_CERT_PATH: certs }, ...args);
const engineFlags = () => hosts.flatMap((host) => ["--engine", `${host.name}=${host.spec.host}`]);

/** Health checks fast enough for a test: two missed pings of 500 ms eject an engine. */
const QUICK_HEALTH = { intervalMs: 500, timeoutMs: 500, failures: 2, maxProbeIntervalMs: 1000 };

function fleetOf(
  engines: readonly EngineSpec[],
  warmSize = 0,
  onEvent?: (event: FleetEvent) => void,
): SandboxFleet {
  return fleetFromConfig(
    parseSandboxConfig({
      image: MINI_IMAGE,
      memoryMb: 128,
      runId: "fleet-test",
      engines: [...engines],
      health: QUICK_HEALTH,
    }),
    { warmSize, maxConcurrentStarts: 4, ...(onEvent ? { onEvent } : {}) },
  );
}

/** The image on every host (the image test pushes it through the CLI; others need it too). */
async function imageEverywhere(): Promise<void> {
  for (const host of hosts)
    if (!(await imageOn(host.docker, MINI_IMAGE)))
      await pushImage(new Docker(), { name: host.name, docker: host.docker }, MINI_IMAGE);
}

/** Resolves once `condition` holds; fails the test after `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

beforeAll(async () => {
  ensureMiniImage();
  hosts = await startEngineHosts(3);
}, 120_000);

afterAll(() => sweepEngineHosts());

describe("proportionalSplit", () => {
  it("splits in proportion to capacity and adds up exactly", () => {
    expect(proportionalSplit(6, [64, 64, 64])).toEqual([2, 2, 2]);
    expect(proportionalSplit(7, [1, 2, 4])).toEqual([1, 2, 4]);
    expect(proportionalSplit(5, [1, 1, 1])).toEqual([2, 2, 1]);
    expect(proportionalSplit(10, [3, 1])).toEqual([8, 2]);
    expect(proportionalSplit(0, [3, 1])).toEqual([0, 0]);
  });
});

describe("a fleet of three TLS engines in network namespaces", () => {
  it("refuses engines without the image, naming the push; after `sandfarm image push` it runs", async () => {
    const refused = fleetOf(hosts.map((host) => host.spec));
    await expect(refused.start()).rejects.toThrow(
      /engine 'host0' \(tcp:\/\/10\.213\.0\.2:2376\) lacks the image sandfarm\/fleet-test:[0-9a-f]{12}: run 'sandfarm image push --engine host0'/,
    );
    await refused.close();

    const before = await cli("image", "status", "--image", MINI_IMAGE, ...engineFlags());
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/^host2 +tcp:\/\/10\.213\.2\.2:2376 +missing$/m);

    const pushed = await cli("image", "push", "--image", MINI_IMAGE, ...engineFlags());
    expect(pushed.code).toBe(0);
    // Not a terminal: progress in steps of 10%, each engine to 100%.
    for (const host of hosts) expect(pushed.stderr).toContain(`${host.name}: 100%\n`);
    const local = execFileSync("docker", ["image", "inspect", "-f", "{{.Id}}", MINI_IMAGE], {
      encoding: "utf8",
    }).trim();
    for (const host of hosts) {
      expect(pushed.stdout).toContain(`${host.name}: pushed ${MINI_IMAGE} (${local.slice(7, 19)}`);
      expect((await host.docker.getImage(MINI_IMAGE).inspect()).Id).toBe(local);
    }
    const again = await cli("image", "push", "--image", MINI_IMAGE, ...engineFlags());
    expect(again.stdout).toContain(
      `host1: has ${MINI_IMAGE} (${local.slice(7, 19)}); nothing to push`,
    );
    const after = await cli("image", "status", "--image", MINI_IMAGE, "--json", ...engineFlags());
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({
      local,
      engines: hosts.map((host) => ({ name: host.name, id: local })),
    });
  }, 120_000);

  it("places sandboxes on the least loaded engine, in proportion to capacity, each on its own host", async () => {
    await imageEverywhere();
    const fleet = fleetOf(
      hosts.map((host, index) => ({ ...host.spec, capacity: [2, 4, 8][index]! })),
      7,
    );
    await fleet.start();
    const sandboxes: ManagedSandbox[] = [];
    try {
      // Warm pools in proportion to capacity: 1, 2 and 4 of 7.
      expect(fleet.stats().engines.map((engine) => engine.warm)).toEqual([1, 2, 4]);
      for (let index = 0; index < 14; index++) sandboxes.push(await fleet.acquire());
      const placed = (name: string) =>
        sandboxes.filter((sandbox) => fleet.engineOf(sandbox) === name).length;
      expect(hosts.map((host) => placed(host.name))).toEqual([2, 4, 8]);
      expect(fleet.stats()).toMatchObject({ capacity: 14, inUse: 14 });
      // Each sandbox runs on the engine the fleet says, and answers there.
      for (const host of hosts) {
        const there = new Set(await containersOn(host));
        for (const sandbox of sandboxes.filter((each) => fleet.engineOf(each) === host.name)) {
          expect(there.has(sandbox.id)).toBe(true);
          expect((await sandbox.exec(`echo ${host.name}`)).stdout).toBe(`${host.name}\n`);
        }
      }
      // Full: the next acquire waits for a release, and then gets that engine's room.
      const waiting = fleet.acquire();
      await new Promise((done) => setTimeout(done, 200));
      expect(fleet.stats().waitingForCapacity).toBe(1);
      const freed = sandboxes.find((sandbox) => fleet.engineOf(sandbox) === "host1")!;
      await fleet.release(freed);
      sandboxes.splice(sandboxes.indexOf(freed), 1);
      const next = await waiting;
      sandboxes.push(next);
      expect(fleet.engineOf(next)).toBe("host1");
    } finally {
      for (const sandbox of sandboxes) await fleet.release(sandbox);
      await fleet.close();
    }
    for (const host of hosts) expect(await containersOn(host)).toEqual([]);
  }, 120_000);

  it("runs `sandfarm sandbox exec` on the engine --engine names, over TLS", async () => {
    await imageEverywhere();
    const result = await cli(
      "sandbox",
      "exec",
      "--image",
      MINI_IMAGE,
      "--engine",
      `box=${hosts[2]!.spec.host}`,
      "--",
      "echo",
      "from-host2",
    );
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toMatchObject({ exitCode: 0, stdout: "from-host2\n" });
    expect(await containersOn(hosts[2]!)).toEqual([]);
  }, 60_000);

  it("runs `sandfarm sandbox doctor` on every engine, each check named by its engine", async () => {
    await imageEverywhere();
    const result = await cli(
      "sandbox",
      "doctor",
      "--json",
      "--image",
      MINI_IMAGE,
      "--memory",
      "128",
      ...engineFlags().slice(0, 4),
    );
    const checks = JSON.parse(result.stdout) as { name: string; ok: boolean; detail: string }[];
    for (const host of hosts.slice(0, 2)) {
      expect(checks.find((check) => check.name === `${host.name}: engine`)).toMatchObject({
        ok: true,
        detail: expect.stringContaining(`at ${host.spec.host}, mutual TLS, verified`) as string,
      });
      expect(checks.find((check) => check.name === `${host.name}: image`)).toMatchObject({
        ok: true,
        detail: expect.stringMatching(
          /^sandfarm\/fleet-test:[0-9a-f]{12}: id [0-9a-f]{12}/,
        ) as string,
      });
      expect(checks.find((check) => check.name === `${host.name}: memory limit`)?.ok).toBe(true);
    }
    expect(checks.some((check) => check.name.startsWith("host2:"))).toBe(false);
  }, 120_000);

  it("runs `sandfarm doctor --config FILE`: one line per engine with its version, TLS, image, free data-root space", async () => {
    await imageEverywhere();
    const config = join(ENGINE_HOSTS_DIR, "doctor.yaml");
    writeFileSync(
      config,
      JSON.stringify({
        sandbox: {
          image: MINI_IMAGE,
          engines: hosts.map((host) => ({ ...host.spec, capacity: 50 })),
        },
      }),
    );
    const result = await sandfarmWithEnv(
      { PATH: process.env.PATH, HOME: process.env.HOME },
      "doctor",
      "--json",
      "--config",
      config,
    );
    const checks = JSON.parse(result.stdout) as { name: string; ok: boolean; detail: string }[];
    expect(checks.map((check) => [check.name, check.ok])).toEqual(
      hosts.map((host) => [`engine ${host.name}`, true]),
    );
    for (const check of checks)
      expect(check.detail).toMatch(
        /^Docker 20\.10\.\S+ at tcp:\/\/10\.213\.\d\.2:2376 \(mutual TLS\); runtimes .*runc.*; image [0-9a-f]{12}; data-root \S+ \d+(\.\d+)? (GiB|MiB) free; capacity 50$/,
      );
    expect(result.code).toBe(0);
  }, 120_000);

  it("refuses an engine that rejects the client certificate, with a TLS error naming it", async () => {
    const stranger = join(ENGINE_HOSTS_DIR, "stranger");
    execFileSync("bash", [
      join(import.meta.dirname, "../../deploy/certs.sh"),
      stranger,
      "10.213.9.9",
    ]);
    const [wrong] = parseEngines([
      {
        ...hosts[0]!.spec,
        tls: {
          ca: join(certs, "ca.pem"),
          cert: join(stranger, "cert.pem"),
          key: join(stranger, "key.pem"),
        },
      },
    ]);
    const fleet = fleetOf([wrong!]);
    await expect(fleet.start()).rejects.toThrow(
      /engine 'host0' \(tcp:\/\/10\.213\.0\.2:2376\).*TLS/,
    );
    await fleet.close();
    // DOCKER_CERT_PATH with the right CA and the stranger's client pair.
    const mixed = join(ENGINE_HOSTS_DIR, "mixed");
    mkdirSync(mixed);
    copyFileSync(join(certs, "ca.pem"), join(mixed, "ca.pem"));
    copyFileSync(join(stranger, "cert.pem"), join(mixed, "cert.pem"));
    copyFileSync(join(stranger, "key.pem"), join(mixed, "key.pem"));
    const status = await sandfarmWithEnv(
      { ...process.env, DOCKER_CERT_PATH: mixed },
      "image",
      "status",
      "--image",
      MINI_IMAGE,
      "--engine",
      `host0=${hosts[0]!.spec.host}`,
    );
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/host0 .* unreachable: .*TLS handshake/);
  }, 60_000);

  it("ejects a partitioned engine, ends its sandboxes' commands at once, and readmits it with its strays reaped", async () => {
    await imageEverywhere();
    const events: FleetEvent[] = [];
    const fleet = fleetOf(
      hosts.map((host) => host.spec),
      3,
      (event) => events.push(event),
    );
    await fleet.start();
    const sandboxes: ManagedSandbox[] = [];
    try {
      for (let index = 0; index < 3; index++) sandboxes.push(await fleet.acquire());
      expect(sandboxes.map((sandbox) => fleet.engineOf(sandbox)).sort()).toEqual([
        "host0",
        "host1",
        "host2",
      ]);
      const victim = sandboxes.find((sandbox) => fleet.engineOf(sandbox) === "host1")!;
      expect((await victim.exec("echo before")).stdout).toBe("before\n");
      // A command that would run 60 s: the ejection ends it, not its timeout.
      const running = victim.exec("sleep 60", { timeoutS: 90 });
      const cut = Date.now();
      hosts[1]!.setLink(false);
      await expect(running).rejects.toThrow(
        /^sandbox [0-9a-f]+ lost its engine: 2 pings in a row failed/,
      );
      const detectedS = (Date.now() - cut) / 1000;
      console.log(`partition detected in ${detectedS.toFixed(2)} s`);
      expect(events).toEqual([
        expect.objectContaining({ kind: "ejected", engine: "host1", lostSandboxes: 1 }),
      ]);
      expect(fleet.capacity).toBe(128);
      expect(fleet.stats().engines[1]).toMatchObject({ healthy: false, ejections: 1, warm: 0 });
      // New sandboxes go to the other engines and work.
      for (let index = 0; index < 4; index++) {
        const sandbox = await fleet.acquire();
        sandboxes.push(sandbox);
        expect(fleet.engineOf(sandbox)).not.toBe("host1");
        expect((await sandbox.exec("echo ok")).stdout).toBe("ok\n");
      }
      // The victim's container still runs on the cut-off host, until it is back.
      expect(await containersOn(hosts[1]!)).toContain(victim.id);
      // `sandfarm fleet status` asks the engines themselves: host1 does not answer.
      const status = await cli("fleet", "status", "--json", ...engineFlags());
      expect(status.code).toBe(1);
      const lines = (JSON.parse(status.stdout) as { engines: Record<string, unknown>[] }).engines;
      expect(lines.map((line) => [line.name, line.healthy])).toEqual([
        ["host0", true],
        ["host1", false],
        ["host2", true],
      ]);
      expect(lines[1]!.problem).toMatch(
        /^engine 'host1' \(tcp:\/\/10\.213\.1\.2:2376\) does not answer \(connect EHOSTUNREACH/,
      );
      // From outside, in use is every running sandfarm sandbox there (warm ones too).
      expect(lines[0]!.inUse).toBeGreaterThanOrEqual(
        sandboxes.filter((sandbox) => fleet.engineOf(sandbox) === "host0").length,
      );
      hosts[1]!.setLink(true);
      await until(() => events.some((event) => event.kind === "readmitted"), 30_000, "readmission");
      expect(events[1]).toMatchObject({ kind: "readmitted", engine: "host1" });
      expect((events[1] as { reaped: number }).reaped).toBeGreaterThanOrEqual(1); // the victim
      expect(await containersOn(hosts[1]!)).not.toContain(victim.id);
      expect(fleet.capacity).toBe(192);
      const back = await fleet.acquire();
      sandboxes.push(back);
      expect(fleet.engineOf(back)).toBe("host1");
      expect((await back.exec("echo back")).stdout).toBe("back\n");
      // A silent partition (every packet dropped): the pings time out instead of failing.
      hosts[2]!.setBlackhole(true);
      await until(() => events.length >= 3, 15_000, "host2 ejected");
      expect(events[2]).toMatchObject({ kind: "ejected", engine: "host2" });
      expect((events[2] as { reason: string }).reason).toMatch(/no answer within 500 ms$/);
      hosts[2]!.setBlackhole(false);
      await until(() => events.length >= 4, 30_000, "host2 readmitted");
      expect(events[3]).toMatchObject({ kind: "readmitted", engine: "host2" });
    } finally {
      hosts[1]!.setLink(true);
      hosts[2]!.setBlackhole(false);
      for (const sandbox of sandboxes) await fleet.release(sandbox);
      await fleet.close();
    }
    for (const host of hosts)
      await until(
        async () => (await containersOn(host)).length === 0,
        10_000,
        `${host.name} empty`,
      );
  }, 120_000);

  it("finishes a train run over three engines when one's dockerd and containerd are killed mid-step: nothing lost, nothing twice, nothing from the dead engine trained", async () => {
    await imageEverywhere();
    const stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-10" });
    const dir = mkdtempSync(join(tmpdir(), "sandfarm-fleet-train-"));
    try {
      const train = writeRlTasks(dir, "fleet.jsonl", 12, { script: "rl-10" });
      const run = await launchTraining({
        config: farmTestConfig({
          dir,
          stubURL: stub.baseURL,
          train: [train],
          runId: "fleet-kill",
          overrides: {
            run: { steps: 3 },
            sandbox: {
              image: MINI_IMAGE,
              memoryMb: 128,
              engines: hosts.map((host) => ({ ...host.spec, capacity: 8 })),
              health: QUICK_HEALTH,
            },
            rollout: { groupSize: 4, groupsPerStep: 3, episodes: 12, warmSandboxes: 6 },
            metrics: { prometheusPort: 0 },
          },
        }),
      });
      const fleet = run.pool!;
      let outcome: Awaited<ReturnType<typeof run.farm.run>>;
      let prometheus = "";
      try {
        const running = run.farm.run();
        // Kill host1 while sandboxes of the first step run on it.
        await until(() => fleet.stats().engines[1]!.inUse >= 2, 60_000, "sandboxes on host1");
        await hosts[1]!.kill();
        outcome = await running;
        prometheus = await (await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`)).text();
        const status = await cli(
          "fleet",
          "status",
          "--metrics",
          `http://127.0.0.1:${run.metricsPort}/metrics`,
        );
        expect(status.stdout).toMatch(/^host1 +NO +0 +0 +0 +8 /m);
        expect(status.stdout).toMatch(/^host0 +yes +\d+ +\d+ +\d+ +8 /m);
        expect(fleet.stats().engines[1]).toMatchObject({ healthy: false, ejections: 1 });
      } finally {
        await run.close();
      }
      expect(outcome).toMatchObject({ status: "finished", steps: 3 });
      expect(outcome.engineRetries).toBeGreaterThanOrEqual(1);
      // Per-engine metrics on the run's endpoint.
      expect(prometheus).toMatch(/^sandfarm_engine_ejections_total\{engine="host1"\} 1$/m);
      expect(prometheus).toMatch(/^sandfarm_engine_healthy\{engine="host1"\} 0$/m);
      expect(prometheus).toMatch(/^sandfarm_engine_healthy\{engine="host0"\} 1$/m);
      expect(prometheus).toMatch(/^sandfarm_engine_capacity\{engine="host2"\} 8$/m);
      expect(prometheus).toMatch(/^sandfarm_engine_sandboxes\{engine="host0",state="warm"\} \d+$/m);
      expect(prometheus).toMatch(
        /^sandfarm_engine_start_seconds_count\{engine="host2"\} [1-9]\d*$/m,
      );
      expect(prometheus).toMatch(
        new RegExp(
          `^sandfarm_infra_retries_total\\{cause="engine_lost"\\} ${outcome.engineRetries}$`,
          "m",
        ),
      );
      // Each step's metrics line records the engines; the last has host1 out.
      const steps = readRunLines<{
        engines?: { name: string; healthy: boolean; ejections: number }[];
      }>(run.runDir, "metrics.jsonl");
      expect(
        steps.at(-1)!.engines!.map((engine) => [engine.name, engine.healthy, engine.ejections]),
      ).toEqual([
        ["host0", true, 0],
        ["host1", false, 1],
        ["host2", true, 0],
      ]);
      // Every slot decided once: 9 groups batched, each whole, none twice.
      const journal = readRunLines<{ type: string; groupId?: string; verdict?: string }>(
        run.runDir,
        "journal.jsonl",
      );
      const masked = journal.filter((line) => line.verdict === "masked_infrastructure");
      expect(masked).toHaveLength(outcome.engineRetries!);
      const batched = readSpooledBatches(run.runDir).flatMap((batch) => batch.rolloutIds);
      expect(new Set(batched).size).toBe(batched.length);
      expect(batched).toHaveLength(9 * 4);
      const batchedGroups = new Set(batched.map((id) => id.replace(/-\d+$/, "")));
      expect(batchedGroups.size).toBe(9);
      // Nothing a lost sandbox produced is trained on: the masked groups' rollouts are in no batch.
      for (const line of masked) expect(batchedGroups.has(line.groupId!)).toBe(false);
      const trajectories = readRunLines<{
        verdict: string;
        episode: { rolloutId: string; stopReason: string };
      }>(run.runDir, "trajectories.jsonl");
      const ids = trajectories.map((record) => record.episode.rolloutId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(
        trajectories
          .filter((record) => record.verdict === "masked_infrastructure")
          .some((record) => record.episode.stopReason === "sandbox_error"),
      ).toBe(true);
    } finally {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
      await hosts[1]!.start();
    }
  }, 240_000);

  it("hears an engine die through its events stream, long before the next ping", async () => {
    await imageEverywhere();
    const events: FleetEvent[] = [];
    const fleet = fleetFromConfig(
      parseSandboxConfig({
        ...{ image: MINI_IMAGE, memoryMb: 128, runId: "fleet-test" },
        engines: [hosts[0]!.spec],
        // Pings a minute apart: only the events stream can tell in time.
        health: { ...QUICK_HEALTH, intervalMs: 60_000 },
      }),
      { warmSize: 0, maxConcurrentStarts: 2, onEvent: (event) => events.push(event) },
    );
    await fleet.start();
    try {
      const sandbox = await fleet.acquire(); // its death watch holds the events stream open
      await hosts[0]!.kill();
      await until(() => events.length > 0, 15_000, "ejection");
      expect(events[0]).toMatchObject({ kind: "ejected", engine: "host0", lostSandboxes: 1 });
      expect((events[0] as { reason: string }).reason).toMatch(
        /^its events stream ended, and 2 pings in a row failed; the last: /,
      );
      await fleet.release(sandbox);
    } finally {
      await fleet.close();
      await hosts[0]!.start();
    }
  }, 120_000);

  it("pauses a train run whose only engine dies and finishes it when the engine is back within sandbox.engineOutageS", async () => {
    await imageEverywhere();
    const stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-10" });
    const dir = mkdtempSync(join(tmpdir(), "sandfarm-fleet-outage-"));
    const warnings: string[] = [];
    try {
      const train = writeRlTasks(dir, "outage.jsonl", 8, { script: "rl-10" });
      const run = await launchTraining({
        config: farmTestConfig({
          dir,
          stubURL: stub.baseURL,
          train: [train],
          runId: "fleet-outage",
          overrides: {
            run: { steps: 2 },
            sandbox: {
              image: MINI_IMAGE,
              memoryMb: 128,
              engines: [{ ...hosts[0]!.spec, capacity: 8 }],
              health: QUICK_HEALTH,
              engineOutageS: 120,
            },
            rollout: { groupSize: 4, groupsPerStep: 2, episodes: 8, warmSandboxes: 4 },
          },
        }),
        onWarning: (message) => warnings.push(message),
      });
      const fleet = run.pool!;
      let outcome: Awaited<ReturnType<typeof run.farm.run>>;
      try {
        const running = run.farm.run();
        await until(() => fleet.stats().engines[0]!.inUse >= 2, 60_000, "sandboxes in use");
        await hosts[0]!.kill();
        await until(() => fleet.capacity === 0, 15_000, "the only engine ejected");
        // Down for a while: nothing is admitted, nothing halts.
        await new Promise((done) => setTimeout(done, 2000));
        expect(fleet.stats().inUse).toBe(0);
        await hosts[0]!.start();
        outcome = await running;
      } finally {
        await run.close();
      }
      expect(outcome).toMatchObject({ status: "finished", steps: 2 });
      expect(outcome.engineRetries).toBeGreaterThanOrEqual(1);
      expect(warnings.some((line) => line.startsWith("engine 'host0' ejected"))).toBe(true);
      expect(warnings.some((line) => line.startsWith("engine 'host0' readmitted after"))).toBe(
        true,
      );
      const batched = readSpooledBatches(run.runDir).flatMap((batch) => batch.rolloutIds);
      expect(batched).toHaveLength(2 * 2 * 4);
      expect(new Set(batched).size).toBe(batched.length);
    } finally {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
      if (
        !(await hosts[0]!.docker.ping().then(
          () => true,
          () => false,
        ))
      )
        await hosts[0]!.start();
    }
  }, 240_000);

  it("halts a train run whose only engine stays down past sandbox.engineOutageS, with the engine's reason", async () => {
    await imageEverywhere();
    const stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-10" });
    const dir = mkdtempSync(join(tmpdir(), "sandfarm-fleet-halt-"));
    try {
      const train = writeRlTasks(dir, "halt.jsonl", 8, { script: "rl-10" });
      const run = await launchTraining({
        config: farmTestConfig({
          dir,
          stubURL: stub.baseURL,
          train: [train],
          runId: "fleet-halt",
          overrides: {
            run: { steps: 2 },
            sandbox: {
              image: MINI_IMAGE,
              memoryMb: 128,
              engines: [{ ...hosts[0]!.spec, capacity: 8 }],
              health: QUICK_HEALTH,
              engineOutageS: 3,
            },
            rollout: { groupSize: 4, groupsPerStep: 2, episodes: 8, warmSandboxes: 4 },
          },
        }),
      });
      let outcome: Awaited<ReturnType<typeof run.farm.run>>;
      try {
        const running = run.farm.run();
        await until(() => run.pool!.stats().engines[0]!.inUse >= 2, 60_000, "sandboxes in use");
        await hosts[0]!.kill();
        outcome = await running;
      } finally {
        await run.close();
      }
      expect(outcome.status).toBe("halted");
      expect(outcome.message).toMatch(
        /^no sandbox engine has been healthy for \d+ s \(sandbox\.engineOutageS 3\): host0: .*\. Bring an engine back \(`sandfarm sandbox doctor`\), then `sandfarm train --resume`$/,
      );
    } finally {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
      await hosts[0]!.start();
    }
  }, 240_000);

  it("counts engine losses past rollout.engineLossRetries like any infrastructure failure", async () => {
    await imageEverywhere();
    const stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-10" });
    const dir = mkdtempSync(join(tmpdir(), "sandfarm-fleet-budget-"));
    try {
      const train = writeRlTasks(dir, "budget.jsonl", 8, { script: "rl-10" });
      const run = await launchTraining({
        config: farmTestConfig({
          dir,
          stubURL: stub.baseURL,
          train: [train],
          runId: "fleet-budget",
          overrides: {
            run: { steps: 2 },
            sandbox: {
              image: MINI_IMAGE,
              memoryMb: 128,
              engines: hosts.map((host) => ({ ...host.spec, capacity: 8 })),
              health: QUICK_HEALTH,
            },
            rollout: {
              groupSize: 4,
              groupsPerStep: 3,
              episodes: 12,
              warmSandboxes: 6,
              engineLossRetries: 0,
            },
            metrics: { prometheusPort: 0 },
          },
        }),
      });
      let outcome: Awaited<ReturnType<typeof run.farm.run>>;
      let prometheus = "";
      try {
        const running = run.farm.run();
        await until(() => run.pool!.stats().engines[1]!.inUse >= 2, 60_000, "sandboxes on host1");
        await hosts[1]!.kill();
        outcome = await running;
        prometheus = await (await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`)).text();
      } finally {
        await run.close();
      }
      // Still retried (up to maxInfraFailures in a row), but counted as ordinary failures.
      expect(outcome.status).toBe("finished");
      expect(outcome.engineRetries).toBeUndefined();
      const masked = readRunLines<{ verdict?: string }>(run.runDir, "journal.jsonl").filter(
        (line) => line.verdict === "masked_infrastructure",
      ).length;
      expect(masked).toBeGreaterThanOrEqual(1);
      expect(prometheus).toMatch(
        new RegExp(`^sandfarm_infra_retries_total\\{cause="other"\\} ${masked}$`, "m"),
      );
      expect(prometheus).not.toMatch(/cause="engine_lost"/);
    } finally {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
      await hosts[1]!.start();
    }
  }, 240_000);

  it("finishes an eval over three engines when one is killed mid-run: every rollout scored, the lost ones run again elsewhere", async () => {
    await imageEverywhere();
    const stub = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-10" });
    const dir = mkdtempSync(join(tmpdir(), "sandfarm-fleet-eval-"));
    let most = 0;
    try {
      const tasks = writeRlTasks(dir, "eval.jsonl", 8, { script: "rl-10" });
      const killed = { done: false };
      const result = await runEvaluation({
        config: parseEvalConfig({
          tasks: [tasks],
          mode: "sandbox",
          repeats: 2,
          concurrency: 6,
          outputDir: join(dir, "run"),
          policy: { urls: [stub.baseURL], model: "stub-model" },
          sandbox: {
            image: MINI_IMAGE,
            memoryMb: 128,
            runId: "fleet-eval",
            // host0 and host1 hold two each: of six rollouts running, host2 always has two.
            engines: hosts.map((host, index) => ({ ...host.spec, capacity: [2, 2, 64][index]! })),
            health: QUICK_HEALTH,
          },
          episode: { maxTurns: 12, maxTokensPerCall: 2048, maxTotalTokens: 16_384 },
        }),
        skipDoctor: true,
        onProgress: (progress) => {
          most = Math.max(most, progress.engineRetries ?? 0);
          // Kill host2 once a few rollouts are done and others run.
          if (progress.done >= 2 && !killed.done) {
            killed.done = true;
            void hosts[2]!.kill();
          }
        },
      });
      expect(killed.done).toBe(true);
      expect(result.records).toHaveLength(16);
      expect(result.records.every((record) => record.trainable)).toBe(true);
      expect(result.report!.sandbox).toBeDefined();
      // Rollouts on host2 when it died ran again (how many depends on timing; the train test
      // above kills an engine while it holds sandboxes, and asserts the retries).
      // The report names the engines, the one that was lost, and the rollouts run again.
      expect(result.report!.engines).toEqual({
        engines: [
          { name: "host0", healthy: true, ejections: 0, capacity: 2 },
          { name: "host1", healthy: true, ejections: 0, capacity: 2 },
          { name: "host2", healthy: false, ejections: 1, capacity: 64 },
        ],
        rerun: most,
      });
      expect(readFileSync(join(result.runDir, "report.md"), "utf8")).toContain(
        `- Sandbox engines: host0 (healthy, 0 ejection(s), capacity 2), host1 (healthy, 0 ejection(s), capacity 2), host2 (ejected, 1 ejection(s), capacity 64); ${most} rollout(s) run again after an engine loss\n`,
      );
    } finally {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
      await hosts[2]!.start();
    }
  }, 240_000);

  it("makes a sandbox host with deploy/sandbox-host.sh: TLS on its address, a size-limited data-root, the image loaded", async () => {
    const host = bareHost(3);
    await host.startContainerd();
    const tar = join(host.dir, "image.tar");
    execFileSync("bash", ["-c", `docker save ${MINI_IMAGE} > ${tar}`]);
    const script = join(import.meta.dirname, "../../deploy/sandbox-host.sh");
    const output = execFileSync(
      "bash",
      [
        script,
        "--address",
        host.address,
        "--certs",
        certs,
        "--name",
        "box3",
        "--capacity",
        "40",
        "--data-size-gb",
        "0.25",
        "--image-tar",
        tar,
      ],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          SANDFARM_HOST_PREFIX: host.dir,
          SANDFARM_HOST_NETNS: host.netns,
          SANDFARM_HOST_CONTAINERD: host.containerdSocket,
          SANDFARM_HOST_CGROUP_PARENT: host.cgroupParent,
        },
      },
    );
    // The entry to paste, as the farm reads it.
    expect(output).toContain(
      "    - name: box3\n      host: tcp://10.213.3.2:2376\n      tls: {ca: CERTS/ca.pem, cert: CERTS/cert.pem, key: CERTS/key.pem}\n      capacity: 40\n",
    );
    // Its data-root is its own filesystem of about 256 MB.
    const dataRoot = join(host.dir, "var/lib/sandfarm/docker");
    const [size] = execFileSync("df", ["--output=size", "-B1M", dataRoot], { encoding: "utf8" })
      .trim()
      .split("\n")
      .slice(1)
      .map(Number);
    expect(size).toBeGreaterThan(200);
    expect(size).toBeLessThan(260);
    expect(((await host.docker.info()) as { DockerRootDir: string }).DockerRootDir).toBe(dataRoot);
    // The farm reaches it over mutual TLS, and a sandbox runs there on the loaded image.
    const fleet = fleetOf([host.spec]);
    await fleet.start();
    try {
      const sandbox = await fleet.acquire();
      expect((await sandbox.exec("echo hosted")).stdout).toBe("hosted\n");
      await fleet.release(sandbox);
    } finally {
      await fleet.close();
    }
    // Run again, it keeps the filesystem and config and restarts the engine, which answers again
    // (the first request may meet the old daemon's closed keep-alive connection).
    execFileSync("bash", [script, "--address", host.address, "--certs", certs, "--name", "box3"], {
      env: {
        ...process.env,
        SANDFARM_HOST_PREFIX: host.dir,
        SANDFARM_HOST_NETNS: host.netns,
        SANDFARM_HOST_CONTAINERD: host.containerdSocket,
        SANDFARM_HOST_CGROUP_PARENT: host.cgroupParent,
      },
    });
    await until(
      () =>
        host.docker.ping().then(
          () => true,
          () => false,
        ),
      30_000,
      "the engine answers after the second run",
    );
    expect(((await host.docker.info()) as { DockerRootDir: string }).DockerRootDir).toBe(dataRoot);
  }, 180_000);
});
