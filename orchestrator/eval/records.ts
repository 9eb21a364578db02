/**
 * `EvalRecord`: one evaluated rollout as `trajectories.jsonl` stores it: the task (without its
 * documents, which can be megabytes; their names and SHA-256 stay), the mode and repeat, the
 * reward outcome and the whole episode. Enough to recompute a report, re-score with another
 * scorer, or export the conversation for fine-tuning, without rerunning anything.
 *
 * @example
 * const records = await readEvalRecords("runs/eval-1/trajectories.jsonl");
 */
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  writeSync,
} from "node:fs";
import { z } from "zod";
import { ANSWER_TYPES, type Task, instructionSchema } from "../../datasets/task.js";
import { type Episode, episodeFromValue } from "../agent/episode-record.js";
import { ConfigError } from "../../common/errors.js";

export const EVAL_RECORD_SCHEMA_VERSION = 1;

/** A task as a record keeps it: everything scoring needs, documents by name and hash only. */
export interface RecordedTask {
  id: string;
  domain: string;
  question: string;
  groundTruth: string;
  answerType: Task["answerType"];
  instructions: Task["instructions"];
  scorer?: string;
  scorerOptions: Record<string, unknown>;
  documents: Record<string, { bytes: number; sha256: string }>;
}

export interface EvalRecord {
  schemaVersion: typeof EVAL_RECORD_SCHEMA_VERSION;
  task: RecordedTask;
  mode: "sandbox" | "llm";
  /** 0-based repeat of this task and mode. */
  repeat: number;
  reward: number;
  /** The rewarder's status: scored, penalized, no_answer, ... */
  status: string;
  /** False: an infrastructure failure, left out of the scores (counted as failed). */
  trainable: boolean;
  scorer?: string;
  episode: Episode;
}

export function recordedTask(task: Task): RecordedTask {
  const documents: RecordedTask["documents"] = {};
  for (const [name, text] of Object.entries(task.documents)) {
    documents[name] = {
      bytes: Buffer.byteLength(text),
      sha256: createHash("sha256").update(text).digest("hex"),
    };
  }
  return {
    id: task.id,
    domain: task.domain,
    question: task.question,
    groundTruth: task.groundTruth,
    answerType: task.answerType,
    instructions: task.instructions,
    ...(task.scorer ? { scorer: task.scorer } : {}),
    scorerOptions: task.scorerOptions,
    documents,
  };
}

/** The task a scorer sees again (no documents: no scorer reads them). */
export function taskOfRecord(record: EvalRecord): Task {
  const { documents: _documents, ...rest } = record.task;
  return { ...rest, documents: {}, metadata: {} };
}

const recordSchema = z
  .object({
    schemaVersion: z.literal(EVAL_RECORD_SCHEMA_VERSION),
    task: z
      .object({
        id: z.string().min(1),
        domain: z.string().min(1),
        question: z.string(),
        groundTruth: z.string(),
        answerType: z.enum(ANSWER_TYPES),
        instructions: z.array(instructionSchema),
        scorer: z.string().optional(),
        scorerOptions: z.record(z.string(), z.unknown()),
        documents: z.record(z.string(), z.object({ bytes: z.number(), sha256: z.string() })),
      })
      .strict(),
    mode: z.enum(["sandbox", "llm"]),
    repeat: z.number().int().min(0),
    reward: z.number(),
    status: z.string(),
    trainable: z.boolean(),
    scorer: z.string().optional(),
    episode: z.unknown(),
  })
  .strict();

/**
 * The record without what a report never reads (the conversation, token ids and logprobs), so a
 * long run keeps its records in memory at a few KB each; the file keeps them whole.
 */
export function slimRecord(record: EvalRecord): EvalRecord {
  return {
    ...record,
    episode: {
      ...record.episode,
      messages: [],
      calls: record.episode.calls.map(
        ({
          promptTokenIds: _prompt,
          completionTokenIds: _completion,
          logprobs: _logprobs,
          ...call
        }) => call,
      ),
    },
  };
}

/** The record's key: a task, mode and repeat is evaluated once per run. */
export function recordKey(
  record: Pick<EvalRecord, "mode" | "repeat"> & { taskId: string },
): string {
  return `${record.taskId}\u0000${record.mode}\u0000${record.repeat}`;
}

export function serializeEvalRecord(record: EvalRecord): string {
  return JSON.stringify(record);
}

