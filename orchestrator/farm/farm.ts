/**
 * The asynchronous RL rollout loop. Tasks fill slots (a step is `groupsPerStep` slots); each slot
 * runs a group of G rollouts; finished groups are scored, judged and either packed into batches
 * for the sink or dropped with a reason. The rules of docs/architecture.md ("Durability and
 * staleness"), as the loop applies them:
 *
 * - Admission: a new slot is admitted while rollouts admitted for slots so far stay within
 *   (S + v + 1 + e) x B (whole groups; v = committed policy version, e = finished steps that sent
 *   the trainer no batch, so a run of tied steps cannot stall), while the bridge is not above
 *   its high watermark, and while fewer than `rollout.episodes` rollouts run. A retry (a group
 *   masked for an infrastructure failure) or a refill (a group dropped for equal rewards, with
 *   `refillZeroVariance`) belongs to its slot: it reuses the slot's admission. The file sink has
 *   no trainer and so no policy updates: nothing can go stale and only concurrency limits apply.
 * - Staleness: a group whose oldest token version is below v - S when it would be batched is
 *   dropped (`dropped_stale`) and counted.
 * - Infrastructure failures: the group is retried on the same task; after
 *   `maxInfraFailures` consecutive ones the run halts with the last failure in its message.
 * - Durability: a group admission is journaled (fsynced) before it runs; a batch is committed in
 *   the spool; a dropped group's verdict is journaled. A resumed run re-runs exactly the groups
 *   that were admitted and are in neither, under the same ids and on the same tasks.
 * - Steps: each step's batched groups pack apart; when every slot of a step is decided, its
 *   packer is flushed (the step's data reaches the trainer as its own batch), its metrics go to
 *   metrics.jsonl and the step is journaled, in step order.
 *
 * This file is the loop and its decisions. What a resumed run reads back from the journal and the
 * spool is resume.ts; packing, batch commits and step reporting are steps.ts (`StepLedger`).
 *
 * @example
 * const farm = new Farm(services);
 * process.once("SIGINT", () => farm.drain());
 * const outcome = await farm.run();
 */
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import type { Task } from "../../datasets/task.js";
import type { Rewarder } from "../../rewards/rewarder.js";
import type { PolicyUpdates } from "../../trainer-bridge/policy-updates.js";
import type { BridgeServer } from "../../trainer-bridge/server.js";
import type { Spool } from "../../trainer-bridge/spool.js";
import type { EpisodeOptions, SandboxSource } from "../agent/episode.js";
import type { FarmConfig } from "../config/train.js";
import type { FittedEpisode } from "../launch/endpoint-limits.js";
import { episodeOptionsFor } from "../launch/episode-options.js";
import { evalSampling, rolloutSampling } from "../config/sampling.js";
import type { PolicyClient } from "../policy/client.js";
import { Semaphore } from "../util/semaphore.js";
import { type GroupPlan, type GroupResult, runGroup } from "./groups.js";
import type { AdmitEntry, DropVerdict, FarmJournal } from "./journal.js";
import type { FarmGauges, GroupSummary, StepMetrics } from "./metrics.js";
import { openTrajectoryLog, resumeSlots, tasksToKeep } from "./resume.js";
import { StepLedger, trimStepMetrics } from "./steps.js";
import type { TaskCursor } from "./task-cursor.js";
import type { TrajectoryLog } from "./trajectory-log.js";
import { type ValidationReport, evaluateTasks } from "./validation.js";

export interface FarmServices {
  config: FarmConfig;
  /** The episode limits fitted to the served context (`fitToEndpoint`); unset: as configured. */
  endpoint?: Pick<FittedEpisode, "episode" | "contextTokens">;
  runId: string;
  runDir: string;
  policy: PolicyClient;
  rewarder: Rewarder;
  /** Needed in sandbox mode (training or validation). */
  sandboxes?: SandboxSource;
  spool: Spool;
  /** The gRPC sink; without it batches stay as Arrow files in the spool. */
  bridge?: BridgeServer;
  /** Policy updates driven by the trainer (bridge sink only). */
  updates?: PolicyUpdates;
  journal: FarmJournal;
  tasks: TaskCursor;
  validationTasks?: readonly Task[];
  gauges: FarmGauges;
  /** Progress and log events. */
  onEvent?: (event: FarmEvent) => void;
}

