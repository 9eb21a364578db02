/**
 * Sandbox hosts for the fleet tests, made on this machine: each a separate dockerd (with its own
 * containerd, data-root, exec-root and cgroup parent) in its own network namespace, reached over
 * a veth pair whose two ends hold one /30 of 10.213.0.0/16, listening on its veth address with
 * mutual TLS (deploy/certs.sh). Traffic goes only to those addresses: the rest of 10.213.0.0/16
 * is routed as unreachable, so a link set down never sends anything out. Everything lives under
 * ENGINE_HOSTS_DIR and in namespaces named `sfeng-N`; `sweepEngineHosts()` removes all of it,
 * also what a crashed test run left behind, so a leftover never breaks the next run.
 *
 * Namespaces are entered with `nsenter --net=...` (not `ip netns exec`, which remounts /sys and
 * loses the cgroup mounts dockerd needs).
 *
 * @example
 * const hosts = await startEngineHosts(3);
 * try { ... hosts[0].spec ... await hosts[1].kill(); await hosts[1].start(); } finally { await sweepEngineHosts(); }
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import Docker from "dockerode";
import {
  type EngineSpec,
  engineConnection,
  parseEngines,
} from "../orchestrator/sandbox/engines.js";

export const ENGINE_HOSTS_DIR = "/tmp/sandfarm-engine-hosts";
const NETNS_PREFIX = "sfeng-";
const CERTS_SCRIPT = resolve(import.meta.dirname, "../deploy/certs.sh");
const PORT = 2376;
/** Every test host's /30 lies in it. */
const TEST_RANGE = "10.213.0.0/16";

export interface EngineHost {
  readonly index: number;
  readonly name: string;
  /** The engine's veth address (10.213.N.2); the farm's end is 10.213.N.1. */
  readonly address: string;
  /** Its `sandbox.engines` entry (mutual TLS over tcp://ADDRESS:2376). */
  readonly spec: EngineSpec;
  /** A client for it, over the same TLS the farm uses. */
  readonly docker: Docker;
  /** The cgroup parent its containers run under (for counting and cleanup). */
  readonly cgroupParent: string;
  readonly dir: string;
  /** Its network namespace, and its own containerd's socket. */
  readonly netns: string;
  readonly containerdSocket: string;
  /** Starts containerd and dockerd (again) and waits until the engine answers. */
  start(): Promise<void>;
  /** Starts only its containerd: a bare host for a deploy script to make an engine of. */
  startContainerd(): Promise<void>;
  /** kill -9 of its dockerd and its containerd (containers keep running, as on a real host). */
  kill(): Promise<void>;
  /** The veth link down (a partition that refuses at once) or up again. */
  setLink(up: boolean): void;
  /** Its address blackholed (a partition that drops every packet silently) or routed again. */
  setBlackhole(on: boolean): void;
}

function run(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function quiet(command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { stdio: "ignore" });
  } catch {
    // Already gone.
  }
}

/** Pids whose command line mentions `needle`. */
function pidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** Processes in every cgroup (v1 and v2 layouts) under `parent`. */
function pidsInCgroup(parent: string): number[] {
  const pids = new Set<number>();
  const roots = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"];
  const walk = (dir: string, depth: number): void => {
    if (depth > 3 || !existsSync(dir)) return;
    try {
      for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n"))
        if (line) pids.add(Number(line));
    } catch {
      // Not a cgroup directory.
    }
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) walk(join(dir, entry.name), depth + 1);
  };
  for (const root of roots) walk(join(root, parent), 0);
  return [...pids];
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Exited meanwhile.
    }
  }
}

