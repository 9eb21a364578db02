/**
 * The farm's books: what decided groups add to their step's metrics and to the run's counters,
 * batched groups' rows packed into batches and committed (to the bridge, or to the spool for the
 * file sink), and finished steps reported in step order: the step's packer flushed (the step's
 * data reaches the trainer), its metrics line in metrics.jsonl, then its `step` line in the
 * journal. Each step packs apart: a group of a later step that finishes first waits for its own
 * step, so a trainer update is one step's data and a step with batched groups always sends the
 * trainer a batch of its own (the staleness bound counts on it: docs/architecture.md).
 * Which step is finished is the farm's call (`stepComplete`); so is what happens after one.
 *
 * @example
 * const steps = new StepLedger(services, { version, syncTrajectories, stepComplete, ... });
 * steps.recordGroup({ step: 0, verdict: "batched", rollouts, staleness: 0 });
 * steps.addRows(0, rows);
 * await steps.completeSteps();
 */
import { appendFile, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BatchPacker } from "../../trainer-bridge/packing.js";
import type { BridgeServer } from "../../trainer-bridge/server.js";
import type { CommittedBatch, Spool } from "../../trainer-bridge/spool.js";
import type { TrainingRow } from "../../trainer-bridge/training-row.js";
import type { FarmConfig } from "../config/train.js";
import type { RolloutResult } from "./groups.js";
import type { FarmJournal } from "./journal.js";
import {
  type EngineAtStep,
  type FarmGauges,
  type GroupSummary,
  StepTally,
  type StepMetrics,
} from "./metrics.js";

export interface StepLedgerServices {
  config: Pick<FarmConfig, "sink">;
  runDir: string;
  spool: Spool;
  /** The gRPC sink; without it batches stay as Arrow files in the spool. */
  bridge?: BridgeServer;
  /** Its `stepsDone` is where this session's step count starts. */
  journal: FarmJournal;
  gauges: FarmGauges;
}

/** What the ledger needs from the farm, and tells it. */
export interface StepLedgerHooks {
  /** The committed policy version, stamped on batches and step metrics. */
  version(): number;
  /** Makes the decided groups' trajectories durable; a batch is committed only after. */
  syncTrajectories(): Promise<void>;
  /** Whether every slot of `step` exists and is decided. */
  stepComplete(step: number): boolean;
  onBatch(batch: CommittedBatch): void;
  /** A step is journaled; `stepsDone` counts it. */
  onStep(step: number, metrics: StepMetrics): void;
  /** After each pass over finished steps: the loop may have work again, or none left. */
  wake(): void;
  /** A batch failed to commit in the background: the run cannot go on. */
  onFailure(error: unknown): void;
  /** The sandbox engines now, recorded with each step (sandbox mode with a fleet). */
  engines?(): EngineAtStep[] | undefined;
}

/** A decided group, as its step's metrics count it. */
export interface DecidedGroup {
  step: number;
  verdict: GroupSummary["verdict"];
  rollouts: readonly RolloutResult[];
  /** Versions its oldest token is behind the committed one; the tally counts it when batched. */
  staleness?: number;
}

export const STEP_METRICS_FILE = "metrics.jsonl";

/**
 * Cuts `metrics.jsonl` back to the steps the journal holds as finished, each once. A step's
 * metrics line is written before its journal line, so a crash between the two leaves a line
 * for a step the resumed run finishes (and writes) again; a torn last line goes too.
 */