export type FarmEvent =
  | { kind: "step"; metrics: StepMetrics }
  | { kind: "validation"; report: ValidationReport }
  | { kind: "group"; groupId: string; verdict: GroupSummary["verdict"] | "cancelled" }
  | { kind: "batch"; batchId: string; rows: number; tokens: number }
  | { kind: "waiting"; reason: string }
  /** A step ended without a batch: every group tied, went stale or was masked. */
  | { kind: "untrained"; step: number; groups: StepMetrics["groups"] }
  | { kind: "stopping"; how: "drain" | "cancel" | "halt"; message?: string };

export interface FarmOutcome {
  status: "finished" | "drained" | "cancelled" | "halted";
  /** Steps finished in this run directory (all sessions). */
  steps: number;
  /** Batches this session committed. */
  batches: number;
  /** Rollouts this session finished (all verdicts, cancelled ones excluded). */
  rollouts: number;
  /** Steps this session that produced no batch (ties, stale or masked groups only). */
  stepsWithoutBatch: number;
  /** Groups this session ran again because their sandbox engine was ejected under them. */
  engineRetries?: number;
  message?: string;
}

/** Progress, for the display. */
export interface FarmProgress {
  step: number;
  stepsTotal?: number;
  version: number;
  episodesRunning: number;
  groupsRunning: number;
  rollouts: number;
  /** Sandbox turns executed by finished rollouts. */
  turns: number;
  batches: number;
  waiting?: string;
}

interface SlotState {
  slot: number;
  step: number;
  /** Latest attempt. */
  attempt: number;
  refills: number;
  decided: boolean;
  /** Its groups' losses to an ejected engine this session (`rollout.engineLossRetries`). */
  engineLosses?: number;
}

interface TrajectoryRecord {
  groupId: string;
  step: number;
  slot: number;
  verdict: GroupSummary["verdict"];
  reward: number;
  advantage: number;
  status: string;
  episode: unknown;
}

const STOPPED_STATUS = { drain: "drained", cancel: "cancelled", halt: "halted" } as const;

const NEW_SLOT_ATTEMPT = 0;
/** Refills of one slot at most, so a run of ties cannot admit without bound. */
const MAX_REFILLS_PER_SLOT = 4;

