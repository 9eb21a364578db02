/**
 * The two ways a command reaches a Docker sandbox's Perl core (exec-helper.ts): one `docker exec`
 * of the one-shot helper per command, or a long-lived runner on one attached exec stream, where
 * a command costs a fork inside the sandbox instead of an exec through the engine.
 */
import type Docker from "dockerode";
import { EXEC_HELPER_SCRIPT, RUNNER_SCRIPT } from "./exec-helper.js";
import {
  TAG_STATUS,
  TAG_STDERR,
  TAG_STDOUT,
  dockerStreamReader,
  helperFrameReader,
  parseStatus,
} from "./frames.js";

/** How long past a command's own timeout the host waits before calling the helper hung. */
export const HELPER_GRACE_MS = 30_000;
const RUNNER_READY_TIMEOUT_MS = 10_000;
const TAG_PING = "p".charCodeAt(0);
const TAG_NAME = "n".charCodeAt(0);

/** What came back for one command, before it is classified (command-outcome.ts). */
export interface RawCommandOutput {
  stdout: Buffer;
  stderr: Buffer;
  /** The status frame; undefined when the helper or runner died before sending it. */
  status?: Map<string, number>;
  /** The helper process's own exit code, when known. */
  helperExitCode?: number;
  /** What the helper process wrote to its stderr (Perl errors), for diagnostics. */
  helperError: string;
  /** No answer within the timeout plus the grace period. */
  hung: boolean;
  /** For file requests: what was wrong with the path, and the path after links. */
  problem?: string;
  resolvedPath?: string;
}

/** Gathers the frames of one command. */
class CommandCollector {
  private readonly stdout: Buffer[] = [];
  private readonly stderr: Buffer[] = [];
  status?: Map<string, number>;
  private problem?: string;
  private resolvedPath?: string;

  accept(tag: number, payload: Buffer): boolean {
    if (tag === TAG_STDOUT) this.stdout.push(Buffer.from(payload));
    else if (tag === TAG_STDERR) this.stderr.push(Buffer.from(payload));
    else if (tag === TAG_NAME) this.resolvedPath = payload.toString("utf8");
    else if (tag === TAG_STATUS) {
      this.status = parseStatus(payload);
      this.problem = /problem=(\w+)/.exec(payload.toString("latin1"))?.[1];
    } else return false;
    return true;
  }

  finish(
    extra: Pick<RawCommandOutput, "helperExitCode" | "helperError" | "hung">,
  ): RawCommandOutput {
    return {
      stdout: Buffer.concat(this.stdout),
      stderr: Buffer.concat(this.stderr),
      ...(this.status ? { status: this.status } : {}),
      ...(this.problem ? { problem: this.problem } : {}),
      ...(this.resolvedPath ? { resolvedPath: this.resolvedPath } : {}),
      ...extra,
    };
  }
}

