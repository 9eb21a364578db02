/**
 * The run's own journal (`RUN_DIR/journal.jsonl`): what a resumed run needs beyond the spool.
 * The spool's journal says which rollouts are committed (docs/architecture.md, "One commit point");
 * this one records, each line fsynced before it counts:
 * - `admit`: a group was admitted for a slot, with its task's position in the schedule, so a
 *   resumed run re-runs an unfinished group on the same task under the same ids;
 * - `group`: a group that will never reach a batch (tie, stale, masked) and why;
 * - `policy`: a committed policy version, and the model name calls carry from it on (a LoRA
 *   adapter's name after an adapter update), so a resumed run samples from the same adapter;
 * - `step`: a finished step (its metrics went to metrics.jsonl before), `trained: false` when
 *   no group of it reached a batch (it gave the trainer nothing to update on).
 * A torn last line (a crash mid-append) is cut off on open; any other damage is an error naming
 * the file and line.
 *
 * @example
 * const journal = await FarmJournal.open("runs/r1");
 * await journal.append({ type: "policy", version: 1 });
 */
import { type FileHandle, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../common/errors.js";

export const FARM_JOURNAL_FILE = "journal.jsonl";
const JOURNAL_VERSION = 1;

export const DROP_VERDICTS = [
  "dropped_tie",
  "dropped_stale",
  "dropped_no_tokens",
  "masked_infrastructure",
] as const;
export type DropVerdict = (typeof DROP_VERDICTS)[number];

const admitLine = z.strictObject({
  type: z.literal("admit"),
  groupId: z.string().min(1),
  slot: z.number().int().nonnegative(),
  attempt: z.number().int().nonnegative(),
  reason: z.enum(["new", "refill", "retry"]),
  taskIndex: z.number().int().nonnegative(),
  taskId: z.string(),
});
const groupLine = z.strictObject({
  type: z.literal("group"),
  groupId: z.string().min(1),
  slot: z.number().int().nonnegative(),
  verdict: z.enum(DROP_VERDICTS),
  detail: z.string().optional(),
});
const policyLine = z.strictObject({
  type: z.literal("policy"),
  version: z.number().int().nonnegative(),
  model: z.string().min(1).optional(),
  /** From the update's begin to its commit: how long model calls were held. */
  pauseMs: z.number().nonnegative().optional(),
});
const stepLine = z.strictObject({
  type: z.literal("step"),
  step: z.number().int().nonnegative(),
  trained: z.literal(false).optional(),
});

const entrySchema = z.discriminatedUnion("type", [admitLine, groupLine, policyLine, stepLine]);
export type JournalEntry = z.infer<typeof entrySchema>;
export type AdmitEntry = z.infer<typeof admitLine>;

/** What the journal said when it was opened. */
export interface JournalState {
  /** Every admission, in order. */
  admits: AdmitEntry[];
  /** Groups that will never reach a batch, by group id. */
  dropped: Map<string, DropVerdict>;
  /** The last committed policy version (0 when none). */
  version: number;
  /** The model name that version is served under, when the journal recorded one. */
  model?: string;
  /** Steps finished and reported. */
  stepsDone: number;
  /** Of those, steps that sent the trainer no batch. */
  stepsWithoutBatch: number;
}

export class FarmJournal {
  private tail: Promise<unknown> = Promise.resolve();
  private size: number;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    size: number,
    readonly state: JournalState,
  ) {
    this.size = size;
  }

  static async open(runDir: string): Promise<FarmJournal> {
    const path = join(runDir, FARM_JOURNAL_FILE);
    const state: JournalState = {
      admits: [],
      dropped: new Map(),
      version: 0,
      stepsDone: 0,
      stepsWithoutBatch: 0,
    };
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const lines = text.split("\n");
    const torn = lines.pop() ?? "";
    lines.forEach((line, index) => {
      let entry: JournalEntry;
      try {
        const parsed = JSON.parse(line) as { v?: unknown };
        if (parsed.v !== JOURNAL_VERSION) throw new Error(`version ${String(parsed.v)}`);
        const { v: _version, at: _at, ...rest } = parsed as Record<string, unknown>;
        entry = entrySchema.parse(rest);
      } catch (error) {
        throw new ConfigError(
          `${path}:${index + 1}: not a journal line sandfarm writes (${(error as Error).message.slice(0, 200)}); ` +
            "the run directory is damaged: resume from a copy or start a new run",
          { cause: error },
        );
      }
      if (entry.type === "admit") state.admits.push(entry);
      else if (entry.type === "group") state.dropped.set(entry.groupId, entry.verdict);
      else if (entry.type === "policy") {
        if (entry.version >= state.version && entry.model !== undefined) state.model = entry.model;
        state.version = Math.max(state.version, entry.version);
      } else state.stepsDone = Math.max(state.stepsDone, entry.step + 1);
    });
    const handle = await open(path, "a");
    const whole = Buffer.byteLength(text) - Buffer.byteLength(torn);
    if (torn) {
      // Never fsynced as a whole line, so it never counted.
      await handle.truncate(whole);
      await handle.sync();
    }
    return new FarmJournal(path, handle, whole, state);
  }

  /** Appends one entry; durable when this resolves. Entries land in call order. */
  append(entry: JournalEntry): Promise<void> {
    const run = this.tail.then(() => this.write(entry));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async write(entry: JournalEntry): Promise<void> {
    const text = `${JSON.stringify({ v: JOURNAL_VERSION, at: Date.now(), ...entry })}\n`;
    try {
      await this.handle.write(text);
      await this.handle.sync();
      this.size += Buffer.byteLength(text);
    } catch (error) {
      await this.handle.truncate(this.size).catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.tail;
    await this.handle.close();
  }
}