export class Farm {
  private readonly groupsPerStep: number;
  private readonly groupSize: number;
  private readonly totalSlots: number;
  private readonly slots = new Map<number, SlotState>();
  private readonly queue: {
    plan: Omit<GroupPlan, "task">;
    task?: Task;
    taskIndex?: number;
    reason: AdmitEntry["reason"];
    journaled: boolean;
  }[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private readonly validations = new Set<Promise<void>>();
  private readonly steps: StepLedger;
  private readonly episodes: Semaphore;
  private readonly abort = new AbortController();
  private trajectories!: TrajectoryLog;
  private nextSlot = 0;
  /** The slot count once the task schedule ran out. */
  private endSlot?: number;
  private consecutiveInfra = 0;
  /** Groups run again because an engine was ejected under them. */
  private engineRetries = 0;
  /** The fleet's ejection count when each running group started. */
  private readonly ejectionsAtStart = new Map<string, number>();
  private stopping?: "drain" | "cancel" | "halt";
  private haltMessage?: string;
  private fatal?: Error;
  private pumping = false;
  private pumpAgain = false;
  private wakeUp?: () => void;
  private woken = false;
  private episodesRunning = 0;
  private waiting?: string;
  private lastValidatedVersion = -1;
  /** Steps this session that produced no batch. */
  private stepsWithoutBatch = 0;

  constructor(private readonly services: FarmServices) {
    const { rollout, run } = services.config;
    this.groupsPerStep = rollout.groupsPerStep;
    this.groupSize = rollout.groupSize;
    this.totalSlots = run.steps === undefined ? Infinity : run.steps * rollout.groupsPerStep;
    this.episodes = new Semaphore(rollout.episodes);
    this.steps = new StepLedger(services, {
      version: () => this.version,
      syncTrajectories: () => this.trajectories.sync(),
      stepComplete: (step) => this.stepComplete(step),
      onBatch: (batch) =>
        services.onEvent?.({
          kind: "batch",
          batchId: batch.batchId,
          rows: batch.rows,
          tokens: batch.tokens,
        }),
      onStep: (step, metrics) => this.afterStep(step, metrics),
      wake: () => this.wake(),
      onFailure: (error) => this.fail(error),
      engines: () =>
        services.config.run.mode === "sandbox"
          ? services.sandboxes?.engineStats?.().map((engine) => ({
              name: engine.name,
              healthy: engine.healthy,
              in_use: engine.inUse,
              warm: engine.warm,
              capacity: engine.capacity,
              ejections: engine.ejections,
            }))
          : undefined,
    });
  }

  /** The committed policy version. */
  get version(): number {
    return this.services.updates?.committedVersion ?? 0;
  }

  /** Stop admitting; let running groups finish; commit what they produce. */
  drain(): void {
    if (this.stopping) return;
    this.stopping = "drain";
    this.services.onEvent?.({ kind: "stopping", how: "drain" });
    this.wake();
  }

  /** Stop now: running episodes end as `cancelled` and their groups re-run on `--resume`. */
  cancel(): void {
    if (this.stopping === "cancel" || this.stopping === "halt") return;
    this.stopping = "cancel";
    this.services.onEvent?.({ kind: "stopping", how: "cancel" });
    this.abort.abort();
    this.wake();
  }

  progress(): FarmProgress {
    return {
      step: this.steps.stepsDone,
      ...(Number.isFinite(this.totalSlots)
        ? { stepsTotal: this.totalSlots / this.groupsPerStep }
        : {}),
      version: this.version,
      episodesRunning: this.episodesRunning,
      groupsRunning: this.running.size,
      rollouts: this.steps.rolloutsDone,
      turns: this.steps.turnsDone,
      batches: this.steps.batchesCommitted,
      ...(this.waiting ? { waiting: this.waiting } : {}),
    };
  }

  async run(): Promise<FarmOutcome> {
    const committed = this.services.spool.committedRollouts();
    this.trajectories = await openTrajectoryLog(
      this.services.runDir,
      this.services.journal.state,
      committed,
    );
    await trimStepMetrics(this.services.runDir, this.steps.stepsDone);
    this.restore(committed);
    const unsubscribe = this.services.updates?.onCommit((version) => {
      const begun = this.services.updates?.events.findLast(
        (event) => event.step === "begin" && event.version === version && event.ok,
      );
      void this.services.journal
        .append({
          type: "policy",
          version,
          model: this.services.policy.model,
          ...(begun ? { pauseMs: Date.now() - begun.at } : {}),
        })
        .catch((error: unknown) => this.fail(error));
      this.services.gauges.version.set(version);
      if (this.services.config.validation.everySteps === 0) this.validate(this.steps.stepsDone);
      this.wake();
    });
    const ticker = setInterval(() => this.wake(), 250);
    // An engine ejected or back changes what may be admitted now.
    const unwatch = this.services.sandboxes?.onChange?.(() => this.wake());
    try {
      await this.steps.completeSteps();
      for (;;) {
        this.throwIfFailed();
        await this.pump();
        this.throwIfFailed();
        if (this.running.size === 0 && !this.hasWork()) break;
        await this.sleep();
      }
      await this.finish();
      this.throwIfFailed();
    } catch (error) {
      this.abort.abort();
      await Promise.allSettled([...this.running.values(), ...this.validations]);
      throw error;
    } finally {
      clearInterval(ticker);
      unsubscribe?.();
      unwatch?.();
      await this.trajectories.close();
    }
    const status = this.stopping ? STOPPED_STATUS[this.stopping] : "finished";
    return {
      status,
      steps: this.steps.stepsDone,
      batches: this.steps.batchesCommitted,
      rollouts: this.steps.rolloutsDone,
      stepsWithoutBatch: this.stepsWithoutBatch,
      ...(this.engineRetries > 0 ? { engineRetries: this.engineRetries } : {}),
      ...(this.haltMessage ? { message: this.haltMessage } : {}),
    };
  }

  // ---- resume ----

  /**
   * Picks a resumed run up where the journal and the spool left it: a committed group's slot is
   * decided, a dropped group's slot goes on as the drop says (retry, refill or decided), an
   * unfinished group runs again as it was admitted.
   */
  private restore(committed: ReadonlySet<string>): void {
    const resumed = resumeSlots(this.services.journal.state, committed, {
      groupsPerStep: this.groupsPerStep,
      stepsDone: this.steps.stepsDone,
    });
    this.nextSlot = resumed.nextSlot;
    for (const { step, admit, refills, outcome } of resumed.slots) {
      const state: SlotState = {
        slot: admit.slot,
        step,
        attempt: admit.attempt,
        refills,
        decided: false,
      };
      this.slots.set(admit.slot, state);
      if (outcome.kind === "committed") state.decided = true;
      else if (outcome.kind === "dropped") this.afterDrop(state, outcome.verdict, admit.taskIndex);
      else
        this.queue.push({
          plan: this.planOf(state, admit.attempt),
          taskIndex: admit.taskIndex,
          reason: admit.reason,
          journaled: true,
        });
    }
  }

  /**
   * Where a resumed run's schedule continues, and the schedule indices of the tasks it needs
   * back (see `tasksToKeep` in resume.ts).
   */
  static tasksToKeep(
    journal: FarmJournal,
    committed: ReadonlySet<string>,
  ): { skip: number; keep: Set<number> } {
    return tasksToKeep(journal.state, committed);
  }

  // ---- admission ----

  private planOf(state: SlotState, attempt: number): Omit<GroupPlan, "task"> {
    const suffix = attempt === NEW_SLOT_ATTEMPT ? "" : `.${attempt}`;
    return {
      groupId: `${this.services.runId}-s${state.slot}${suffix}`,
      slot: state.slot,
      attempt,
      mode: this.services.config.run.mode,
      size: this.groupSize,
    };
  }

  private hasWork(): boolean {
    if (this.stopping) return false;
    if (this.queue.length > 0) return true;
    return this.endSlot === undefined && this.nextSlot < this.totalSlots;
  }

  /** Why a new slot cannot be admitted now, or undefined when it can. */
  private newSlotBlocked(): string | undefined {
    const { config, bridge } = this.services;
    if (bridge) {
      // A step that sent the trainer no batch (every group tied, stale or masked) gives it
      // nothing to update on: its slots do not count, or the farm and trainer would wait on
      // each other for good.
      const empty = this.services.journal.state.stepsWithoutBatch + this.stepsWithoutBatch;
      const limit = (config.rollout.staleness + this.version + 1 + empty) * this.groupsPerStep;
      if (this.nextSlot >= limit)
        return `staleness bound: ${this.nextSlot * this.groupSize} rollouts admitted at policy version ${this.version}; waiting for the trainer's next update`;
      if (bridge.backpressure)
        return `backpressure: ${bridge.queued().tokens} tokens queued for the trainer`;
    }
    return undefined;
  }

  private get rolloutsRunning(): number {
    return this.running.size * this.groupSize;
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.admitAll();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Rollouts that may run at once: `rollout.episodes`, or in sandbox mode the fleet's healthy
   * capacity when lower (the gauges say which, so a capped farm does not queue silently).
   */
  private admissionLimit(): number {
    const { config, sandboxes, gauges } = this.services;
    const outage = config.run.mode === "sandbox" ? sandboxes?.outage?.() : undefined;
    if (outage)
      this.halt(
        `${outage}. Bring an engine back (\`sandfarm sandbox doctor\`), then \`sandfarm train --resume\``,
      );
    const episodes = config.rollout.episodes;
    const capacity = config.run.mode === "sandbox" ? (sandboxes?.capacity ?? Infinity) : Infinity;
    const limit = Math.min(episodes, capacity);
    gauges.admissionLimit.set(limit);
    gauges.admissionCapped.set(capacity < episodes ? 1 : 0);
    return limit;
  }

  private async admitAll(): Promise<void> {
    const limit = this.admissionLimit();
    while (!this.stopping && !this.fatal && this.rolloutsRunning < limit) {
      const queued = this.queue.shift();
      if (queued) {
        await this.admitQueued(queued);
        continue;
      }
      if (this.endSlot !== undefined || this.nextSlot >= this.totalSlots) break;
      const blocked = this.newSlotBlocked();
      if (blocked !== this.waiting) {
        this.waiting = blocked;
        if (blocked && this.running.size === 0)
          this.services.onEvent?.({ kind: "waiting", reason: blocked });
      }
      if (blocked) break;
      const next = await this.services.tasks.next();
      if (!next) {
        this.endSlot = this.nextSlot;
        await this.steps.completeSteps();
        break;
      }
      const slot = this.nextSlot++;
      const state: SlotState = {
        slot,
        step: Math.floor(slot / this.groupsPerStep),
        attempt: NEW_SLOT_ATTEMPT,
        refills: 0,
        decided: false,
      };
      this.slots.set(slot, state);
      await this.start(
        { ...this.planOf(state, NEW_SLOT_ATTEMPT), task: next.task },
        next.index,
        "new",
        false,
      );
    }
  }

  private async admitQueued(queued: (typeof this.queue)[number]): Promise<void> {
    let task = queued.task;
    let taskIndex = queued.taskIndex;
    if (!task && taskIndex !== undefined) task = this.services.tasks.kept(taskIndex);
    if (!task) {
      // A refill takes the schedule's next task.
      const next = await this.services.tasks.next();
      const state = this.slots.get(queued.plan.slot)!;
      if (!next) {
        this.endSlot ??= this.nextSlot;
        this.decide(state);
        return;
      }
      task = next.task;
      taskIndex = next.index;
    }
    await this.start({ ...queued.plan, task }, taskIndex!, queued.reason, queued.journaled);
  }

  private async start(
    plan: GroupPlan,
    taskIndex: number,
    reason: AdmitEntry["reason"],
    journaled: boolean,
  ): Promise<void> {
    if (!journaled)
      await this.services.journal.append({
        type: "admit",
        groupId: plan.groupId,
        slot: plan.slot,
        attempt: plan.attempt,
        reason,
        taskIndex,
        taskId: plan.task.id,
      });
    const { config, policy, sandboxes, rewarder } = this.services;
    this.ejectionsAtStart.set(plan.groupId, sandboxes?.ejections ?? 0);
    const run = runGroup(plan, {
      policy,
      ...(sandboxes ? { sandboxes } : {}),
      rewarder,
      episodes: this.episodes,
      estimator: config.rewards.advantage,
      episodeOptions: this.rolloutOptions(),
      signal: this.abort.signal,
      onEpisode: (delta) => {
        this.episodesRunning += delta;
        this.services.gauges.running.set(this.episodesRunning);
      },
    })
      .then((result) => this.onGroupDone(result, taskIndex))
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.running.delete(plan.groupId);
        this.ejectionsAtStart.delete(plan.groupId);
        this.wake();
      });
    this.running.set(plan.groupId, run);
  }