/** Removes every cgroup directory under `parent`, deepest first (they must be empty). */
function removeCgroups(parent: string): void {
  for (const root of readdirSync("/sys/fs/cgroup").map((name) => join("/sys/fs/cgroup", name))) {
    const top = join(root, parent);
    if (!existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (dir: string): void => {
      dirs.push(dir);
      for (const entry of readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory()) walk(join(dir, entry.name));
    };
    try {
      walk(top);
    } catch {
      continue;
    }
    for (const dir of dirs.reverse()) quiet("rmdir", [dir]);
  }
}

/**
 * Removes every test engine host: processes (dockerd, containerd, shims, container processes),
 * mounts, namespaces, links, cgroups and files. Safe to call at any time, repeatedly.
 */
export function sweepEngineHosts(): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    const pids = pidsMentioning(ENGINE_HOSTS_DIR);
    for (const index of hostIndices()) pids.push(...pidsInCgroup(cgroupParentOf(index)));
    if (pids.length === 0) break;
    killAll(pids);
    execFileSync("sleep", ["0.2"]);
  }
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((point) => point.startsWith(ENGINE_HOSTS_DIR))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) quiet("umount", ["-l", point]);
  for (const index of hostIndices()) removeCgroups(cgroupParentOf(index));
  let namespaces: string[] = [];
  try {
    namespaces = readdirSync("/var/run/netns").filter((name) => name.startsWith(NETNS_PREFIX));
  } catch {
    // No namespaces at all.
  }
  for (const name of namespaces) quiet("ip", ["netns", "del", name]);
  for (const link of readdirSync("/sys/class/net").filter((name) => name.startsWith("sfengh")))
    quiet("ip", ["link", "del", link]);
  quiet("ip", ["route", "del", "unreachable", TEST_RANGE]);
  rmSync(ENGINE_HOSTS_DIR, { recursive: true, force: true });
}

/** Host indices that may have left something behind (cgroups are named by index). */
function hostIndices(): number[] {
  return Array.from({ length: 8 }, (_, index) => index);
}

function cgroupParentOf(index: number): string {
  return `sandfarm-engine-host-${index}`;
}

/** The certificates every test host and the farm's side share (deploy/certs.sh's layout). */
export const ENGINE_HOSTS_CERTS = join(ENGINE_HOSTS_DIR, "certs");

/** Starts `count` engine hosts (sweeping any leftovers first) and waits until all answer. */
export async function startEngineHosts(count: number): Promise<EngineHost[]> {
  if (count > hostIndices().length) throw new Error(`at most ${hostIndices().length} engine hosts`);
  sweepEngineHosts();
  // The test hosts' whole range is unreachable except through their own links: with a link
  // down (a partition), their traffic fails here instead of taking the default route out.
  run("ip", ["route", "add", "unreachable", TEST_RANGE]);
  mkdirSync(ENGINE_HOSTS_DIR, { recursive: true });
  const hosts = Array.from({ length: count }, (_, index) => bareHost(index));
  await Promise.all(hosts.map((host) => host.start()));
  return hosts;
}

/**
 * Host `index`'s namespace, link and certificates, with nothing started (after
 * `startEngineHosts`, which sets up the range and sweeps): `start()` or `startContainerd()`.
 */
export function bareHost(index: number): EngineHost {
  const address = `10.213.${index}.2`;
  run("bash", [CERTS_SCRIPT, ENGINE_HOSTS_CERTS, address]);
  return makeHost(index, address, ENGINE_HOSTS_CERTS);
}

