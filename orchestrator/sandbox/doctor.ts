/**
 * `sandfarm sandbox doctor`: checks that sandboxes can run here as configured, from the engine to
 * the limits seen inside a live sandbox. Each failed check carries its fix.
 */
import type Docker from "dockerode";
import { DROPPED_CAPABILITIES, type SandboxConfig } from "./config.js";
import { DockerBackend } from "./docker-sandbox.js";

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

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
  "echo net: $(ls /sys/class/net)",
  "echo user: $(id -u)",
].join("; ");

function field(output: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, "m").exec(output)?.[1]?.trim() ?? "";
}

export async function runDoctor(config: SandboxConfig, docker?: Docker): Promise<DoctorCheck[]> {
  const backend = new DockerBackend(config, docker);
  const checks: DoctorCheck[] = [];
  const engineFix = "run 'bash deploy/engine.sh' (as root) or set DOCKER_HOST to a running engine";
  try {
    const version = await backend.docker.version();
    const info = (await backend.docker.info()) as {
      Runtimes?: Record<string, unknown>;
      DefaultRuntime?: string;
    };
    checks.push({
      name: "engine",
      ok: true,
      detail: `Docker ${version.Version} (API ${version.ApiVersion}) at ${process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}`,
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
            fix: `register '${wanted}' under "runtimes" in /etc/docker/daemon.json and reload dockerd (SIGHUP), or unset sandbox.runtime`,
          }),
    });
  } catch (error) {
    checks.push({
      name: "engine",
      ok: false,
      detail: `no engine answers: ${(error as Error).message}`,
      fix: engineFix,
    });
    return checks;
  }

  try {
    const image = await backend.docker.getImage(config.image).inspect();
    const recipe = image.Config.Labels?.["sandfarm.recipe"] ?? "none";
    checks.push({
      name: "image",
      ok: true,
      detail: `${config.image}: ${Math.round(image.Size / 1e6)} MB, recipe ${recipe}`,
    });
  } catch {
    checks.push({
      name: "image",
      ok: false,
      detail: `${config.image} is not in the engine`,
      fix: "run 'bash deploy/image/build.sh' (offline build) or set sandbox.image",
    });
    return checks;
  }

  let sandbox;
  try {
    sandbox = await backend.create();
  } catch (error) {
    checks.push({
      name: "sandbox",
      ok: false,
      detail: (error as Error).message,
      fix: "see the message; check 'docker info' and the dockerd log",
    });
    return checks;
  }
  try {
    const probe = await sandbox.exec(PROBE, { timeoutS: 30 });
    checks.push({
      name: "sandbox",
      ok: probe.exitCode === 0,
      detail: `started and ran a command in ${probe.durationMs} ms`,
    });
    checks.push(...limitChecks(probe.stdout, config));
  } finally {
    await sandbox.close();
  }
  return checks;
}

function limitChecks(output: string, config: SandboxConfig): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const capEff = BigInt(`0x${field(output, "CapEff") || "0"}`);
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
  const noNewPrivs = field(output, "NoNewPrivs") === "1";
  checks.push({
    name: "no-new-privileges",
    ok: noNewPrivs,
    detail: noNewPrivs ? "set" : "not set",
    fix: "the engine ignored SecurityOpt no-new-privileges; update Docker",
  });
  const pids = field(output, "pids");
  checks.push({
    name: "pid limit",
    ok: pids === String(config.pidsLimit),
    detail: `${pids} (configured ${config.pidsLimit})`,
    fix: "enable the pids cgroup controller on the host",
  });
  const memoryBytes = Number(field(output, "memory"));
  const wantedBytes = config.memoryMb * 1024 * 1024;
  checks.push({
    name: "memory limit",
    ok: memoryBytes === wantedBytes,
    detail: `${Math.round(memoryBytes / 1024 / 1024)} MiB (configured ${config.memoryMb} MiB, swap equal)`,
    fix: "enable the memory cgroup controller (cgroup_enable=memory on the kernel command line)",
  });
  const [quota, period] = field(output, "cpu").split(/\s+/).map(Number);
  const cpus = quota && period && quota > 0 ? quota / period : 0;
  checks.push({
    name: "cpu limit",
    ok: Math.abs(cpus - config.cpus) < 0.01,
    detail: `${cpus} cores (configured ${config.cpus})`,
    fix: "enable CFS bandwidth control (the cpu cgroup controller)",
  });
  const interfaces = field(output, "net").split(/\s+/).filter(Boolean);
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