  /** Training rollouts: the run's mode, every sampling key sent (`rolloutSampling`). */
  private rolloutOptions(): EpisodeOptions {
    const { episode, policy, run } = this.services.config;
    return episodeOptionsFor(episode, {
      sampling: rolloutSampling(policy.sampling, run.mode),
      ...(this.services.endpoint ? { fitted: this.services.endpoint } : {}),
    });
  }

  /** Validation episodes: `validation.sampling`, only the keys it sets (`evalSampling`). */
  private validationOptions(mode: "sandbox" | "llm"): EpisodeOptions {
    const { episode, validation } = this.services.config;
    return episodeOptionsFor(episode, {
      sampling: evalSampling(validation.sampling, mode),
      ...(this.services.endpoint ? { fitted: this.services.endpoint } : {}),
    });
  }

  // ---- decisions ----

  private async onGroupDone(result: GroupResult, taskIndex: number): Promise<void> {
    const { task } = result.plan;
    const state = this.slots.get(result.plan.slot)!;
    if (result.verdict === "cancelled") {
      this.services.onEvent?.({
        kind: "group",
        groupId: result.plan.groupId,
        verdict: "cancelled",
      });
      return;
    }
    let verdict: GroupSummary["verdict"];
    let staleness: number | undefined;
    if (result.verdict === "train") {
      staleness = this.version - result.minVersion;
      const stale =
        this.services.bridge !== undefined &&
        result.minVersion < this.version - this.services.config.rollout.staleness;
      verdict = stale ? "dropped_stale" : "batched";
    } else {
      verdict = result.verdict;
    }
    // A group that failed while an engine was ejected lost its sandboxes with the engine: the
    // fleet has dealt with that engine, so the group runs again without counting against the run.
    // The engines are checked first: a killed engine fails its group before its next ping.
    if (verdict === "masked_infrastructure") await this.services.sandboxes?.checkEngines?.();
    const acrossEjection =
      (this.services.sandboxes?.ejections ?? 0) >
      (this.ejectionsAtStart.get(result.plan.groupId) ?? 0);
    if (verdict === "masked_infrastructure") {
      // Within the slot's budget of engine losses; past it, a loss counts like any failure.
      const engineLost =
        acrossEjection &&
        (state.engineLosses ?? 0) < this.services.config.rollout.engineLossRetries;
      if (engineLost) {
        state.engineLosses = (state.engineLosses ?? 0) + 1;
        this.engineRetries++;
      } else this.consecutiveInfra++;
      this.services.gauges.infraRetries.inc({ cause: engineLost ? "engine_lost" : "other" });
    } else this.consecutiveInfra = 0;
    this.steps.recordGroup({
      step: state.step,
      verdict,
      rollouts: result.rollouts,
      ...(staleness !== undefined ? { staleness } : {}),
    });
    this.services.onEvent?.({ kind: "group", groupId: result.plan.groupId, verdict });
    const records = result.rollouts.map((rollout): TrajectoryRecord => ({
      groupId: result.plan.groupId,
      step: state.step,
      slot: state.slot,
      verdict,
      reward: rollout.outcome.reward,
      advantage: rollout.advantage,
      status: rollout.outcome.status,
      episode: rollout.episode,
    }));
    this.trajectories.append(records);
    if (verdict === "batched") {
      this.steps.addRows(state.step, result.rows);
      this.decide(state);
      return;
    }
    await this.trajectories.sync();
    await this.services.journal.append({
      type: "group",
      groupId: result.plan.groupId,
      slot: state.slot,
      verdict,
      ...(result.failure ? { detail: result.failure } : {}),
    });
    if (
      verdict === "masked_infrastructure" &&
      this.consecutiveInfra >= this.services.config.rollout.maxInfraFailures
    ) {
      this.halt(
        `${this.consecutiveInfra} groups in a row failed for infrastructure reasons; the last: ${result.failure ?? "unknown"}. ` +
          "Fix the engine or the policy endpoint (`sandfarm doctor`, `sandfarm sandbox doctor`), then `sandfarm train --resume`",
      );
      return;
    }
    this.afterDrop(state, verdict, taskIndex, task);
  }

