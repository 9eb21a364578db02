/**
 * The sandbox's own failures, in the project's error family (`common/errors.ts`): a sandbox that
 * died under a command, and a path the model named that cannot be read as asked.
 */
import { type Fault, ModelError, SandfarmError } from "../../common/errors.js";

/**
 * The sandbox died under a command. `causedByModel` follows the attribution rule of
 * docs/architecture.md ("Stop reasons"): true when the model's own actions killed it (reward 0,
 * trainable), false when it was infrastructure.
 */
export class SandboxLostError extends SandfarmError {
  readonly causedByModel: boolean;
  constructor(message: string, causedByModel: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.causedByModel = causedByModel;
  }
  get fault(): Fault {
    return this.causedByModel ? "model" : "infrastructure";
  }
}

/** What went wrong with a path the model named inside its sandbox. */
export type SandboxPathProblem =
  | "not_found"
  | "is_directory"
  | "not_regular_file"
  | "too_large"
  /** The engine refused the path (e.g. a file used as a directory, /proc). */
  | "rejected";

/** A path inside the sandbox cannot be read as asked; the model can fix it and try again. */
export class SandboxPathError extends ModelError {
  readonly problem: SandboxPathProblem;
  readonly path: string;
  constructor(path: string, problem: SandboxPathProblem, message: string) {
    super(message);
    this.path = path;
    this.problem = problem;
  }
}

/**
 * The sandbox's writable layer passed `sandbox.diskLimitMb`: the model's own writes, so its
 * episode ends as `disk_limit` (reward 0, trainable). The sandbox is stopped.
 */
export class DiskLimitError extends ModelError {
  constructor(
    readonly usedMb: number,
    readonly limitMb: number,
    sandboxId: string,
  ) {
    super(
      `sandbox ${sandboxId} wrote ${usedMb} MB, past its disk limit of ${limitMb} MB (sandbox.diskLimitMb)`,
    );
  }
}
