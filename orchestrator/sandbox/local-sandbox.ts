/**
 * The local backend: sandboxes without Docker, from bubblewrap over the sandbox image's own root
 * filesystem (the offline build's debootstrap directory), never over the host's. Each sandbox is
 * an overlay of that root filesystem (its writes go to its own upper directory), in its own
 * mount, pid, ipc, uts, network and cgroup namespaces, limited by a cgroup of its own; the
 * overlay is mounted inside the sandbox's mount namespace, never on the host. The
 * runner is its main process; file requests go through the runner too, so a path or a symlink
 * the model planted is resolved inside the sandbox, never on the host.
 *
 * Needs root (it mounts the overlay and makes cgroups) and Debian's `bubblewrap`. Only network
 * `none` is offered: there is no bridge to attach a sandbox to.
 *
 * @example
 * const sandbox = await new LocalBackend(parseSandboxConfig()).create();
 * try { await sandbox.exec("python3 -c 'print(1)'"); } finally { await sandbox.close(); }
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, posix } from "node:path";
import { getSystemErrorName, promisify } from "node:util";
import { ConfigError } from "../../common/errors.js";
import { SandboxLostError, SandboxPathError, type SandboxPathProblem } from "./errors.js";
import { type RawCommandOutput, RunnerChannel, type RunnerTransport } from "./command-channel.js";
import type { SandboxConfig } from "./config.js";
import { RUNNER_SCRIPT } from "./exec-helper.js";
import { classifyCommandOutcome } from "./command-outcome.js";
import { processAlive } from "./labels.js";
import { checkRelativePath } from "./tar.js";
import type { ExecOptions, ExecResult, FileRead, FileToWrite, Sandbox } from "./types.js";

const execFileAsync = promisify(execFile);

export function stateDir(): string {
  return process.env.SANDFARM_STATE_DIR ?? "/var/lib/sandfarm";
}

/** The root filesystem the offline image build kept (deploy/image/build.sh), if any. */
export function defaultRootfs(): string | undefined {
  const dir = join(stateDir(), "rootfs");
  if (!existsSync(dir)) return undefined;
  const complete = readdirSync(dir).filter((name) =>
    existsSync(join(dir, name, ".sandfarm-complete")),
  );
  return complete.length > 0 ? join(dir, complete.sort().at(-1)!) : undefined;
}

/** Docker's defaults minus config.ts's drops (docs/architecture.md, "Sandbox conventions"). */
const KEPT_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
];
const CGROUP_CONTROLLERS = ["memory", "pids", "cpu"] as const;
const CGROUP_ROOT = "/sys/fs/cgroup";

let unifiedCgroups: boolean | undefined;

/** Whether the host runs cgroup v2 (asked once: the answer does not change while sandfarm runs). */
function cgroupV2(): boolean {
  unifiedCgroups ??= existsSync(join(CGROUP_ROOT, "cgroup.controllers"));
  return unifiedCgroups;
}

/**
 * The sandbox's cgroup directories (one per controller on v1, one on v2), with its limits set.
 * Asynchronous throughout, like all of this backend's file work: cgroup and overlay directories
 * are slow to make and remove, and the farm's event loop serves every rollout meanwhile.
 */
async function makeCgroups(id: string, config: SandboxConfig): Promise<string[]> {
  const memory = String(config.memoryMb * 1024 * 1024);
  const quota = String(Math.round(config.cpus * 100_000));
  if (cgroupV2()) {
    const parent = join(CGROUP_ROOT, "sandfarm");
    await mkdir(parent, { recursive: true });
    await writeFile(join(CGROUP_ROOT, "cgroup.subtree_control"), "+memory +pids +cpu");
    await writeFile(join(parent, "cgroup.subtree_control"), "+memory +pids +cpu");
    const dir = join(parent, id);
    await mkdir(dir);
    await writeFile(join(dir, "memory.max"), memory);
    await writeFile(join(dir, "memory.swap.max"), "0");
    await writeFile(join(dir, "pids.max"), String(config.pidsLimit));
    await writeFile(join(dir, "cpu.max"), `${quota} 100000`);
    return [dir];
  }
  const dirs = CGROUP_CONTROLLERS.map((controller) =>
    join(CGROUP_ROOT, controller, "sandfarm", id),
  );
  for (const dir of dirs) await mkdir(dir, { recursive: true });
  const [memoryDir, pidsDir, cpuDir] = dirs as [string, string, string];
  await writeFile(join(memoryDir, "memory.limit_in_bytes"), memory);
  // Swap equal to memory, as with Docker; absent when the kernel does no swap accounting.
  if (existsSync(join(memoryDir, "memory.memsw.limit_in_bytes"))) {
    await writeFile(join(memoryDir, "memory.memsw.limit_in_bytes"), memory);
  }
  await writeFile(join(pidsDir, "pids.max"), String(config.pidsLimit));
  await writeFile(join(cpuDir, "cpu.cfs_period_us"), "100000");
  await writeFile(join(cpuDir, "cpu.cfs_quota_us"), quota);
  return dirs;
}