  /**
   * A dropped group's slot: retried on the same task (`task`, or on resume the schedule's task
   * at `taskIndex`), refilled with the next task, or decided.
   */
  private afterDrop(state: SlotState, verdict: DropVerdict, taskIndex: number, task?: Task): void {
    if (verdict === "masked_infrastructure") {
      state.attempt++;
      this.queue.push({
        plan: this.planOf(state, state.attempt),
        ...(task ? { task } : {}),
        taskIndex,
        reason: "retry",
        journaled: false,
      });
      return;
    }
    if (
      verdict === "dropped_tie" &&
      this.services.config.rollout.refillZeroVariance &&
      state.refills < MAX_REFILLS_PER_SLOT
    ) {
      state.attempt++;
      state.refills++;
      this.queue.push({
        plan: this.planOf(state, state.attempt),
        reason: "refill",
        journaled: false,
      });
      return;
    }
    this.decide(state);
  }

  private decide(state: SlotState): void {
    state.decided = true;
    void this.steps.completeSteps().catch((error: unknown) => this.fail(error));
  }

  // ---- steps ----

  /** Whether every slot of `step` exists and is decided. */
  private stepComplete(step: number): boolean {
    const first = step * this.groupsPerStep;
    let last = first + this.groupsPerStep;
    if (this.endSlot !== undefined) last = Math.min(last, this.endSlot);
    last = Math.min(last, this.totalSlots);
    if (last <= first) return false;
    for (let slot = first; slot < last; slot++) if (!this.slots.get(slot)?.decided) return false;
    return true;
  }