/** One line; errors name what is wrong (the caller adds file and line). */
export function parseEvalRecord(line: string): EvalRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join(".") || "(record)"}: ${issue.message}`);
  }
  const episode = episodeFromValue(parsed.data.episode);
  return { ...parsed.data, episode };
}

/** Writes all of `text` (a write may take it in parts). */
export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let written = 0; written < bytes.length;)
    written += writeSync(fd, bytes, written, bytes.length - written);
}

/**
 * Appends whole lines durably. A failed append (a full disk) is cut back off the file, and every
 * later append refuses: no line is ever glued to a torn one, so the file stays resumable.
 */
export class DurableAppender {
  private failed: Error | undefined;

  constructor(private readonly fd: number) {}

  append(line: string): void {
    if (this.failed)
      throw new Error(`an earlier append failed (${this.failed.message}); nothing more is written`);
    const size = fstatSync(this.fd).size;
    try {
      writeAll(this.fd, line);
      fsyncSync(this.fd);
    } catch (error) {
      this.failed = error as Error;
      try {
        ftruncateSync(this.fd, size);
      } catch {
        // The resume cuts a torn last line off anyway.
      }
      throw error;
    }
  }
}

export interface ScanResult {
  /** Whole lines read (empty ones included). */
  lines: number;
  /** The byte length of the whole lines. */
  goodBytes: number;
  /** Bytes of an unfinished last line (a crash mid-write), which a resume cuts off. */
  tornBytes: number;
}

/**
 * Streams a JSONL file written by appending whole lines, calling `onItem` (awaited, in order) for
 * each non-empty line parsed by `parse`, so a file of any size is read in bounded memory. A
 * damaged line names its file and line (`what` says what it should have been); a last line
 * without its newline (a write a crash interrupted) is counted as torn, not an error. A missing
 * file is empty.
 */
export async function scanJsonLines<T>(
  path: string,
  parse: (line: string) => T,
  what: string,
  onItem: (item: T, line: number) => void | Promise<void>,
): Promise<ScanResult> {
  const result: ScanResult = { lines: 0, goodBytes: 0, tornBytes: 0 };
  if (!existsSync(path)) return result;
  let pending: Buffer[] = [];
  const handle = async (bytes: Buffer): Promise<void> => {
    result.lines++;
    result.goodBytes += bytes.length + 1;
    const line = bytes.toString("utf8");
    if (!line.trim()) return;
    let item: T;
    try {
      item = parse(line);
    } catch (error) {
      throw new ConfigError(`${path}:${result.lines}: not ${what} (${(error as Error).message})`);
    }
    await onItem(item, result.lines);
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    let start = 0;
    for (let end = bytes.indexOf(10, start); end !== -1; end = bytes.indexOf(10, start)) {
      await handle(Buffer.concat([...pending, bytes.subarray(start, end)]));
      pending = [];
      start = end + 1;
    }
    if (start < bytes.length) pending.push(bytes.subarray(start));
  }
  result.tornBytes = pending.reduce((sum, part) => sum + part.length, 0);
  return result;
}

/** Streams every record of a run's trajectories as written (a re-run key appears again later). */
export function scanEvalRecords(
  path: string,
  onRecord: (record: EvalRecord, line: number) => void | Promise<void>,
): Promise<ScanResult> {
  return scanJsonLines(path, parseEvalRecord, "an eval trajectory record", onRecord);
}

const keyOf = (record: EvalRecord): string =>
  recordKey({ taskId: record.task.id, mode: record.mode, repeat: record.repeat });

/**
 * The records that count: the last one written for each (task, mode, repeat), in the order they
 * were last written. A key lost to an infrastructure failure and run again on resume has two
 * lines; only the later one counts. `keep` maps each record to what is held (e.g. `slimRecord`
 * for a long run).
 */
export async function readLatestRecords(
  path: string,
  keep: (record: EvalRecord) => EvalRecord = (record) => record,
): Promise<ScanResult & { records: EvalRecord[] }> {
  const latest = new Map<string, EvalRecord>();
  const scan = await scanEvalRecords(path, (record) => {
    const key = keyOf(record);
    latest.delete(key);
    latest.set(key, keep(record));
  });
  return { ...scan, records: [...latest.values()] };
}

/** The records of a run that count (see `readLatestRecords`), whole. */
export async function readEvalRecords(path: string): Promise<EvalRecord[]> {
  return (await readLatestRecords(path)).records;
}

/**
 * Streams only the records that count (see `readLatestRecords`), whole, in file order: a first
 * pass finds the last line of each key, a second hands those records to `onRecord`. Memory holds
 * the keys, not the records.
 */
export async function scanLatestRecords(
  path: string,
  onRecord: (record: EvalRecord) => void | Promise<void>,
): Promise<number> {
  // The first pass reads only each line's key (the second validates what it hands over).
  const lastLine = new Map<string, number>();
  await scanJsonLines(
    path,
    (line) => {
      const value = JSON.parse(line) as Partial<EvalRecord> | null;
      // A line without its key: the full parse says what exactly is wrong.
      const record =
        value?.task?.id !== undefined && value.mode && value.repeat !== undefined
          ? value
          : parseEvalRecord(line);
      return recordKey({ taskId: record.task!.id, mode: record.mode!, repeat: record.repeat! });
    },
    "an eval trajectory record",
    (key, line) => void lastLine.set(key, line),
  );
  let count = 0;
  await scanEvalRecords(path, async (record, line) => {
    if (lastLine.get(keyOf(record)) !== line) return;
    count++;
    await onRecord(record);
  });
  return count;
}