function makeHost(index: number, address: string, certs: string): EngineHost {
  const name = `host${index}`;
  const netns = `${NETNS_PREFIX}${index}`;
  const dir = join(ENGINE_HOSTS_DIR, name);
  const hostLink = `sfengh${index}`;
  const cgroupParent = cgroupParentOf(index);
  mkdirSync(dir, { recursive: true });
  run("ip", ["netns", "add", netns]);
  run("ip", ["link", "add", hostLink, "type", "veth", "peer", "name", `sfengn${index}`]);
  run("ip", ["link", "set", `sfengn${index}`, "netns", netns]);
  run("ip", ["addr", "add", `10.213.${index}.1/30`, "dev", hostLink]);
  run("ip", ["link", "set", hostLink, "up"]);
  const inside = (args: string[]) => run("nsenter", [`--net=/var/run/netns/${netns}`, ...args]);
  inside(["ip", "addr", "add", `${address}/30`, "dev", `sfengn${index}`]);
  inside(["ip", "link", "set", `sfengn${index}`, "up"]);
  inside(["ip", "link", "set", "lo", "up"]);
  const containerdSocket = join(dir, "containerd.sock");
  const config = join(dir, "containerd.toml");
  run("bash", [
    "-c",
    `cat > ${config} <<EOF
version = 2
root = "${dir}/containerd-root"
state = "${dir}/containerd-state"
[grpc]
  address = "${containerdSocket}"
[ttrpc]
  address = "${containerdSocket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF`,
  ]);
  const spec = parseEngines([
    {
      name,
      host: `tcp://${address}:${PORT}`,
      tls: {
        ca: join(certs, "ca.pem"),
        cert: join(certs, "cert.pem"),
        key: join(certs, "key.pem"),
      },
      capacity: 64,
    },
  ])[0]!;
  const docker = new Docker(engineConnection(spec));
  const spawnInside = (args: string[], log: string): ChildProcess => {
    const child = spawn("nsenter", [`--net=/var/run/netns/${netns}`, ...args], {
      detached: true,
      stdio: ["ignore", openSync(join(dir, log), "a"), openSync(join(dir, log), "a")],
    });
    child.unref();
    return child;
  };
  let containerd: ChildProcess | undefined;
  let dockerd: ChildProcess | undefined;
  return {
    index,
    name,
    address,
    spec,
    docker,
    cgroupParent,
    dir,
    netns,
    containerdSocket,
    async startContainerd() {
      containerd = spawnInside(["containerd", "--config", config], "containerd.log");
      for (let tries = 0; tries < 100 && !existsSync(containerdSocket); tries++)
        await new Promise((done) => setTimeout(done, 50));
    },
    async start() {
      await this.startContainerd();
      dockerd = spawnInside(
        [
          "dockerd",
          "--containerd",
          containerdSocket,
          "--data-root",
          join(dir, "data"),
          "--exec-root",
          join(dir, "exec"),
          "--pidfile",
          join(dir, "docker.pid"),
          "--cgroup-parent",
          cgroupParent,
          "-H",
          `unix://${join(dir, "docker.sock")}`,
          "-H",
          `tcp://${address}:${PORT}`,
          "--tlsverify",
          "--tlscacert",
          join(certs, "ca.pem"),
          "--tlscert",
          join(certs, `server-${address}-cert.pem`),
          "--tlskey",
          join(certs, `server-${address}-key.pem`),
          "--bridge=none",
          "--iptables=false",
          "--ip-forward=false",
        ],
        "dockerd.log",
      );
      for (let tries = 0; tries < 300; tries++) {
        try {
          await docker.ping();
          return;
        } catch {
          await new Promise((done) => setTimeout(done, 100));
        }
      }
      throw new Error(
        `engine host ${name} did not answer at ${spec.host} within 30 s; see ${join(dir, "dockerd.log")}`,
      );
    },
    async kill() {
      const children = [dockerd, containerd].filter(
        (child): child is ChildProcess => child?.pid !== undefined && child.exitCode === null,
      );
      const exits = children.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) done();
            else child.once("exit", () => done());
          }),
      );
      // Held while waiting: an unreferenced child's exit alone keeps no process alive.
      for (const child of children) child.ref();
      killAll(children.map((child) => child.pid!));
      await Promise.all(exits);
      rmSync(join(dir, "docker.pid"), { force: true });
    },
    setLink(up: boolean) {
      run("ip", ["link", "set", hostLink, up ? "up" : "down"]);
    },
    setBlackhole(on: boolean) {
      // Inside the namespace, on the way back: the farm's packets arrive and nothing answers.
      const route = ["ip", "route", on ? "add" : "del", "blackhole", `10.213.${index}.1/32`];
      if (on) inside(route);
      else quiet("nsenter", [`--net=/var/run/netns/${netns}`, ...route]);
    },
  };
}

/** Containers (any state) the engine host runs, through its own unix socket. */
export async function containersOn(host: EngineHost): Promise<string[]> {
  const local = new Docker({ socketPath: join(host.dir, "docker.sock") });
  return (await local.listContainers({ all: true })).map((info) => info.Id);
}