  /** A journaled step: its slots are behind the run; validation may be due. */
  private afterStep(step: number, metrics: StepMetrics): void {
    for (let slot = step * this.groupsPerStep; slot < (step + 1) * this.groupsPerStep; slot++)
      this.slots.delete(slot);
    this.services.onEvent?.({ kind: "step", metrics });
    // A step that trains nothing is worth a word at once, not only in the metrics.
    if (metrics.groups.batched === 0) {
      this.stepsWithoutBatch++;
      this.services.gauges.stepsWithoutBatch.inc();
      this.services.onEvent?.({ kind: "untrained", step: metrics.step, groups: metrics.groups });
    }
    const every = this.services.config.validation.everySteps;
    const stepsDone = this.steps.stepsDone;
    if (every > 0 && stepsDone % every === 0) this.validate(stepsDone);
  }

  // ---- validation ----

  private validate(step: number): void {
    const tasks = this.services.validationTasks ?? [];
    const version = this.version;
    if (
      tasks.length === 0 ||
      this.stopping ||
      (version === this.lastValidatedVersion && this.services.config.validation.everySteps === 0)
    )
      return;
    this.lastValidatedVersion = version;
    const run = evaluateTasks(tasks, this.services.config.validation.modes, {
      policy: this.services.policy,
      ...(this.services.sandboxes ? { sandboxes: this.services.sandboxes } : {}),
      rewarder: this.services.rewarder,
      episodes: this.episodes,
      episodeOptions: (mode) => this.validationOptions(mode),
      signal: this.abort.signal,
      runId: this.services.runId,
      label: `v${version}-step${step}`,
    })
      .then(async (report) => {
        if (report.cancelled) return;
        const line = { step, version, ...report.scores };
        await appendFile(
          join(this.services.runDir, "validation.jsonl"),
          `${JSON.stringify(line)}\n`,
        );
        for (const [mode, scores] of Object.entries(report.scores))
          for (const [domain, value] of Object.entries(scores.domains))
            this.services.gauges.validation.set({ mode, domain }, value.score);
        this.services.onEvent?.({ kind: "validation", report: { ...report, step, version } });
      })
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.validations.delete(run));
    this.validations.add(run);
  }

  // ---- stopping ----

  private halt(message: string): void {
    if (this.stopping === "halt") return;
    this.stopping = "halt";
    this.haltMessage = message;
    this.services.onEvent?.({ kind: "stopping", how: "halt", message });
    this.abort.abort();
    this.wake();
  }

  private throwIfFailed(): void {
    if (this.fatal) throw this.fatal;
  }

  private fail(error: unknown): void {
    this.fatal ??= error instanceof Error ? error : new Error(String(error));
    this.abort.abort();
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    if (wake) wake();
    else this.woken = true;
  }

  /** Resolves at the next `wake()`, or at once if one came since the last wait. */
  private sleep(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (this.wakeUp = resolve));
  }

  /** Waits for running work, commits what was decided, reports finished steps. */
  private async finish(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
    if (!this.fatal) {
      await this.steps.completeSteps();
      await this.steps.flush();
    }
    // Last: finishing the last step may have started a validation.
    while (this.validations.size > 0) await Promise.allSettled([...this.validations]);
  }
}
