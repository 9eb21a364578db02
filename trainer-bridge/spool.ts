/**
 * The spool: where batches wait, durably, until a trainer acknowledges them (docs/architecture.md,
 * "One commit point"). Committing a batch writes its Arrow IPC file (temporary name, fsync, rename,
 * fsync of the directory) and then appends a journal line naming its rollouts, fsynced: only
 * then is the batch committed. An acknowledgement is a journal line too, fsynced before the
 * file is removed. Reopening the spool after a crash serves every committed, unacknowledged
 * batch again, removes files no commit line names (their rollouts were never committed) and
 * tolerates a torn last journal line; any other damage is an error naming the file and line.
 *
 * Layout of `dir`: `journal.jsonl`, and `<batch id>.arrow` per unacknowledged batch.
 *
 * @example
 * const spool = await Spool.open("runs/r1/spool", { runId: "r1" });
 * const batch = await spool.commit(rows, { reward_mean: 0.4 });
 * await spool.ack(batch.batchId);
 */
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { encodeBatch, tokenCount } from "./arrow.js";
import type { TrainingRow } from "./training-row.js";
import { UserError } from "../common/errors.js";

export const JOURNAL_FILE = "journal.jsonl";
const JOURNAL_VERSION = 1;

/** What the journal records about a committed batch. */
export interface CommittedBatch {
  /** `<runId>-<sequence>`. */
  batchId: string;
  sequence: number;
  rows: number;
  groups: number;
  tokens: number;
  trainedTokens: number;
  /** Oldest and newest policy version of a trained token; -1 when none is trained. */
  minVersion: number;
  maxVersion: number;
  byteLength: number;
  sha256: string;
  /** Every rollout with a row in the batch. */
  rolloutIds: string[];
  metrics: Record<string, number>;
}

const commitLine = z.object({
  v: z.literal(JOURNAL_VERSION),
  type: z.literal("commit"),
  batchId: z.string().min(1),
  sequence: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  groups: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  trainedTokens: z.number().int().nonnegative(),
  minVersion: z.number().int(),
  maxVersion: z.number().int(),
  byteLength: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rolloutIds: z.array(z.string()),
  metrics: z.record(z.string(), z.number()),
});
const ackLine = z.object({
  v: z.literal(JOURNAL_VERSION),
  type: z.literal("ack"),
  batchId: z.string().min(1),
});
const journalLine = z.discriminatedUnion("type", [commitLine, ackLine]);

/** The spool cannot be opened or written: names the file (and line) and what to do. */
export class SpoolError extends UserError {}

export interface SpoolOptions {
  /** Names the batches: `<runId>-<sequence>`. Letters, digits, `.`, `_` and `-`. */
  runId: string;
  /** Keep unacknowledged batches' bytes in memory up to this many bytes, else read the file. @default 2 GiB */
  memoryBytes?: number;
  /** Schema metadata every batch carries (e.g. `sandfarm.sampling`). @default none */
  batchMetadata?: Readonly<Record<string, string>>;
}

