/**
 * `sandfarm sandbox doctor`: checks that sandboxes can run here as configured, from the engine to
 * the limits seen inside a live sandbox. Each failed check carries its fix.
 */
import { readFileSync } from "node:fs";
import Docker from "dockerode";
import { DROPPED_CAPABILITIES, type SandboxConfig } from "./config.js";
import type { ManagedSandbox } from "./backend.js";
import { DockerBackend } from "./docker-sandbox.js";
import {
  type EngineSpec,
  describeEngineFailure,
  engineConnection,
  resolveEngines,
} from "./engines.js";
import { shortId } from "./images.js";
import type { DoctorCheck } from "../util/doctor-check.js";
import { LABEL_IMAGE_RECIPE } from "./labels.js";
import { LocalBackend, LocalSandbox, defaultRootfs } from "./local-sandbox.js";

export type { DoctorCheck } from "../util/doctor-check.js";

/** Bit numbers of the capabilities doctor checks (linux/capability.h). */
const CAPABILITY_BITS: Record<string, number> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  FOWNER: 3,
  SETGID: 6,
  SETUID: 7,
  NET_RAW: 13,
  SYS_CHROOT: 18,
  MKNOD: 27,
  AUDIT_WRITE: 29,
  SETFCAP: 31,
};
/** What package installs and chown need; they must stay. */
const KEPT_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"];

const PROBE = [
  "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status",
  "echo pids: $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)",
  "echo memory: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)",
  "echo cpu: $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)",
  "echo net: $(awk -F: 'NR > 2 { gsub(/ /, \"\", $1); print $1 }' /proc/net/dev)",
  "echo user: $(id -u)",
].join("; ");

/**
 * The container's cgroup limits as the host sees them. Under gVisor the sandbox cannot see its
 * own cgroup, so doctor verifies the limits here (when the engine runs on this machine).
 */
function hostCgroupProbe(sandbox: ManagedSandbox): string {
  const id = sandbox.id;
  if (sandbox instanceof LocalSandbox) {
    const base = (controller: string): string => `/sys/fs/cgroup/${controller}/sandfarm/${id}`;
    return cgroupReadings(
      [`${base("pids")}/pids.max`, `/sys/fs/cgroup/sandfarm/${id}/pids.max`],
      [`${base("memory")}/memory.limit_in_bytes`, `/sys/fs/cgroup/sandfarm/${id}/memory.max`],
      [`${base("cpu")}/cpu.cfs_quota_us`, `${base("cpu")}/cpu.cfs_period_us`],
      [`/sys/fs/cgroup/sandfarm/${id}/cpu.max`],
    );
  }
  const v2 = [`/sys/fs/cgroup/docker/${id}`, `/sys/fs/cgroup/system.slice/docker-${id}.scope`];
  return cgroupReadings(
    [`/sys/fs/cgroup/pids/docker/${id}/pids.max`, ...v2.map((dir) => `${dir}/pids.max`)],
    [
      `/sys/fs/cgroup/memory/docker/${id}/memory.limit_in_bytes`,
      ...v2.map((dir) => `${dir}/memory.max`),
    ],
    [
      `/sys/fs/cgroup/cpu/docker/${id}/cpu.cfs_quota_us`,
      `/sys/fs/cgroup/cpu/docker/${id}/cpu.cfs_period_us`,
    ],
    v2.map((dir) => `${dir}/cpu.max`),
  );
}

function cgroupReadings(
  pidsPaths: string[],
  memoryPaths: string[],
  cpuV1: [string, string],
  cpuV2: string[],
): string {
  const read = (paths: string[]): string => {
    for (const path of paths) {
      try {
        return readFileSync(path, "utf8").trim();
      } catch {
        // Try the next layout.
      }
    }
    return "";
  };
  const pids = read(pidsPaths);
  const memory = read(memoryPaths);
  const quota = read([cpuV1[0]]);
  const period = read([cpuV1[1]]);
  const cpu = quota && period ? `${quota} ${period}` : read(cpuV2);
  return `pids: ${pids}\nmemory: ${memory}\ncpu: ${cpu}\n`;
}

function field(output: string, name: string): string {
  return new RegExp(`^${name}:[ \\t]*(.*)$`, "m").exec(output)?.[1]?.trim() ?? "";
}

/**
 * Every check, for each engine of the config (`sandbox.engines`, or Docker's own variables):
 * with several engines each check's name starts with its engine's.
 */
export async function runDoctor(config: SandboxConfig, docker?: Docker): Promise<DoctorCheck[]> {
  if (config.backend === "local" || docker) return doctorOne(config, docker);
  const engines = resolveEngines(config.engines, process.env);
  const checks: DoctorCheck[] = [];
  for (const spec of engines) {
    const engineConfig = spec.runtime ? { ...config, runtime: spec.runtime } : config;
    let client: Docker;
    try {
      client = new Docker(engineConnection(spec));
    } catch (error) {
      checks.push({ name: `${spec.name}: engine`, ok: false, detail: (error as Error).message });
      continue;
    }
    const found = await doctorOne(engineConfig, client, spec);
    checks.push(
      ...(engines.length > 1
        ? found.map((check) => ({ ...check, name: `${spec.name}: ${check.name}` }))
        : found),
    );
  }
  return checks;
}