export async function trimStepMetrics(runDir: string, stepsDone: number): Promise<void> {
  const path = join(runDir, STEP_METRICS_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const seen = new Set<number>();
  const kept = text.split("\n").filter((line) => {
    let step: unknown;
    try {
      step = (JSON.parse(line) as { step?: unknown }).step;
    } catch {
      return false; // empty, or a torn last line
    }
    if (typeof step !== "number" || step >= stepsDone || seen.has(step)) return false;
    seen.add(step);
    return true;
  });
  const trimmed = kept.length ? `${kept.join("\n")}\n` : "";
  if (trimmed === text) return;
  const temporary = `${path}.tmp`;
  await writeFile(temporary, trimmed);
  await rename(temporary, path);
}

export class StepLedger {
  /** One packer per step with batched rows not yet committed. */
  private readonly packers = new Map<number, BatchPacker>();
  private readonly tallies = new Map<number, StepTally>();
  private stepChain: Promise<void> = Promise.resolve();
  private commitChain: Promise<void> = Promise.resolve();
  private finishedSteps: number;
  private committedBatches = 0;
  /** This session's finished rollouts and their work. */
  private readonly totals = { rollouts: 0, turns: 0, tokens: 0 };
  /** Totals when the previous step finished, for its successor's throughput. */
  private rate = { at: Date.now(), rollouts: 0, turns: 0, tokens: 0 };

  constructor(
    private readonly services: StepLedgerServices,
    private readonly hooks: StepLedgerHooks,
  ) {
    this.finishedSteps = services.journal.state.stepsDone;
  }

  /** Steps finished in this run directory (all sessions). */
  get stepsDone(): number {
    return this.finishedSteps;
  }

  /** Batches this session committed. */
  get batchesCommitted(): number {
    return this.committedBatches;
  }

  /** Rollouts this session finished (all verdicts). */
  get rolloutsDone(): number {
    return this.totals.rollouts;
  }

  /** Sandbox turns executed by this session's finished rollouts. */
  get turnsDone(): number {
    return this.totals.turns;
  }

  /** Counts a decided group in the gauges, the totals and its step's tally. */
  recordGroup(group: DecidedGroup): void {
    const { gauges } = this.services;
    this.totals.rollouts += group.rollouts.length;
    for (const rollout of group.rollouts) {
      gauges.rollouts.inc({ stop_reason: rollout.episode.stopReason });
      gauges.turns.inc(rollout.summary.turns);
      this.totals.turns += rollout.summary.turns;
      this.totals.tokens += rollout.summary.promptTokens + rollout.summary.completionTokens;
      gauges.tokens.inc({ kind: "prompt" }, rollout.summary.promptTokens);
      gauges.tokens.inc({ kind: "completion" }, rollout.summary.completionTokens);
    }
    gauges.groups.inc({ verdict: group.verdict });
    this.tallyOf(group.step).addGroup({
      verdict: group.verdict,
      rollouts: group.rollouts.map((rollout) => rollout.summary),
      ...(group.verdict === "batched" && group.staleness !== undefined
        ? { staleness: group.staleness }
        : {}),
    });
  }

  /**
   * Packs a batched group's rows with its step's; the batches it fills (past the token budget)
   * commit in the background.
   */
  addRows(step: number, rows: readonly TrainingRow[]): void {
    let packer = this.packers.get(step);
    if (!packer) {
      packer = new BatchPacker(this.services.config.sink.tokenBudget);
      this.packers.set(step, packer);
    }
    // A failed commit reaches the farm through `onFailure`.
    void this.commitBatches(packer.add(rows)).catch(() => undefined);
  }

  /**
   * Commits what `step`'s packer holds, or every step's in step order when no step is given;
   * resolves when every batch so far is committed.
   */
  flush(step?: number): Promise<void> {
    const steps = step === undefined ? [...this.packers.keys()].sort((a, b) => a - b) : [step];
    const batches = steps.flatMap((each) => {
      const rows = this.packers.get(each)?.flush() ?? [];
      this.packers.delete(each);
      return rows;
    });
    return this.commitBatches(batches);
  }

  /** Reports finished steps, in order: flush, metrics line, journal line. */
  completeSteps(): Promise<void> {
    this.stepChain = this.stepChain.then(async () => {
      while (this.hooks.stepComplete(this.finishedSteps)) {
        const step = this.finishedSteps;
        await this.flush(step);
        const now = Date.now();
        const metrics = this.tallyOf(step).finish({
          version: this.hooks.version(),
          at: now,
          throughput: {
            seconds: (now - this.rate.at) / 1000,
            rollouts: this.totals.rollouts - this.rate.rollouts,
            turns: this.totals.turns - this.rate.turns,
            tokens: this.totals.tokens - this.rate.tokens,
          },
        });
        const engines = this.hooks.engines?.();
        if (engines) metrics.engines = engines;
        this.rate = { at: now, ...this.totals };
        this.tallies.delete(step);
        await appendFile(
          join(this.services.runDir, STEP_METRICS_FILE),
          `${JSON.stringify(metrics)}\n`,
        );
        await this.services.journal.append({
          type: "step",
          step,
          ...(metrics.groups.batched === 0 ? { trained: false } : {}),
        });
        this.finishedSteps = step + 1;
        this.services.gauges.recordStep(metrics);
        this.hooks.onStep(step, metrics);
      }
      this.hooks.wake();
    });
    return this.stepChain;
  }

  private tallyOf(step: number): StepTally {
    let tally = this.tallies.get(step);
    if (!tally) {
      tally = new StepTally(step);
      this.tallies.set(step, tally);
    }
    return tally;
  }

  private commitBatches(batches: readonly TrainingRow[][]): Promise<void> {
    const { spool, bridge, gauges } = this.services;
    for (const rows of batches) {
      this.commitChain = this.commitChain.then(async () => {
        // The group's trajectories are durable before the batch makes the group count.
        await this.hooks.syncTrajectories();
        const metrics = { version: this.hooks.version(), step: this.finishedSteps };
        const batch = bridge
          ? await bridge.commit(rows, metrics)
          : await spool.commit(rows, metrics);
        this.committedBatches++;
        if (bridge) gauges.queuedTokens.set(bridge.queued().tokens);
        this.hooks.onBatch(batch);
      });
      this.commitChain
        .catch((error: unknown) => this.hooks.onFailure(error))
        .catch(() => undefined);
    }
    return this.commitChain;
  }
}
