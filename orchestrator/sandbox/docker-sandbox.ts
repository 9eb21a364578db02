/**
 * Docker sandboxes: one hardened container per episode (runc or gVisor's runsc), commands through
 * the in-sandbox runner (or one `docker exec` of the helper each), files through tar archives,
 * deaths from the engine's events.
 *
 * @example
 * const backend = new DockerBackend(parseSandboxConfig({ network: "none" }));
 * const sandbox = await backend.create();
 * try {
 *   const result = await sandbox.exec("python3 -c 'print(6*7)'", { timeoutS: 10 });
 * } finally {
 *   await sandbox.close();
 * }
 */
import { randomUUID } from "node:crypto";
import { posix } from "node:path";
import Docker from "dockerode";
import { ConfigError, InfrastructureError, SandfarmError } from "../../common/errors.js";
import { DiskLimitError, SandboxLostError, SandboxPathError } from "./errors.js";
import { DROPPED_CAPABILITIES, type SandboxConfig } from "./config.js";
import {
  type RawCommandOutput,
  RunnerChannel,
  dockerRunnerTransport,
  runOneShot,
} from "./command-channel.js";
import { type ContainerDeath, DeathWatch } from "./death-watch.js";
import { KEEPER_SCRIPT } from "./exec-helper.js";
import { classifyCommandOutcome } from "./command-outcome.js";
import { LABEL_EXPIRES_AT, LABEL_MANAGED, orphanReason, sandboxLabels } from "./labels.js";
import { extractFirstEntry, packFiles } from "./tar.js";
import type { ExecOptions, ExecResult, FileRead, FileToWrite, Sandbox } from "./types.js";

/** A command longer than this goes through a file instead of argv (Linux caps one arg at 128 KiB). */
const MAX_COMMAND_ARG_BYTES = 96 * 1024;
/** Files the editor may read back whole. */
const DEFAULT_READ_LIMIT_BYTES = 64 * 1024 * 1024;
const MAX_SYMLINK_HOPS = 8;
const STATE_SETTLE_ATTEMPTS = 20;
const STATE_SETTLE_INTERVAL_MS = 100;
/** After a command, the writable layer is measured again at most this often. */
const DISK_CHECK_AFTER_COMMAND_MS = 5000;

function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

function dockerMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } } | null)?.json;
  if (json?.message) return json.message;
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
}

/** The engine sandfarm talks to: `DOCKER_HOST` when set, else the default socket. */
export function connectDocker(): Docker {
  return new Docker();
}

/** Creates hardened Docker sandboxes from one config, and reaps those a dead farm left behind. */
export class DockerBackend {
  private readonly deaths: DeathWatch;

  constructor(
    readonly config: SandboxConfig,
    readonly docker: Docker = connectDocker(),
  ) {
    this.deaths = new DeathWatch(docker);
  }

  /** Called when the engine's events stream ends while sandboxes run (the fleet checks it). */
  set onEventsLost(listener: (() => void) | undefined) {
    this.deaths.onLost = listener;
  }