async function doctorOne(
  config: SandboxConfig,
  docker?: Docker,
  spec?: EngineSpec,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const ready =
    config.backend === "local"
      ? localChecks(config, checks)
      : await engineChecks(config, checks, docker, spec);
  if (ready) await sandboxChecks(config, checks, docker);
  checks.push(...(await availabilityChecks(config, docker)));
  return checks;
}

/** How the farm talks to the engine, for the engine check's detail. */
function transportOf(spec: EngineSpec | undefined): string {
  if (!spec) return process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  if (spec.host.startsWith("unix://")) return spec.host;
  return `${spec.host}, ${spec.tls ? "mutual TLS, verified" : "NO TLS (insecure: true)"}, capacity ${spec.capacity}`;
}

/** Engine, runtime and image; false when no sandbox can start without a fix. */
async function engineChecks(
  config: SandboxConfig,
  checks: DoctorCheck[],
  docker?: Docker,
  spec?: EngineSpec,
): Promise<boolean> {
  const backend = new DockerBackend(config, docker);
  try {
    const version = await backend.docker.version();
    const info = (await backend.docker.info()) as {
      Runtimes?: Record<string, unknown>;
      DefaultRuntime?: string;
    };
    checks.push({
      name: "engine",
      ok: true,
      detail: `Docker ${version.Version} (API ${version.ApiVersion}) at ${transportOf(spec)}`,
    });
    const runtimes = Object.keys(info.Runtimes ?? {});
    const wanted = config.runtime ?? info.DefaultRuntime ?? "runc";
    checks.push({
      name: "runtime",
      ok: runtimes.includes(wanted),
      detail: `${wanted}${config.runtime ? "" : " (engine default)"}; registered: ${runtimes.join(", ")}`,
      ...(runtimes.includes(wanted)
        ? {}
        : {
            fix:
              wanted === "runsc"
                ? "run 'bash deploy/gvisor.sh' (as root)"
                : `register '${wanted}' under "runtimes" in /etc/docker/daemon.json and reload dockerd (SIGHUP), or unset sandbox.runtime`,
          }),
    });
  } catch (error) {
    checks.push({
      name: "engine",
      ok: false,
      detail: spec
        ? describeEngineFailure(spec, error)
        : `no engine answers: ${(error as Error).message}`,
      fix:
        spec && spec.host.startsWith("tcp://")
          ? "start the engine there (deploy/sandbox-host.sh), or fix sandbox.engines"
          : "run 'bash deploy/engine.sh' (as root) or set DOCKER_HOST to a running engine",
    });
    return false;
  }
  try {
    const image = await backend.docker.getImage(config.image).inspect();
    const recipe = image.Config.Labels?.[LABEL_IMAGE_RECIPE] ?? "none";
    checks.push({
      name: "image",
      ok: true,
      detail: `${config.image}: id ${shortId(image.Id)}, ${Math.round(image.Size / 1e6)} MB, recipe ${recipe}`,
    });
  } catch {
    checks.push({
      name: "image",
      ok: false,
      detail: `${config.image} is not in the engine`,
      fix: spec?.host.startsWith("tcp://")
        ? `run 'sandfarm image push --engine ${spec.name}'`
        : "run 'bash deploy/image/build.sh' (offline build) or set sandbox.image",
    });
    return false;
  }
  return true;
}

function localChecks(config: SandboxConfig, checks: DoctorCheck[]): boolean {
  const problem = LocalBackend.problem(config);
  checks.push({
    name: "local backend",
    ok: !problem,
    detail: problem ?? `bubblewrap over ${defaultRootfs()}`,
    ...(problem ? { fix: problem.replace(/^.*?: /, "") } : {}),
  });
  return !problem;
}

/** Starts a sandbox as configured and checks its limits from inside (and from the host). */
async function sandboxChecks(
  config: SandboxConfig,
  checks: DoctorCheck[],
  docker?: Docker,
): Promise<void> {
  let sandbox: ManagedSandbox;
  try {
    sandbox =
      config.backend === "local"
        ? await new LocalBackend(config).create()
        : await new DockerBackend(config, docker).create();
  } catch (error) {
    checks.push({
      name: "sandbox",
      ok: false,
      detail: (error as Error).message,
      fix: "see the message; for Docker check 'docker info' and the dockerd log",
    });
    return;
  }
  try {
    const probe = await sandbox.exec(PROBE, { timeoutS: 30 });
    checks.push({
      name: "sandbox",
      ok: probe.exitCode === 0,
      detail: `started and ran a command in ${probe.durationMs} ms`,
    });
    checks.push(...limitChecks(probe.stdout, hostCgroupProbe(sandbox), config));
  } finally {
    await sandbox.close();
  }
}