async function removeCgroups(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const procs = (await readFile(join(dir, "cgroup.procs"), "utf8"))
          .split("\n")
          .filter(Boolean);
        for (const pid of procs) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            // Already gone.
          }
        }
        await rmdir(dir);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") break;
        // Processes are still dying.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

interface Owner {
  host: string;
  pid: number;
  expiresAt: number;
}

export class LocalBackend {
  readonly rootfs: string;

  constructor(
    readonly config: SandboxConfig,
    rootfs = defaultRootfs(),
  ) {
    const problem = LocalBackend.problem(config, rootfs);
    if (problem) throw new ConfigError(problem);
    this.rootfs = rootfs!;
  }

  /** Why the local backend cannot run here with this config, or undefined. */
  static problem(config: SandboxConfig, rootfs = defaultRootfs()): string | undefined {
    if (process.getuid?.() !== 0)
      return "the local backend needs root (it mounts an overlay and makes cgroups)";
    if (!existsSync("/usr/bin/bwrap"))
      return "the local backend needs bubblewrap: apt-get install bubblewrap";
    if (!rootfs || !existsSync(join(rootfs, ".sandfarm-complete"))) {
      return `the local backend needs the image's root filesystem in ${join(stateDir(), "rootfs")}: run 'bash deploy/image/build.sh'`;
    }
    if (config.network !== "none") {
      return `sandbox.network '${config.network}' is not available on the local backend: use none`;
    }
    if (config.runtime)
      return `sandbox.runtime applies to the docker backend only; unset it for the local backend`;
    return undefined;
  }