  async create(): Promise<DockerSandbox> {
    const { config } = this;
    const labels = sandboxLabels(config.runId, config.ttlS);
    const memoryBytes = config.memoryMb * 1024 * 1024;
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        Image: config.image,
        Entrypoint: ["perl", "-e", KEEPER_SCRIPT],
        Cmd: [String(config.ttlS)],
        WorkingDir: "/testbed",
        Env: Object.entries(config.env).map(([key, value]) => `${key}=${value}`),
        Labels: labels,
        NetworkDisabled: config.network === "none",
        HostConfig: {
          AutoRemove: true,
          Memory: memoryBytes,
          MemorySwap: memoryBytes,
          NanoCpus: Math.round(config.cpus * 1e9),
          PidsLimit: config.pidsLimit,
          CapDrop: DROPPED_CAPABILITIES,
          SecurityOpt: ["no-new-privileges"],
          NetworkMode: config.network,
          ...(config.runtime ? { Runtime: config.runtime } : {}),
        },
      });
    } catch (error) {
      throw this.createError(error);
    }
    try {
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw this.createError(error);
    }
    const sandbox = new DockerSandbox(container, config, Number(labels[LABEL_EXPIRES_AT]) * 1000);
    sandbox.stopWatching = await this.deaths.watch(container.id, (death) =>
      sandbox.containerDied(death),
    );
    return sandbox;
  }

  private createError(error: unknown): Error {
    const message = dockerMessage(error);
    const code = statusCodeOf(error);
    if (code === 404 && /image/i.test(message)) {
      return new ConfigError(
        `sandbox.image '${this.config.image}' is not in the engine: build it with 'bash deploy/image/build.sh' or set sandbox.image to an image you have`,
        { cause: error },
      );
    }
    if (/runtime/i.test(message) && this.config.runtime) {
      return new ConfigError(
        `sandbox.runtime '${this.config.runtime}' is not registered with the engine (${message}); register it in the daemon config or unset sandbox.runtime`,
        { cause: error },
      );
    }
    if (/network/i.test(message) && code === 404) {
      return new ConfigError(
        `sandbox.network '${this.config.network}' does not exist: use none, bridge, or create it with 'docker network create'`,
        { cause: error },
      );
    }
    return new InfrastructureError(`could not start a sandbox: ${message}`, { cause: error });
  }

  /** Removes labelled containers whose TTL passed or whose owner process is gone. */
  async collectGarbage(): Promise<{ id: string; reason: string }[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`] },
    });
    const removed: { id: string; reason: string }[] = [];
    for (const info of containers) {
      const reason = orphanReason(info.Labels);
      if (!reason) continue;
      try {
        await this.docker.getContainer(info.Id).remove({ force: true });
        removed.push({ id: info.Id, reason });
      } catch (error) {
        const code = statusCodeOf(error);
        if (code !== 404 && code !== 409) throw error;
      }
    }
    return removed;
  }
}

/** How long a vanished container's death event is waited for before it is attributed. */
const DEATH_EVENT_WAIT_MS = 3000;

export class DockerSandbox implements Sandbox {
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private runner?: RunnerChannel;
  private runnerUnusable = false;
  /** Why the runner could not start, when commands fell back to one exec each. */
  runnerProblem?: string;
  /** Ends the engine's death notifications for this sandbox; set by the backend. */
  stopWatching?: () => void;
  /** Aborts the command in flight on the per-call path. */
  private inFlight?: AbortController;

  constructor(
    private readonly container: Docker.Container,
    private readonly config: SandboxConfig,
    private readonly expiresAtMs: number,
  ) {}

  get id(): string {
    return this.container.id;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.assertOpen();
    const timeoutS = options.timeoutS ?? this.config.commandTimeoutS;
    if (!(timeoutS > 0)) {
      throw new ConfigError(`timeoutS must be a positive number of seconds, got ${timeoutS}`);
    }
    // One command at a time: the runner serves one, and a model's turns are sequential anyway.
    const turn = this.queue.then(() => this.execNow(command, timeoutS));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Starts the runner now rather than on the first command (a warm pool does this). Returns
   * false when the image has no usable runner, so commands will use one exec each.
   */
  async warmUp(): Promise<boolean> {
    this.assertOpen();
    if (this.config.execMode !== "runner") return false;
    return (await this.ensureRunner()) !== undefined;
  }

  /** True when the sandbox answers: the runner's ping, or a probe command without a runner. */
  async isResponsive(timeoutMs = 2000): Promise<boolean> {
    if (this.closed || this.lost) return false;
    if (this.runner?.isAlive) return this.runner.ping(timeoutMs);
    return (await this.confirmAlive()) === true;
  }

  /** Which path commands take now: `runner`, or `exec` (one docker exec each). */
  get execPath(): "runner" | "exec" {
    return this.config.execMode === "runner" && !this.runnerUnusable ? "runner" : "exec";
  }

  /** How the container died, from the engine's events (kept for after AutoRemove). */
  private death?: ContainerDeath;
  private readonly deathWaiters: (() => void)[] = [];

  /**
   * The death event, waited for up to `ms`: under load AutoRemove can take the container before
   * its events arrive, and without them an OOM kill would read as a removal from outside.
   */
  private async deathEvent(ms: number): Promise<ContainerDeath | undefined> {
    if (this.death) return this.death;
    let timer: NodeJS.Timeout | undefined;
    let waiter: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      waiter = resolve;
      this.deathWaiters.push(resolve);
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    const index = this.deathWaiters.indexOf(waiter!);
    if (index !== -1) this.deathWaiters.splice(index, 1);
    return this.death;
  }

  /**
   * The engine says the container died: end the command in flight now, since its exec stream
   * may never end by itself (gVisor). The command's result then reports the loss.
   */
  containerDied(death: ContainerDeath): void {
    this.death = death;
    for (const waiter of this.deathWaiters.splice(0)) waiter();
    this.runner?.close();
    this.inFlight?.abort();
  }

  /** Set once the sandbox wrote past `diskLimitMb`: every call fails with it. */
  private diskFull?: DiskLimitError;
  /** When the writable layer was last measured (ms since epoch). */
  private diskCheckedAt = 0;

  /**
   * Measures the writable layer against `diskLimitMb`; past it, stops the sandbox (its writes
   * end there) and ends the command in flight. `force` measures even if it did within 5 s.
   */
  private async checkDisk(force: boolean): Promise<void> {
    const limitMb = this.config.diskLimitMb;
    if (limitMb === 0 || this.diskFull || this.closed || this.lost) return;
    if (!force && Date.now() - this.diskCheckedAt < DISK_CHECK_AFTER_COMMAND_MS) return;
    this.diskCheckedAt = Date.now();
    let bytes: number;
    try {
      // `size` asks the engine to measure the writable layer (dockerode passes it as the query).
      const inspected = (await this.container.inspect({ size: true } as object)) as {
        SizeRw?: number;
      };
      bytes = inspected.SizeRw ?? 0;
    } catch {
      return; // Gone or unreachable: the command's own result says so.
    }
    if (bytes <= limitMb * 1024 * 1024 || this.diskFull) return;
    this.diskFull = new DiskLimitError(Math.round(bytes / 1024 / 1024), limitMb, this.id);
    this.diskStopped = this.container.kill().then(
      () => undefined,
      () => undefined,
    );
    this.runner?.close();
    this.inFlight?.abort();
    await this.diskStopped;
  }

  /** The kill that stops a sandbox past its disk limit; the error is thrown once it is done. */
  private diskStopped?: Promise<void>;

  private async diskFailure(): Promise<DiskLimitError> {
    await this.diskStopped;
    return this.diskFull!;
  }

  /** Samples the disk every `diskSampleMs` while `work` runs. */
  private async watchingDisk<T>(work: Promise<T>): Promise<T> {
    if (this.config.diskLimitMb === 0) return work;
    const timer = setInterval(() => void this.checkDisk(true), this.config.diskSampleMs);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  /** Set once the fleet has ejected this sandbox's engine: every call fails with it. */
  private lost?: InfrastructureError;

  /**
   * The fleet ejected the engine this sandbox runs on (it stopped answering): the command in
   * flight ends now rather than at its timeout, and every later call fails, as infrastructure.
   * `close()` then leaves the container to the fleet, which reaps it if the engine comes back.
   */
  engineLost(reason: string): void {
    this.lost ??= new InfrastructureError(`sandbox ${this.id} lost its engine: ${reason}`);
    for (const waiter of this.deathWaiters.splice(0)) waiter();
    this.runner?.close();
    this.inFlight?.abort();
  }

  private async execNow(command: string, timeoutS: number): Promise<ExecResult> {
    const started = performance.now();
    const cap = this.config.captureCapBytes;
    let raw: RawCommandOutput;
    try {
      const runner = this.config.execMode === "runner" ? await this.ensureRunner() : undefined;
      raw = await this.watchingDisk(
        runner ? runner.run(command, timeoutS, cap) : this.runThroughExec(command, timeoutS, cap),
      );
    } catch (error) {
      if (this.diskFull) throw await this.diskFailure();
      if (this.lost) throw this.lost;
      if (error instanceof SandfarmError) throw error;
      throw await this.failure(error, "could not run a command");
    }
    // A quick command can write a lot between samples.
    await this.checkDisk(false);
    if (this.diskFull) throw await this.diskFailure();
    const durationMs = Math.round(performance.now() - started);
    return classifyCommandOutcome(raw, {
      capBytes: this.config.captureCapBytes,
      pidsLimit: this.config.pidsLimit,
      timeoutS,
      durationMs,
      confirmAlive: () => this.confirmAlive(),
    });
  }

  private async runThroughExec(
    command: string,
    timeoutS: number,
    cap: number,
  ): Promise<RawCommandOutput> {
    let commandFile: string | undefined;
    if (Buffer.byteLength(command, "utf8") > MAX_COMMAND_ARG_BYTES) {
      const name = `.sandfarm-cmd-${randomUUID()}`;
      await this.writeFiles("/tmp", [{ path: name, content: command, mode: 0o600 }]);
      commandFile = `/tmp/${name}`;
    }
    this.inFlight = new AbortController();
    try {
      return await runOneShot(
        this.container,
        command,
        commandFile,
        timeoutS,
        cap,
        this.inFlight.signal,
      );
    } finally {
      this.inFlight = undefined;
    }
  }

  /** The live runner, started (or restarted after the model killed it) as needed. */
  private async ensureRunner(): Promise<RunnerChannel | undefined> {
    if (this.runnerUnusable) return undefined;
    if (this.runner?.isAlive) return this.runner;
    try {
      this.runner = await RunnerChannel.open(await dockerRunnerTransport(this.container));
      return this.runner;
    } catch (error) {
      const alive = await this.checkAlive();
      if (alive !== true) throw alive;
      // The image cannot run the runner (no perl?): fall back to one exec per command.
      this.runnerUnusable = true;
      this.runnerProblem = error instanceof Error ? error.message : String(error);
      return undefined;
    }
  }

  async writeFiles(dir: string, files: readonly FileToWrite[]): Promise<void> {
    this.assertOpen();
    if (!dir.startsWith("/"))
      throw new ConfigError(`directory '${dir}' must be absolute, e.g. /testbed/documents`);
    const archive = await packFiles(files);
    try {
      await this.container.putArchive(archive, { path: dir });
    } catch (error) {
      if (statusCodeOf(error) !== 404 || !(await this.containerRunning())) {
        throw await this.pathFailure(error, dir, `cannot write files to ${dir}`);
      }
      const made = await this.exec(`mkdir -p -- '${dir.replaceAll("'", "'\\''")}'`, {
        timeoutS: 30,
      });
      if (made.exitCode !== 0) {
        throw new SandboxPathError(
          dir,
          "rejected",
          `cannot create directory ${dir}: ${made.stderr.trim()}`,
        );
      }
      try {
        await this.container.putArchive(archive, { path: dir });
      } catch (retryError) {
        throw await this.pathFailure(retryError, dir, `cannot write files to ${dir}`);
      }
    }
  }

  async readFile(path: string, maxBytes = DEFAULT_READ_LIMIT_BYTES): Promise<FileRead> {
    this.assertOpen();
    if (!path.startsWith("/"))
      throw new ConfigError(`path '${path}' must be absolute, e.g. /testbed/answer.txt`);
    let current = posix.normalize(path);
    for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop++) {
      let archive: NodeJS.ReadableStream;
      try {
        archive = await this.container.getArchive({ path: current });
      } catch (error) {
        if (statusCodeOf(error) === 404 && (await this.containerRunning())) {
          throw new SandboxPathError(path, "not_found", `${path} does not exist`);
        }
        throw await this.pathFailure(error, path, `cannot read ${path}`);
      }
      const entry = await extractFirstEntry(archive, maxBytes).catch((error: unknown) => {
        if (error instanceof ConfigError)
          throw new SandboxPathError(path, "too_large", `${path}: ${error.message}`);
        throw error;
      });
      if (entry.kind === "file" && entry.file) return { path: current, ...entry.file };
      if (entry.kind === "directory")
        throw new SandboxPathError(path, "is_directory", `${path} is a directory`);
      if (entry.kind === "symlink" && entry.linkTarget) {
        current = posix.resolve(posix.dirname(current), entry.linkTarget);
        continue;
      }
      throw new SandboxPathError(path, "not_regular_file", `${path} is not a regular file`);
    }
    throw new SandboxPathError(
      path,
      "not_regular_file",
      `${path}: too many levels of symbolic links`,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching?.();
    this.runner?.close();
    // Its engine does not answer: a removal would hang; the fleet reaps it on readmission.
    if (this.lost) return;
    try {
      await this.container.remove({ force: true });
    } catch (error) {
      const code = statusCodeOf(error);
      // 404: already gone (AutoRemove, TTL). 409: removal already in progress.
      if (code !== 404 && code !== 409) {
        throw new InfrastructureError(
          `could not remove sandbox ${this.id}: ${dockerMessage(error)}`,
          { cause: error },
        );
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ConfigError(`sandbox ${this.id} is closed; acquire a new one`);
    if (this.lost) throw this.lost;
    if (this.diskFull) throw this.diskFull;
  }

  private async containerRunning(): Promise<boolean> {
    return (await this.checkAlive()) === true;
  }

  /** True when the container runs; otherwise the error that says why it does not. */
  private async checkAlive(): Promise<true | SandfarmLoss> {
    if (this.lost) return this.lost;
    if (this.diskFull) return this.diskFull;
    let state: Docker.ContainerInspectInfo["State"];
    try {
      state = (await this.container.inspect()).State;
    } catch (error) {
      if (statusCodeOf(error) !== 404) {
        return new InfrastructureError(
          `cannot inspect sandbox ${this.id}: ${dockerMessage(error)}`,
          { cause: error },
        );
      }
      // AutoRemove may have taken the container before we looked: the death event remembers.
      const death = await this.deathEvent(DEATH_EVENT_WAIT_MS);
      return this.attributeDeath(death?.exitCode, death?.oom ?? false, true);
    }
    if (state.Running) return true;
    return this.attributeDeath(
      state.ExitCode,
      state.OOMKilled || (this.death?.oom ?? false),
      false,
    );
  }

  /**
   * Whose fault a dead sandbox is. The keeper (PID 1) cannot be signalled from inside, so it
   * dies of its TTL (exit 0), of a kill from outside (137, 143), or of the model's own workload:
   * the memory limit, or the runtime failing under it (gVisor's sentry exits 2 when a fork bomb
   * exhausts the pid limit).
   */
  private attributeDeath(
    exitCode: number | undefined,
    oom: boolean,
    removed: boolean,
  ): SandboxLostError {
    const expired = Date.now() >= this.expiresAtMs - 1000;
    // Gone at its TTL with no other story: the keeper's own exit, whether or not its die event
    // has arrived yet, or a garbage collection (`sandfarm sandbox gc`, another farm's start-up)
    // removing it because its TTL label had passed (a kill: 137).
    if (!oom && expired && (exitCode === undefined || exitCode === 0)) {
      return new SandboxLostError(
        `sandbox ${this.id} reached its TTL (${this.config.ttlS} s) and removed itself`,
        false,
      );
    }
    if (!oom && expired && (exitCode === 137 || exitCode === 143)) {
      return new SandboxLostError(
        `sandbox ${this.id} reached its TTL (${this.config.ttlS} s) and was removed as garbage`,
        false,
      );
    }
    if (oom) {
      return new SandboxLostError(
        `sandbox ${this.id} was killed by its memory limit (${this.config.memoryMb} MiB)`,
        true,
      );
    }
    if (exitCode === undefined || exitCode === 137 || exitCode === 143) {
      return new SandboxLostError(
        removed
          ? `sandbox ${this.id} was removed from outside sandfarm`
          : `sandbox ${this.id} was stopped from outside sandfarm (exit ${exitCode})`,
        false,
      );
    }
    return new SandboxLostError(
      `sandbox ${this.id} failed under its own workload (exit ${exitCode}): the model's processes brought it down`,
      true,
    );
  }

  /**
   * Whether the sandbox still runs commands, for when the helper vanished without a status. The
   * exec stream can end before the engine has noticed a killed container, so a probe command
   * decides, and a failed probe waits briefly for the engine's state to say why.
   */
  private async confirmAlive(): Promise<true | SandfarmLoss> {
    try {
      const probe = await this.container.exec({
        Cmd: ["true"],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await probe.start({ hijack: true, stdin: false });
      await new Promise<void>((resolve) => {
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", () => resolve());
        stream.resume();
      });
      if ((await probe.inspect()).ExitCode === 0) return true;
    } catch {
      // Fall through to the engine's state.
    }
    for (let attempt = 0; attempt < STATE_SETTLE_ATTEMPTS; attempt++) {
      const alive = await this.checkAlive();
      if (alive !== true) return alive;
      await new Promise((resolve) => setTimeout(resolve, STATE_SETTLE_INTERVAL_MS));
    }
    return new InfrastructureError(`sandbox ${this.id} runs but cannot start commands any more`);
  }

  /**
   * An archive-API error on a path while the container runs is the path's problem (a file used
   * as a directory, /proc, ...), which the model can fix; the host's overlay path is scrubbed.
   */
  private async pathFailure(error: unknown, path: string, what: string): Promise<Error> {
    const alive = await this.checkAlive();
    if (alive !== true) return alive;
    const message = dockerMessage(error).replace(/[^\s:]*\/merged(?=\/)/g, "");
    return new SandboxPathError(path, "rejected", `${what}: ${message}`);
  }

  private async failure(error: unknown, what: string): Promise<Error> {
    const alive = await this.checkAlive();
    if (alive !== true) return alive;
    return new InfrastructureError(`${what} in sandbox ${this.id}: ${dockerMessage(error)}`, {
      cause: error,
    });
  }
}

type SandfarmLoss = SandboxLostError | InfrastructureError | DiskLimitError;
