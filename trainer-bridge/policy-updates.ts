/**
 * The policy-update protocol's state machine, on the farm's side. The trainer drives it over
 * gRPC: begin(v) pauses model traffic, load(v, ...) optionally installs weights on the
 * replicas, commit(v) resumes at version v, abort(v) resumes at the old version. Every step
 * has a timeout, and an update that is never committed is aborted when its deadline passes,
 * so a trainer that dies mid-update cannot leave the farm paused forever.
 *
 * The replicas are reached through a `PolicyControl`, which the farm implements (the bridge
 * never imports the orchestrator): `VllmPolicyControl` in orchestrator/policy/ for vLLM.
 *
 * @example
 * const updates = new PolicyUpdates(control, { pauseMode: "keep" });
 * await updates.begin(1); await updates.load(1, { lora: { name: "policy", path: "/ckpt/1" } });
 * await updates.commit(1); // updates.committedVersion === 1
 */
import { InfrastructureError } from "../common/errors.js";

export type PauseMode = "keep" | "wait" | "abort";

/** What one replica did with one request. */
export interface ReplicaOutcome {
  url: string;
  ok: boolean;
  error?: string;
  elapsedMs: number;
}

export interface LoraSource {
  name: string;
  path: string;
  loadInplace?: boolean;
}

export type WeightsSource = { lora: LoraSource } | { weightsPath: string };

/** How the farm reaches its policy replicas. Each call must honour `signal`. */
export interface PolicyControl {
  /** Stop issuing new model calls, then pause every replica with `mode`. */
  pause(mode: PauseMode, signal: AbortSignal): Promise<ReplicaOutcome[]>;
  /** Load weights on every replica. */
  load(source: WeightsSource, signal: AbortSignal): Promise<ReplicaOutcome[]>;
  /** Resume every replica and let model calls flow again, tagged with `version`. */
  resume(version: number, signal: AbortSignal): Promise<ReplicaOutcome[]>;
}

export type UpdateErrorCode =
  "failed_precondition" | "invalid_argument" | "deadline_exceeded" | "unavailable";

/** A step that could not be done; `code` maps to a gRPC status. */
export class PolicyUpdateError extends InfrastructureError {
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
    readonly replicas: ReplicaOutcome[] = [],
  ) {
    super(message);
  }
}

export interface PolicyUpdateOptions {
  /** Used when a begin request does not name one. @default "keep" */
  pauseMode?: PauseMode;
  /** For pausing the replicas. @default 60_000 */
  pauseTimeoutMs?: number;
  /** For loading weights on the replicas. @default 600_000 */
  loadTimeoutMs?: number;
  /** For resuming the replicas. @default 60_000 */
  resumeTimeoutMs?: number;
  /** From begin to commit; past it the farm aborts the update itself. @default 1_800_000 */
  updateTimeoutMs?: number;
  /** The committed version to start from (a resumed run). @default 0 */
  initialVersion?: number;
}

export interface UpdateSnapshot {
  state: "serving" | "paused";
  committedVersion: number;
  pendingVersion: number;
  replicas: ReplicaOutcome[];
}

/** One event of the protocol, for logs and tests. */
export interface UpdateEvent {
  at: number;
  step: "begin" | "load" | "commit" | "abort" | "expired";
  version: number;
  ok: boolean;
  detail?: string;
}

export class PolicyUpdates {
  committedVersion: number;
  private pending: { version: number; deadline: NodeJS.Timeout } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly options: Required<PolicyUpdateOptions>;
  readonly events: UpdateEvent[] = [];
  private readonly listeners = new Set<(version: number) => void>();

  constructor(
    private readonly control: PolicyControl,
    options: PolicyUpdateOptions = {},
  ) {
    this.options = {
      pauseMode: options.pauseMode ?? "keep",
      pauseTimeoutMs: options.pauseTimeoutMs ?? 60_000,
      loadTimeoutMs: options.loadTimeoutMs ?? 600_000,
      resumeTimeoutMs: options.resumeTimeoutMs ?? 60_000,
      updateTimeoutMs: options.updateTimeoutMs ?? 1_800_000,
      initialVersion: options.initialVersion ?? 0,
    };
    this.committedVersion = this.options.initialVersion;
  }