  async create(): Promise<LocalSandbox> {
    const id = randomBytes(6).toString("hex");
    const dir = join(stateDir(), "local", id);
    const [upper, work, merged] = ["upper", "work", "merged"].map((name) => join(dir, name)) as [
      string,
      string,
      string,
    ];
    for (const path of [upper, work, merged]) await mkdir(path, { recursive: true });
    const owner: Owner = {
      host: hostname(),
      pid: process.pid,
      expiresAt: Date.now() + this.config.ttlS * 1000,
    };
    await writeFile(join(dir, "owner.json"), JSON.stringify(owner));
    let cgroups: string[] = [];
    try {
      cgroups = await makeCgroups(id, this.config);
      const child = this.spawnSandbox(
        { overlay: `lowerdir=${this.rootfs},upperdir=${upper},workdir=${work}`, merged },
        cgroups,
      );
      const sandbox = new LocalSandbox(id, dir, cgroups, child, this.config);
      await sandbox.start();
      return sandbox;
    } catch (error) {
      await teardown(dir, cgroups);
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`could not start a local sandbox: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Removes local sandboxes whose owner process is gone or whose TTL passed. */
  async collectGarbage(): Promise<{ id: string; reason: string }[]> {
    const root = join(stateDir(), "local");
    if (!existsSync(root)) return [];
    const removed: { id: string; reason: string }[] = [];
    for (const id of readdirSync(root)) {
      const dir = join(root, id);
      let reason: string | undefined;
      try {
        const owner = JSON.parse(readFileSync(join(dir, "owner.json"), "utf8")) as Owner;
        if (owner.expiresAt <= Date.now()) reason = "ttl expired";
        else if (owner.host === hostname() && !processAlive(owner.pid))
          reason = `owner pid ${owner.pid} is gone`;
      } catch {
        reason = "no owner record";
      }
      if (!reason) continue;
      const cgroups = cgroupV2()
        ? [join(CGROUP_ROOT, "sandfarm", id)]
        : CGROUP_CONTROLLERS.map((controller) => join(CGROUP_ROOT, controller, "sandfarm", id));
      await teardown(dir, cgroups, { hostMount: true });
      removed.push({ id, reason });
    }
    return removed;
  }

  /**
   * One process start per sandbox: `unshare` gives the shell a mount namespace of its own, the
   * shell joins the sandbox's cgroups (so nothing escapes them), mounts the overlay there and
   * becomes bwrap. The overlay is mounted only in that namespace, so it goes with the sandbox's
   * last process and the host's mount table never sees it: nothing to unmount. (A start costs
   * a fork of the farm's process, which is far from free.)
   */
  private spawnSandbox(root: { overlay: string; merged: string }, cgroups: string[]): ChildProcess {
    // The memory controller's directory comes first on v1; v2 has one directory.
    const memoryCgroup = cgroups[0]!;
    const cgroupMount = cgroupV2() ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    const env = Object.entries({
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: "/root",
      LANG: "C.UTF-8",
      PYTHONUNBUFFERED: "1",
      ...this.config.env,
    }).flatMap(([key, value]) => ["--setenv", key, value]);
    const bwrap = [
      "--bind",
      root.merged,
      "/",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--ro-bind",
      memoryCgroup,
      cgroupMount,
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-net",
      "--unshare-cgroup-try",
      "--die-with-parent",
      "--new-session",
      "--hostname",
      "sandfarm",
      "--chdir",
      "/testbed",
      "--clearenv",
      ...env,
      "--cap-drop",
      "ALL",
      ...KEPT_CAPABILITIES.flatMap((cap) => ["--cap-add", cap]),
      "--",
      "perl",
      "-e",
      RUNNER_SCRIPT,
    ];
    const setUp = [
      'for cg in $SANDFARM_CGROUPS; do echo $$ > "$cg/cgroup.procs" || exit 97; done',
      'mount -t overlay overlay -o "$SANDFARM_OVERLAY" "$SANDFARM_MERGED" ||' +
        ' { echo "could not mount the sandbox\'s overlay filesystem" >&2; exit 98; }',
      'exec "$@"',
    ].join("; ");
    return spawn(
      "/usr/bin/unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        setUp,
        "sh",
        "/usr/bin/bwrap",
        ...bwrap,
      ],
      {
        env: {
          PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
          SANDFARM_CGROUPS: cgroups.join(" "),
          SANDFARM_OVERLAY: root.overlay,
          SANDFARM_MERGED: root.merged,
        },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
  }
}

/** `hostMount`: the sandbox may predate per-sandbox mount namespaces (garbage collection). */
async function teardown(
  dir: string,
  cgroups: readonly string[],
  options: { hostMount?: boolean } = {},
): Promise<void> {
  await removeCgroups(cgroups);
  const merged = join(dir, "merged");
  // Sandboxes made before the overlay moved into their own mount namespace had it mounted on
  // the host: a collected one of those still needs its unmount.
  if (options.hostMount && (await isMountPoint(merged))) {
    await execFileAsync("umount", [merged]).catch(() =>
      execFileAsync("umount", ["-l", merged]).catch(() => undefined),
    );
  }
  await rm(dir, { recursive: true, force: true });
}

async function isMountPoint(path: string): Promise<boolean> {
  try {
    return (await readFile("/proc/self/mountinfo", "utf8"))
      .split("\n")
      .some((line) => line.split(" ")[4] === path);
  } catch {
    return false;
  }
}

function processTransport(child: ChildProcess): RunnerTransport {
  const exited = new Promise<number | undefined>((resolve) =>
    child.once("exit", (code) => resolve(code ?? undefined)),
  );
  // A write racing the runner's death fails with EPIPE; the exit itself is what ends the
  // channel (onEnd), so the pipe's error is expected and must not become an uncaught exception.
  for (const pipe of [child.stdin, child.stdout, child.stderr]) pipe?.on("error", () => undefined);
  return {
    write: (bytes) => void child.stdin?.write(bytes),
    onFrames: (listener) => child.stdout?.on("data", listener),
    onStderr: (listener) => child.stderr?.on("data", listener),
    onEnd: (listener) => {
      child.once("exit", listener);
      child.once("error", listener);
    },
    exitCode: () => exited,
    destroy: () => void child.kill("SIGKILL"),
  };
}

/** "not a directory (ENOTDIR)" for errno 20: what a person reads in a path error. */
function describeErrno(errno: number): string {
  let name = `errno ${errno}`;
  try {
    name = getSystemErrorName(-errno);
  } catch {
    // Not a known errno; keep the number.
  }
  const words: Record<string, string> = {
    ENOENT: "no such file or directory",
    ENOTDIR: "not a directory",
    EISDIR: "is a directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOSPC: "no space left on the device",
  };
  return words[name] ? `${words[name]} (${name})` : name;
}

const PROBLEMS: Record<string, SandboxPathProblem> = {
  not_found: "not_found",
  is_directory: "is_directory",
  not_regular_file: "not_regular_file",
  too_large: "too_large",
};

export class LocalSandbox implements Sandbox {
  private closed = false;
  private expired = false;
  private queue: Promise<unknown> = Promise.resolve();
  private runner?: RunnerChannel;
  private readonly ttlTimer: NodeJS.Timeout;
  readonly execPath = "runner";

  /** The host pid of the sandbox's outermost process (bwrap). */
  get hostPid(): number | undefined {
    return this.child.pid;
  }

  constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly cgroups: readonly string[],
    private readonly child: ChildProcess,
    private readonly config: SandboxConfig,
  ) {
    this.ttlTimer = setTimeout(() => {
      this.expired = true;
      this.runner?.close();
      this.child.kill("SIGKILL");
    }, config.ttlS * 1000);
    this.ttlTimer.unref();
  }

  async start(): Promise<void> {
    this.runner = await RunnerChannel.open(processTransport(this.child));
  }

  warmUp(): Promise<boolean> {
    return Promise.resolve(this.runner?.isAlive ?? false);
  }

  async isResponsive(timeoutMs = 2000): Promise<boolean> {
    return !this.closed && (await (this.runner?.ping(timeoutMs) ?? false));
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutS = options.timeoutS ?? this.config.commandTimeoutS;
    return this.serial(async (runner) => {
      if (!(timeoutS > 0)) {
        throw new ConfigError(`timeoutS must be a positive number of seconds, got ${timeoutS}`);
      }
      const started = performance.now();
      const raw: RawCommandOutput = await runner.run(
        command,
        timeoutS,
        this.config.captureCapBytes,
      );
      return classifyCommandOutcome(raw, {
        capBytes: this.config.captureCapBytes,
        pidsLimit: this.config.pidsLimit,
        timeoutS,
        durationMs: Math.round(performance.now() - started),
        confirmAlive: () => Promise.resolve(runner.isAlive ? true : this.lost()),
      });
    });
  }

  writeFiles(dir: string, files: readonly FileToWrite[]): Promise<void> {
    return this.serial(async (runner) => {
      if (!dir.startsWith("/")) {
        throw new ConfigError(`directory '${dir}' must be absolute, e.g. /testbed/documents`);
      }
      const targets = files.map((file) => ({
        ...file,
        path: posix.join(dir, checkRelativePath(file.path)),
      }));
      for (const file of targets) {
        const content =
          typeof file.content === "string" ? Buffer.from(file.content, "utf8") : file.content;
        const errno = await runner.writeFile(
          file.path,
          content,
          file.mode ?? 0o644,
          file.uid ?? 0,
          file.gid ?? 0,
        );
        if (errno !== 0)
          throw new SandboxPathError(
            file.path,
            "rejected",
            `cannot write ${file.path}: ${describeErrno(errno)}`,
          );
      }
    });
  }

  readFile(path: string, maxBytes = 64 * 1024 * 1024): Promise<FileRead> {
    return this.serial(async (runner) => {
      if (!path.startsWith("/")) {
        throw new ConfigError(`path '${path}' must be absolute, e.g. /testbed/answer.txt`);
      }
      const read = await runner.readFile(posix.normalize(path), maxBytes);
      if (read.ok)
        return {
          path: read.path ?? path,
          content: read.content,
          mode: read.mode,
          uid: read.uid,
          gid: read.gid,
        };
      const problem = PROBLEMS[read.problem ?? ""] ?? "rejected";
      const messages: Record<SandboxPathProblem, string> = {
        not_found: `${path} does not exist`,
        is_directory: `${path} is a directory`,
        not_regular_file: `${path} is not a regular file`,
        too_large: `${path} is over the ${maxBytes}-byte read limit`,
        rejected: `cannot read ${path}: ${describeErrno(read.errno ?? -1)}`,
      };
      throw new SandboxPathError(path, problem, messages[problem]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ttlTimer);
    this.runner?.close();
    this.child.kill("SIGKILL");
    await teardown(this.dir, this.cgroups);
  }

  private serial<T>(body: (runner: RunnerChannel) => Promise<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(new ConfigError(`sandbox ${this.id} is closed; acquire a new one`));
    }
    const turn = this.queue.then(async () => {
      const runner = this.runner;
      if (!runner?.isAlive) throw this.lost();
      return body(runner);
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * The runner is the sandbox's main process here: when it is gone, so is the sandbox. Unless
   * sandfarm closed it, only the model's own commands can have killed it (docs/architecture.md,
   * "Stop reasons").
   */
  private lost(): SandboxLostError {
    if (this.expired) {
      return new SandboxLostError(
        `local sandbox ${this.id} reached its TTL (${this.config.ttlS} s) and was removed`,
        false,
      );
    }
    // Killed from outside, bwrap ends by a signal; when a command inside kills the runner,
    // bwrap ends with an exit code.
    if (this.child.signalCode !== null) {
      return new SandboxLostError(
        `local sandbox ${this.id} was killed from outside sandfarm (${this.child.signalCode})`,
        false,
      );
    }
    return new SandboxLostError(
      `local sandbox ${this.id} is gone: a command killed its runner (e.g. kill -9 -1), which ends the sandbox on the local backend`,
      true,
    );
  }
}
