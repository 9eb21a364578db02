/** The raw result of one command, before any tool formats it for a model. */
export interface ExecResult {
  /** The shell's exit code; 124 on timeout (as coreutils `timeout`); 128+N after signal N. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The timeout fired and the call's process group was killed. */
  timedOut: boolean;
  /** Either stream produced more than the capture cap; the rest was read and discarded. */
  truncated: boolean;
  /** The memory limit killed a process in the sandbox while this command ran. */
  oomKilled: boolean;
  /**
   * The command killed sandfarm's own helper (e.g. `kill -9 -1`): output up to that point is
   * kept, the exit code is the helper's, the sandbox itself is still alive.
   */
  runnerKilled: boolean;
  durationMs: number;
}

export interface ExecOptions {
  /** Seconds before the call's process group is killed; the sandbox's default when unset. */
  timeoutS?: number;
}

/** One file to put into a sandbox. `mode` defaults to 0o644, owner to root. */
export interface FileToWrite {
  path: string;
  content: string | Uint8Array;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** A file read back from a sandbox, with what is needed to write it back unchanged. */
export interface FileRead {
  /** The path read, after following symbolic links. */
  path: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** A sandbox: one per episode, destroyed after. Every backend implements this. */
export interface Sandbox {
  readonly id: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Writes files under `dir` (created if missing); paths in `files` are relative to it. */
  writeFiles(dir: string, files: readonly FileToWrite[]): Promise<void>;
  /**
   * Reads one regular file by absolute path, byte for byte, following symbolic links. Throws
   * `SandboxPathError` when it is missing, a directory, or larger than `maxBytes`.
   */
  readFile(path: string, maxBytes?: number): Promise<FileRead>;
  /** Destroys the sandbox without a graceful stop. Safe to call twice. */
  close(): Promise<void>;
}