  /** Called with the new version after each commit. Returns an unsubscribe function. */
  onCommit(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(replicas: ReplicaOutcome[] = []): UpdateSnapshot {
    return {
      state: this.pending ? "paused" : "serving",
      committedVersion: this.committedVersion,
      pendingVersion: this.pending?.version ?? this.committedVersion + 1,
      replicas,
    };
  }

  /** Steps run one at a time, in call order. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  begin(version: number, mode?: PauseMode): Promise<UpdateSnapshot> {
    return this.serial(async () => {
      if (this.pending?.version === version) return this.snapshot();
      if (this.pending)
        throw new PolicyUpdateError(
          "failed_precondition",
          `an update to version ${this.pending.version} is open; commit or abort it first`,
        );
      if (version !== this.committedVersion + 1)
        throw new PolicyUpdateError(
          "failed_precondition",
          `version ${version} cannot follow the committed version ${this.committedVersion}; ` +
            `begin ${this.committedVersion + 1}`,
        );
      const outcome = await this.step("pause", this.options.pauseTimeoutMs, (signal) =>
        this.control.pause(mode ?? this.options.pauseMode, signal),
      );
      if (outcome.failure) {
        // Never leave replicas paused behind a failed begin: restore service at the old version.
        await this.step("resume", this.options.resumeTimeoutMs, (signal) =>
          this.control.resume(this.committedVersion, signal),
        );
        this.record("begin", version, false, outcome.failure.message);
        throw outcome.failure;
      }
      const deadline = setTimeout(() => void this.expire(version), this.options.updateTimeoutMs);
      deadline.unref();
      this.pending = { version, deadline };
      this.record("begin", version, true);
      return this.snapshot(outcome.replicas);
    });
  }

  load(version: number, source: WeightsSource): Promise<UpdateSnapshot> {
    return this.serial(async () => {
      this.requirePending(version, "load weights for");
      const outcome = await this.step("load", this.options.loadTimeoutMs, (signal) =>
        this.control.load(source, signal),
      );
      this.record("load", version, !outcome.failure, outcome.failure?.message);
      if (outcome.failure) throw outcome.failure;
      return this.snapshot(outcome.replicas);
    });
  }

  commit(version: number): Promise<UpdateSnapshot> {
    return this.serial(async () => {
      if (!this.pending && this.committedVersion === version) return this.snapshot();
      this.requirePending(version, "commit");
      clearTimeout(this.pending!.deadline);
      this.pending = undefined;
      this.committedVersion = version;
      const outcome = await this.step("resume", this.options.resumeTimeoutMs, (signal) =>
        this.control.resume(version, signal),
      );
      // The version is committed either way: the weights are in place. A replica that did not
      // resume is the policy client's to eject and probe back.
      this.record("commit", version, !outcome.failure, outcome.failure?.message);
      for (const listener of this.listeners) {
        try {
          listener(version);
        } catch (error) {
          this.record(
            "commit",
            version,
            false,
            `a commit listener threw: ${(error as Error).message}`,
          );
        }
      }
      return this.snapshot(outcome.replicas);
    });
  }

  abort(version: number, reason = "aborted by the trainer"): Promise<UpdateSnapshot> {
    return this.serial(() => this.abortNow(version, reason, "abort"));
  }

  private async abortNow(
    version: number,
    reason: string,
    step: "abort" | "expired",
  ): Promise<UpdateSnapshot> {
    if (!this.pending || this.pending.version !== version) return this.snapshot();
    clearTimeout(this.pending.deadline);
    this.pending = undefined;
    const outcome = await this.step("resume", this.options.resumeTimeoutMs, (signal) =>
      this.control.resume(this.committedVersion, signal),
    );
    this.record(step, version, !outcome.failure, outcome.failure?.message ?? reason);
    return this.snapshot(outcome.replicas);
  }

  private expire(version: number): Promise<unknown> {
    return this.serial(() =>
      this.abortNow(
        version,
        `not committed within updateTimeoutMs (${this.options.updateTimeoutMs} ms)`,
        "expired",
      ),
    );
  }

  private requirePending(version: number, what: string): void {
    if (this.pending?.version !== version)
      throw new PolicyUpdateError(
        "failed_precondition",
        this.pending
          ? `cannot ${what} version ${version}: the open update is to version ${this.pending.version}`
          : `cannot ${what} version ${version}: no update is open; call BeginPolicyUpdate(${this.committedVersion + 1}) first`,
      );
  }

  /** Runs one replica step under its timeout; failures come back as a `PolicyUpdateError`. */
  private async step(
    name: string,
    timeoutMs: number,
    run: (signal: AbortSignal) => Promise<ReplicaOutcome[]>,
  ): Promise<{ replicas: ReplicaOutcome[]; failure?: PolicyUpdateError }> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const result = await Promise.race([run(controller.signal), timeout]);
      if (result === "timeout") {
        controller.abort();
        return {
          replicas: [],
          failure: new PolicyUpdateError(
            "deadline_exceeded",
            `${name} did not finish within ${timeoutMs} ms`,
          ),
        };
      }
      const failed = result.filter((replica) => !replica.ok);
      if (failed.length === 0) return { replicas: result };
      return {
        replicas: result,
        failure: new PolicyUpdateError(
          "unavailable",
          `${name} failed on ${failed.length} of ${result.length} replicas: ` +
            failed.map((replica) => `${replica.url}: ${replica.error ?? "failed"}`).join("; "),
          result,
        ),
      };
    } catch (error) {
      // The control refused the step itself (a bad request): its code stands.
      if (error instanceof PolicyUpdateError) return { replicas: [], failure: error };
      return {
        replicas: [],
        failure: new PolicyUpdateError(
          "unavailable",
          `${name} failed: ${(error as Error).message}`,
        ),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private record(step: UpdateEvent["step"], version: number, ok: boolean, detail?: string): void {
    this.events.push({ at: Date.now(), step, version, ok, ...(detail ? { detail } : {}) });
  }

  /**
   * The farm is shutting down: an open update is aborted, so the replicas are not left paused
   * (best effort, within resumeTimeoutMs).
   */
  close(): Promise<unknown> {
    return this.serial(() =>
      this.pending
        ? this.abortNow(this.pending.version, "the farm is shutting down", "abort")
        : Promise.resolve(this.snapshot()),
    );
  }
}