/** One run's spool. Commits and acknowledgements are serialised in call order. */
export class Spool {
  private readonly committed = new Map<string, CommittedBatch>();
  private readonly acked = new Set<string>();
  private readonly inMemory = new Map<string, readonly Uint8Array[]>();
  private memoryUsed = 0;
  private nextSequence = 0;
  private journal!: FileHandle;
  /** Bytes of whole lines in the journal: a failed append is cut back to this. */
  private journalSize = 0;
  /** Set when the journal could not be repaired after a failed write: nothing more is written. */
  private broken?: Error;
  /** Commits and acks are appended one at a time, in call order. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly memoryBytes: number;
  private readonly batchMetadata: Readonly<Record<string, string>>;

  private constructor(
    readonly dir: string,
    readonly runId: string,
    options: SpoolOptions,
  ) {
    this.memoryBytes = options.memoryBytes ?? 2 * 1024 ** 3;
    this.batchMetadata = options.batchMetadata ?? {};
  }

  static async open(dir: string, options: SpoolOptions): Promise<Spool> {
    if (!/^[A-Za-z0-9._-]+$/.test(options.runId))
      throw new SpoolError(
        `runId '${options.runId}' must use only letters, digits, '.', '_' and '-' (it names files)`,
      );
    const spool = new Spool(dir, options.runId, options);
    await mkdir(dir, { recursive: true });
    await spool.replay();
    spool.journal = await open(join(dir, JOURNAL_FILE), "a");
    spool.journalSize = (await spool.journal.stat()).size;
    await spool.removeStrayFiles();
    return spool;
  }

  private async replay(): Promise<void> {
    const path = join(this.dir, JOURNAL_FILE);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new SpoolError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    const lines = text.split("\n");
    // A crash mid-append leaves a last line without its newline: it was never fsynced as a
    // whole, so it never counted. Cut it off so the next append starts on a fresh line.
    const torn = lines.pop();
    if (torn) {
      const handle = await open(path, "r+");
      await handle.truncate(Buffer.byteLength(text) - Buffer.byteLength(torn));
      await handle.sync();
      await handle.close();
    }
    lines.forEach((line, index) => {
      let parsed: z.infer<typeof journalLine>;
      try {
        parsed = journalLine.parse(JSON.parse(line));
      } catch (error) {
        throw new SpoolError(
          `${path}:${index + 1}: not a journal line sandfarm writes (${(error as Error).message.slice(0, 200)}); ` +
            "the spool is damaged: restore it from a backup or start a new run directory",
          { cause: error },
        );
      }
      if (parsed.type === "ack") {
        if (!this.committed.has(parsed.batchId))
          throw new SpoolError(
            `${path}:${index + 1}: acknowledges ${parsed.batchId}, which no earlier line commits`,
          );
        this.acked.add(parsed.batchId);
        return;
      }
      const { v: _version, type: _type, ...batch } = parsed;
      this.committed.set(batch.batchId, batch);
      this.nextSequence = Math.max(this.nextSequence, batch.sequence + 1);
    });
  }

  /** Removes files of acknowledged batches and files no commit line names. */
  private async removeStrayFiles(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name === JOURNAL_FILE) continue;
      const batchId = name.endsWith(".arrow") ? name.slice(0, -".arrow".length) : undefined;
      const wanted = batchId && this.committed.has(batchId) && !this.acked.has(batchId);
      if (!wanted) await rm(join(this.dir, name), { force: true });
    }
    for (const batch of this.pending()) {
      const handle = await open(this.fileOf(batch.batchId), "r").catch((error: unknown) => {
        throw new SpoolError(
          `${this.fileOf(batch.batchId)}: committed in the journal but missing; the spool is damaged`,
          { cause: error },
        );
      });
      await handle.close();
    }
  }

  private fileOf(batchId: string): string {
    return join(this.dir, `${batchId}.arrow`);
  }

  /**
   * Encodes, writes and commits one batch. Resolves once the batch is durable. The rows' typed
   * arrays must not be modified until the batch is acknowledged: the unacknowledged bytes kept in
   * memory for delivery are views of them (zero-copy), and delivery checks them against the
   * SHA-256 taken at commit. Metrics must be finite (the journal is JSON).
   */
  commit(
    rows: readonly TrainingRow[],
    metrics: Record<string, number> = {},
  ): Promise<CommittedBatch> {
    const run = this.tail.then(() => this.commitNow(rows, metrics));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commitNow(
    rows: readonly TrainingRow[],
    metrics: Record<string, number>,
  ): Promise<CommittedBatch> {
    if (this.broken) throw this.broken;
    if (rows.length === 0) throw new SpoolError("a batch needs at least one row");
    for (const [name, value] of Object.entries(metrics))
      if (!Number.isFinite(value))
        throw new SpoolError(
          `metric '${name}' is ${value}; batch metrics must be finite numbers (leave it out instead)`,
        );
    const sequence = this.nextSequence;
    const batchId = `${this.runId}-${sequence}`;
    const encoded = encodeBatch(rows, { batchId, sequence, metadata: this.batchMetadata });
    const hash = createHash("sha256");
    for (const chunk of encoded.chunks) hash.update(chunk);
    let minVersion = Infinity;
    let maxVersion = -1;
    let trainedTokens = 0;
    for (const row of rows) {
      for (let index = 0; index < row.versions.length; index++) {
        if (row.lossMask[index] !== 1) continue;
        trainedTokens++;
        const version = row.versions[index]!;
        if (version < minVersion) minVersion = version;
        if (version > maxVersion) maxVersion = version;
      }
    }
    const batch: CommittedBatch = {
      batchId,
      sequence,
      rows: rows.length,
      groups: new Set(rows.map((row) => row.groupId)).size,
      tokens: tokenCount(rows),
      trainedTokens,
      minVersion: trainedTokens === 0 ? -1 : minVersion,
      maxVersion,
      byteLength: encoded.byteLength,
      sha256: hash.digest("hex"),
      rolloutIds: [...new Set(rows.map((row) => row.rolloutId))],
      metrics,
    };
    const file = this.fileOf(batchId);
    const temporary = `${file}.tmp`;
    const handle = await open(temporary, "w");
    try {
      await handle.writev(encoded.chunks);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    await this.syncDirectory();
    await this.append({ v: JOURNAL_VERSION, type: "commit", ...batch });
    this.nextSequence = sequence + 1;
    this.committed.set(batchId, batch);
    if (this.memoryUsed + encoded.byteLength <= this.memoryBytes) {
      this.inMemory.set(batchId, encoded.chunks);
      this.memoryUsed += encoded.byteLength;
    }
    return batch;
  }

  private async syncDirectory(): Promise<void> {
    const handle = await open(this.dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * Appends one line and fsyncs it. On failure (a full disk, an I/O error) the partial line is
   * cut off, so the journal stays whole lines; if even that fails, the spool refuses every later
   * write rather than risk a damaged line in the middle.
   */
  private async append(line: object): Promise<void> {
    if (this.broken) throw this.broken;
    const text = `${JSON.stringify(line)}\n`;
    try {
      await this.journal.write(text);
      await this.journal.sync();
      this.journalSize += Buffer.byteLength(text);
    } catch (error) {
      try {
        await this.journal.truncate(this.journalSize);
        await this.journal.sync();
      } catch (repair) {
        this.broken = new SpoolError(
          `${join(this.dir, JOURNAL_FILE)}: a write failed (${(error as Error).message}) and the ` +
            `partial line could not be removed (${(repair as Error).message}); the spool takes no ` +
            "more writes: fix the disk and restart",
          { cause: error },
        );
      }
      throw new SpoolError(
        `${join(this.dir, JOURNAL_FILE)}: could not append: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Records a batch as trained on, durably, and deletes its file. Returns false when the batch
   * was already acknowledged; throws for a batch this spool never committed.
   */
  ack(batchId: string): Promise<boolean> {
    const run = this.tail.then(async () => {
      if (this.broken) throw this.broken;
      if (!this.committed.has(batchId)) throw new SpoolError(`no committed batch '${batchId}'`);
      if (this.acked.has(batchId)) return false;
      await this.append({ v: JOURNAL_VERSION, type: "ack", batchId });
      this.acked.add(batchId);
      const chunks = this.inMemory.get(batchId);
      if (chunks) {
        this.inMemory.delete(batchId);
        this.memoryUsed -= chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
      }
      await rm(this.fileOf(batchId), { force: true });
      return true;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  isAcked(batchId: string): boolean {
    return this.acked.has(batchId);
  }

  get(batchId: string): CommittedBatch | undefined {
    return this.committed.get(batchId);
  }

  /** Committed, unacknowledged batches in sequence order. */
  pending(): CommittedBatch[] {
    return [...this.committed.values()]
      .filter((batch) => !this.acked.has(batch.batchId))
      .sort((a, b) => a.sequence - b.sequence);
  }

  /** Every rollout in a committed batch (acknowledged or not): never to be generated again. */
  committedRollouts(): Set<string> {
    const rollouts = new Set<string>();
    for (const batch of this.committed.values())
      for (const rollout of batch.rolloutIds) rollouts.add(rollout);
    return rollouts;
  }

  get ackedCount(): number {
    return this.acked.size;
  }

  /** A pending batch's Arrow IPC bytes, as chunks (from memory, or read from its file). */
  async read(batchId: string): Promise<readonly Uint8Array[]> {
    const cached = this.inMemory.get(batchId);
    if (cached) return cached;
    if (!this.committed.has(batchId) || this.acked.has(batchId))
      throw new SpoolError(`batch '${batchId}' is not pending in this spool`);
    return [await readFile(this.fileOf(batchId))];
  }

  async close(): Promise<void> {
    await this.tail;
    await this.journal.close();
  }
}
