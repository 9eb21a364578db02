/**
 * The two ways a command reaches a Docker sandbox's Perl core (exec-helper.ts): one `docker exec`
 * of the one-shot helper per command, or a long-lived runner on one attached exec stream, where
 * a command costs a fork inside the sandbox instead of an exec through the engine.
 */
import type { Duplex } from "node:stream";
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

/** What came back for one command, before it is judged. */
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
}

/** Gathers the frames of one command. */
class CommandCollector {
  private readonly stdout: Buffer[] = [];
  private readonly stderr: Buffer[] = [];
  status?: Map<string, number>;

  accept(tag: number, payload: Buffer): boolean {
    if (tag === TAG_STDOUT) this.stdout.push(Buffer.from(payload));
    else if (tag === TAG_STDERR) this.stderr.push(Buffer.from(payload));
    else if (tag === TAG_STATUS) this.status = parseStatus(payload);
    else return false;
    return true;
  }

  finish(
    extra: Pick<RawCommandOutput, "helperExitCode" | "helperError" | "hung">,
  ): RawCommandOutput {
    return {
      stdout: Buffer.concat(this.stdout),
      stderr: Buffer.concat(this.stderr),
      ...(this.status ? { status: this.status } : {}),
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
 * A runner process inside one sandbox, reached through one attached exec stream. One command at
 * a time (the caller serialises). When the stream ends (the model killed the runner, or the
 * sandbox died) it is dead for good; the sandbox opens a new one.
 */
export class RunnerChannel {
  private alive = true;
  private current?: { collector: CommandCollector; settle: (output: RawCommandOutput) => void };
  private pings: ((answered: boolean) => void)[] = [];
  private readonly helperStderr: Buffer[] = [];

  private constructor(
    private readonly exec: Docker.Exec,
    private readonly stream: Duplex,
  ) {
    const helperFrames = helperFrameReader((tag, payload) => {
      if (tag === TAG_PING) {
        this.pings.shift()?.(true);
        return;
      }
      this.current?.collector.accept(tag, payload);
      if (tag === TAG_STATUS) this.settleCurrent(false);
    });
    const dockerFrames = dockerStreamReader((streamType, payload) => {
      if (streamType === 1) helperFrames.push(Buffer.from(payload));
      else if (this.helperStderr.length < 64) this.helperStderr.push(Buffer.from(payload));
    });
    stream.on("data", (chunk: Buffer) => dockerFrames.push(chunk));
    const ended = (): void => this.markDead();
    stream.on("end", ended);
    stream.on("close", ended);
    stream.on("error", ended);
  }

  /** Starts a runner and waits for its first ping, which says it is ready. */
  static async open(container: Docker.Container): Promise<RunnerChannel> {
    const exec = await container.exec({
      Cmd: ["perl", "-e", RUNNER_SCRIPT],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      WorkingDir: "/",
    });
    const stream = await exec.start({ hijack: true, stdin: true });
    const channel = new RunnerChannel(exec, stream);
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
    return new Promise((resolve) => {
      const guard = setTimeout(() => this.settleCurrent(true), timeoutS * 1000 + HELPER_GRACE_MS);
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
      const payload = Buffer.from(`${timeoutS} ${capBytes}\n${command}`, "utf8");
      const header = Buffer.alloc(5);
      header.write("c", 0, "latin1");
      header.writeUInt32BE(payload.length, 1);
      this.stream.write(Buffer.concat([header, payload]));
    });
  }

  /** True when the runner answers a ping within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<boolean> {
    if (!this.alive || this.current) return this.alive;
    const answered = this.awaitPing(timeoutMs);
    this.stream.write(Buffer.from([TAG_PING, 0, 0, 0, 0]));
    return answered;
  }

  close(): void {
    this.markDead();
    this.stream.destroy();
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
      void this.exec
        .inspect()
        .then(
          (info) => info.ExitCode ?? undefined,
          () => undefined,
        )
        .then((exitCode) => this.settleCurrent(false, exitCode));
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
