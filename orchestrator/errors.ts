/**
 * One error base for sandfarm, with subclasses that say whose fault a failure is. Callers branch
 * on the class: a `ConfigError` is the user's to fix, an `InfrastructureError` makes a group
 * retryable and untrainable, a `ModelError` is the policy's doing and stays trainable.
 */
export class SandfarmError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The user's configuration or input is wrong; the message names the field and the fix. */
export class ConfigError extends SandfarmError {}

/** The model did something that ended or broke its own episode (e.g. killed its sandbox). */
export class ModelError extends SandfarmError {}

/** Something outside the model failed: engine down, container removed from outside, timeouts. */
export class InfrastructureError extends SandfarmError {}

/** A bug in sandfarm itself: an invariant that should have held did not. */
export class InternalError extends SandfarmError {}

/**
 * The sandbox died under a command. `causedByModel` follows DESIGN.md's attribution rule: true
 * when the model's own actions killed it (reward 0, trainable), false when it was infrastructure.
 */
export class SandboxLostError extends SandfarmError {
  readonly causedByModel: boolean;
  constructor(message: string, causedByModel: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.causedByModel = causedByModel;
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
