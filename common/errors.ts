/**
 * The one error family of sandfarm, importable from every folder. Each class says whose fault a
 * failure is, and that decides what happens next: a user error is the user's to fix (the message
 * names the file, line, key or flag, and the fix); a model error is the policy's doing and stays
 * trainable; an infrastructure error makes a group retryable and untrainable. Any other error
 * is a bug in sandfarm.
 * The CLI turns each fault into one stable exit code (`EXIT_CODES`, listed in the README) and a
 * one-line message, in one place (`orchestrator/cli/failure.ts`).
 *
 * @example
 * throw new UserError(`${file}:${line}: answer: required; add the field`);
 * if (error instanceof SandfarmError) process.exitCode = EXIT_CODES[error.fault];
 */

/** Whose fault a failure is, for sandfarm's own errors; anything else is a bug. */
export type Fault = "user" | "model" | "infrastructure";

/**
 * The process exit status of each outcome. `failed`: the command ran and reports a negative
 * result (checks that did not pass, bad rows found by `dataset validate`, a halted run).
 */
export const EXIT_CODES = {
  ok: 0,
  failed: 1,
  user: 2,
  model: 3,
  infrastructure: 4,
  bug: 70,
  interrupted: 130,
} as const satisfies Record<Fault | "ok" | "failed" | "bug" | "interrupted", number>;

export abstract class SandfarmError extends Error {
  abstract readonly fault: Fault;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The user's configuration, flags or data are wrong; the message names where and the fix. */
export class UserError extends SandfarmError {
  readonly fault = "user";
}

/** A configuration key or flag is wrong (the most common user error). */
export class ConfigError extends UserError {}

/** The model did something that ended or broke its own episode (e.g. killed its sandbox). */
export class ModelError extends SandfarmError {
  readonly fault = "model";
}

/** Something outside the model and the user failed: engine down, server unreachable, disk. */
export class InfrastructureError extends SandfarmError {
  readonly fault = "infrastructure";
}