/**
 * Which other backends and runtimes work here: each is started once and runs `echo`. They are
 * optional: a failure is reported with its fix but does not fail doctor.
 */
async function availabilityChecks(config: SandboxConfig, docker?: Docker): Promise<DoctorCheck[]> {
  const variants: [string, SandboxConfig][] = [
    ["runtime runc", { ...config, backend: "docker", runtime: "runc" }],
    ["runtime runsc", { ...config, backend: "docker", runtime: "runsc", network: "none" }],
    ["backend local", { ...config, backend: "local", network: "none", runtime: undefined }],
  ];
  const checks: DoctorCheck[] = [];
  for (const [name, variant] of variants) {
    const current =
      variant.backend === config.backend &&
      (variant.backend === "local" || variant.runtime === (config.runtime ?? "runc"));
    if (current) continue;
    const started = performance.now();
    try {
      const sandbox =
        variant.backend === "local"
          ? await new LocalBackend(variant).create()
          : await new DockerBackend(variant, docker).create();
      try {
        const result = await sandbox.exec("echo ok", { timeoutS: 30 });
        checks.push({
          name,
          ok: result.stdout === "ok\n",
          optional: true,
          detail: `works (start and first command: ${Math.round(performance.now() - started)} ms)`,
        });
      } finally {
        await sandbox.close();
      }
    } catch (error) {
      checks.push({
        name,
        ok: false,
        optional: true,
        detail: `unavailable: ${(error as Error).message}`,
        fix: name === "runtime runsc" ? "run 'bash deploy/gvisor.sh' (as root)" : "see the message",
      });
    }
  }
  return checks;
}

function limitChecks(inside: string, host: string, config: SandboxConfig): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  // A limit seen inside the sandbox wins; the host's view of its cgroup covers gVisor.
  const limit = (name: string): string => field(inside, name) || field(host, name);
  const capEff = BigInt(`0x${field(inside, "CapEff") || "0"}`);
  const has = (name: string): boolean => ((capEff >> BigInt(CAPABILITY_BITS[name]!)) & 1n) === 1n;
  const leaked = DROPPED_CAPABILITIES.filter(has);
  const missing = KEPT_CAPABILITIES.filter((name) => !has(name));
  checks.push({
    name: "capabilities",
    ok: leaked.length === 0 && missing.length === 0,
    detail:
      leaked.length === 0 && missing.length === 0
        ? `dropped ${DROPPED_CAPABILITIES.join(", ")}; kept ${KEPT_CAPABILITIES.join(", ")}`
        : `still present: ${leaked.join(", ") || "none"}; missing: ${missing.join(", ") || "none"}`,
    fix: "the engine or runtime ignored CapDrop; check the runtime",
  });
  const shown = field(inside, "NoNewPrivs");
  // gVisor's /proc does not show the flag; runsc applies it from the container's config.
  const noNewPrivs = shown === "1" || (shown === "" && config.runtime === "runsc");
  checks.push({
    name: "no-new-privileges",
    ok: noNewPrivs,
    detail:
      shown === "1"
        ? "set"
        : noNewPrivs
          ? "set in the container config (not shown inside gVisor)"
          : "not set",
    fix: "the engine ignored SecurityOpt no-new-privileges; update Docker",
  });
  const pids = limit("pids");
  checks.push({
    name: "pid limit",
    ok: pids === String(config.pidsLimit),
    detail: `${pids} (configured ${config.pidsLimit})`,
    fix: "enable the pids cgroup controller on the host",
  });
  const memoryBytes = Number(limit("memory"));
  const wantedBytes = config.memoryMb * 1024 * 1024;
  checks.push({
    name: "memory limit",
    ok: memoryBytes === wantedBytes,
    detail: `${Math.round(memoryBytes / 1024 / 1024)} MiB (configured ${config.memoryMb} MiB, swap equal)`,
    fix: "enable the memory cgroup controller (cgroup_enable=memory on the kernel command line)",
  });
  const [quota, period] = limit("cpu").split(/\s+/).map(Number);
  const cpus = quota && period && quota > 0 ? quota / period : 0;
  checks.push({
    name: "cpu limit",
    ok: Math.abs(cpus - config.cpus) < 0.01,
    detail: `${cpus} cores (configured ${config.cpus})`,
    fix: "enable CFS bandwidth control (the cpu cgroup controller)",
  });
  const interfaces = field(inside, "net").split(/\s+/).filter(Boolean);
  const onlyLoopback = interfaces.length === 1 && interfaces[0] === "lo";
  let networkDetail = `${config.network}: interfaces ${interfaces.join(", ")}`;
  if (config.network !== "none" && onlyLoopback) {
    networkDetail +=
      " (only loopback: this engine has no bridge, e.g. dockerd --bridge=none; models cannot pip install or download)";
  }
  checks.push({
    name: "network",
    ok: config.network === "none" ? onlyLoopback : true,
    detail: networkDetail,
    fix: "network 'none' must leave only lo; check the engine",
  });
  return checks;
}