/** Runs one command through its own `docker exec` of the one-shot helper. */
export async function runOneShot(
  container: Docker.Container,
  command: string,
  commandFile: string | undefined,
  timeoutS: number,
  capBytes: number,
  signal?: AbortSignal,
): Promise<RawCommandOutput> {
  const exec = await container.exec({
    Cmd: [
      "perl",
      "-e",
      EXEC_HELPER_SCRIPT,
      String(timeoutS),
      String(capBytes),
      commandFile ? "" : command,
      ...(commandFile ? [commandFile] : []),
    ],
    AttachStdout: true,
    AttachStderr: true,
    WorkingDir: "/",
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  if (signal?.aborted) stream.destroy();
  signal?.addEventListener("abort", () => stream.destroy(), { once: true });
  const collector = new CommandCollector();
  const helperStderr: Buffer[] = [];
  const helperFrames = helperFrameReader((tag, payload) => collector.accept(tag, payload));
  const dockerFrames = dockerStreamReader((streamType, payload) => {
    if (streamType === 1) helperFrames.push(Buffer.from(payload));
    else if (helperStderr.length < 64) helperStderr.push(Buffer.from(payload));
  });
  const hung = await new Promise<boolean>((resolve, reject) => {
    const guard = setTimeout(
      () => {
        stream.destroy();
        resolve(true);
      },
      timeoutS * 1000 + HELPER_GRACE_MS,
    );
    stream.on("data", (chunk: Buffer) => dockerFrames.push(chunk));
    const done = (): void => {
      clearTimeout(guard);
      resolve(false);
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", (error) => {
      clearTimeout(guard);
      reject(error);
    });
  });
  const helperExitCode = collector.status
    ? undefined
    : ((await exec.inspect().catch(() => undefined))?.ExitCode ?? undefined);
  return collector.finish({
    ...(helperExitCode === undefined || helperExitCode === null ? {} : { helperExitCode }),
    helperError: Buffer.concat(helperStderr).toString("utf8").trim(),
    hung,
  });
}

/**
 * How bytes reach a runner and come back: an attached exec stream (Docker), or a child process's
 * pipes (local backend). `onFrames` gets the runner's own frame bytes, already demultiplexed.
 */
export interface RunnerTransport {
  write(bytes: Buffer): void;
  onFrames(listener: (bytes: Buffer) => void): void;
  onStderr(listener: (bytes: Buffer) => void): void;
  onEnd(listener: () => void): void;
  /** The runner process's exit code once it is gone, when known. */
  exitCode(): Promise<number | undefined>;
  destroy(): void;
}

/** A runner reached through an attached `docker exec` stream. */
export async function dockerRunnerTransport(container: Docker.Container): Promise<RunnerTransport> {
  const exec = await container.exec({
    Cmd: ["perl", "-e", RUNNER_SCRIPT],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    WorkingDir: "/",
  });
  const stream = await exec.start({ hijack: true, stdin: true });
  const frameListeners: ((bytes: Buffer) => void)[] = [];
  const stderrListeners: ((bytes: Buffer) => void)[] = [];
  const demux = dockerStreamReader((streamType, payload) => {
    const listeners = streamType === 1 ? frameListeners : stderrListeners;
    for (const listener of listeners) listener(Buffer.from(payload));
  });
  stream.on("data", (chunk: Buffer) => demux.push(chunk));
  return {
    write: (bytes) => void stream.write(bytes),
    onFrames: (listener) => frameListeners.push(listener),
    onStderr: (listener) => stderrListeners.push(listener),
    onEnd: (listener) => {
      stream.on("end", listener);
      stream.on("close", listener);
      stream.on("error", listener);
    },
    exitCode: async () => (await exec.inspect().catch(() => undefined))?.ExitCode ?? undefined,
    destroy: () => stream.destroy(),
  };
}

/** A file read through the runner. */
export interface RunnerFileRead {
  ok: boolean;
  /** Set when not ok: not_found, is_directory, not_regular_file, too_large, rejected. */
  problem?: string;
  path?: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  errno?: number;
}

function frame(tag: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(tag, 0, "latin1");
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/**
 * A runner process inside one sandbox. One request at a time (the caller serialises). When its
 * transport ends (the model killed the runner, or the sandbox died) it is dead for good; the
 * sandbox opens a new one.
 */
export class RunnerChannel {
  private alive = true;
  private current?: {
    collector: CommandCollector;
    settle: (output: RawCommandOutput) => void;
  };
  private pings: ((answered: boolean) => void)[] = [];
  private readonly helperStderr: Buffer[] = [];

  private constructor(private readonly transport: RunnerTransport) {
    const frames = helperFrameReader((tag, payload) => {
      if (tag === TAG_PING) {
        this.pings.shift()?.(true);
        return;
      }
      this.current?.collector.accept(tag, payload);
      if (tag === TAG_STATUS) this.settleCurrent(false);
    });
    transport.onFrames((bytes) => frames.push(bytes));
    transport.onStderr((bytes) => {
      if (this.helperStderr.length < 64) this.helperStderr.push(bytes);
    });
    transport.onEnd(() => this.markDead());
  }

  /** Starts talking to a runner and waits for its first ping, which says it is ready. */
  static async open(transport: RunnerTransport): Promise<RunnerChannel> {
    const channel = new RunnerChannel(transport);
    const ready = await channel.awaitPing(RUNNER_READY_TIMEOUT_MS);
    if (!ready) {
      channel.close();
      throw new Error(`the runner did not start: ${channel.helperError() || "no answer"}`);
    }
    return channel;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  run(command: string, timeoutS: number, capBytes: number): Promise<RawCommandOutput> {
    const payload = Buffer.from(`${timeoutS} ${capBytes}\n${command}`, "utf8");
    return this.request(frame("c", payload), timeoutS * 1000 + HELPER_GRACE_MS);
  }

  /** Writes one file inside the sandbox; resolves to the errno, or 0 on success. */
  async writeFile(
    path: string,
    content: Uint8Array,
    mode: number,
    uid: number,
    gid: number,
  ): Promise<number> {
    const head = Buffer.from(`${path}\n${mode} ${uid} ${gid}\n`, "utf8");
    const output = await this.request(frame("w", Buffer.concat([head, content])), HELPER_GRACE_MS);
    if (!output.status) throw new Error(`the runner died while writing ${path}`);
    return output.status.get("ok") === 1 ? 0 : (output.status.get("errno") ?? -1);
  }

  /** Reads one file inside the sandbox, following links, up to `maxBytes`. */
  async readFile(path: string, maxBytes: number): Promise<RunnerFileRead> {
    const request = frame("r", Buffer.from(`${path}\n${maxBytes}`, "utf8"));
    const output = await this.request(request, HELPER_GRACE_MS);
    const status = output.status;
    if (!status) throw new Error(`the runner died while reading ${path}`);
    return {
      ok: status.get("ok") === 1,
      ...(output.problem ? { problem: output.problem } : {}),
      ...(output.resolvedPath ? { path: output.resolvedPath } : {}),
      content: output.stdout,
      mode: status.get("mode") ?? 0o644,
      uid: status.get("uid") ?? 0,
      gid: status.get("gid") ?? 0,
      ...(status.has("errno") ? { errno: status.get("errno")! } : {}),
    };
  }

  /** True when the runner answers a ping within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<boolean> {
    if (!this.alive || this.current) return this.alive;
    const answered = this.awaitPing(timeoutMs);
    this.transport.write(Buffer.from([TAG_PING, 0, 0, 0, 0]));
    return answered;
  }

  close(): void {
    this.markDead();
    this.transport.destroy();
  }

  private request(bytes: Buffer, guardMs: number): Promise<RawCommandOutput> {
    return new Promise((resolve) => {
      const guard = setTimeout(() => this.settleCurrent(true), guardMs);
      this.current = {
        collector: new CommandCollector(),
        settle: (output) => {
          clearTimeout(guard);
          resolve(output);
        },
      };
      if (!this.alive) {
        this.settleCurrent(false);
        return;
      }
      this.transport.write(bytes);
    });
  }

  private awaitPing(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pings = this.pings.filter((waiter) => waiter !== settle);
        resolve(false);
      }, timeoutMs);
      const settle = (answered: boolean): void => {
        clearTimeout(timer);
        resolve(answered);
      };
      this.pings.push(settle);
    });
  }

  private helperError(): string {
    return Buffer.concat(this.helperStderr).toString("utf8").trim();
  }

  private markDead(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const waiter of this.pings.splice(0)) waiter(false);
    if (this.current && !this.current.collector.status) {
      void this.transport.exitCode().then((exitCode) => this.settleCurrent(false, exitCode));
    }
  }

  private settleCurrent(hung: boolean, helperExitCode?: number | null): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    if (hung) this.close();
    current.settle(
      current.collector.finish({
        ...(helperExitCode === undefined || helperExitCode === null ? {} : { helperExitCode }),
        helperError: this.helperError(),
        hung,
      }),
    );
  }
}
