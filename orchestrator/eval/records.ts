/**
 * `EvalRecord`: one evaluated rollout as `trajectories.jsonl` stores it: the task (without its
 * documents, which can be megabytes; their names and SHA-256 stay), the mode and repeat, the
 * reward outcome and the whole episode. Enough to recompute a report, re-score with another
 * scorer, or export the conversation for fine-tuning, without rerunning anything.
 *
 * @example
 * const records = readEvalRecords("runs/eval-1/trajectories.jsonl");
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { ANSWER_TYPES, type Task, instructionSchema } from "../../datasets/task.js";
import { type Episode, parseEpisode } from "../agent/episode-record.js";
import { ConfigError } from "../errors.js";

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
  const episode = parseEpisode(JSON.stringify(parsed.data.episode));
  return { ...parsed.data, episode };
}

export interface JsonLines<T> {
  items: T[];
  /** Bytes of an unfinished last line (a crash mid-write), which a resume cuts off. */
  tornBytes: number;
  /** The byte length of the whole lines. */
  goodBytes: number;
}

/**
 * Reads a JSONL file written by appending whole lines: a damaged line in the middle names its
 * file and line (`what` says what the line should have been); a last line without its newline
 * (a write a crash interrupted) is reported as torn, not an error.
 */
export function readJsonLines<T>(
  path: string,
  parse: (line: string) => T,
  what: string,
): JsonLines<T> {
  if (!existsSync(path)) return { items: [], tornBytes: 0, goodBytes: 0 };
  const text = readFileSync(path, "utf8");
  const end = text.lastIndexOf("\n") + 1;
  const items: T[] = [];
  text
    .slice(0, end)
    .split("\n")
    .forEach((line, index) => {
      if (!line.trim()) return;
      try {
        items.push(parse(line));
      } catch (error) {
        throw new ConfigError(`${path}:${index + 1}: not ${what} (${(error as Error).message})`);
      }
    });
  return {
    items,
    tornBytes: Buffer.byteLength(text.slice(end)),
    goodBytes: Buffer.byteLength(text.slice(0, end)),
  };
}

/** Every line of a run's trajectories, as written (a re-run key appears again later). */
export function readEvalRecordLines(path: string): JsonLines<EvalRecord> {
  return readJsonLines(path, parseEvalRecord, "an eval trajectory record");
}

/**
 * The records that count: the last one written for each (task, mode, repeat), in the order they
 * were last written. A key lost to an infrastructure failure and run again on resume has two
 * lines; only the later one counts.
 */
export function latestRecords(records: readonly EvalRecord[]): EvalRecord[] {
  const latest = new Map<string, EvalRecord>();
  for (const record of records) {
    const key = recordKey({ taskId: record.task.id, mode: record.mode, repeat: record.repeat });
    latest.delete(key);
    latest.set(key, record);
  }
  return [...latest.values()];
}

/** The records of a run that count (see `latestRecords`). */
export function readEvalRecords(path: string): EvalRecord[] {
  return latestRecords(readEvalRecordLines(path).items);
}
