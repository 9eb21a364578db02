/**
 * Streaming task loader for JSONL, Parquet and Arrow IPC files, with the reference's field names
 * accepted as they are. A bad row names its file, line or row, and field, with the fix; it stops
 * the load, or with `onBadRow: "skip"` is reported and passed over.
 *
 * @example
 * const skipped: BadRow[] = [];
 * for await (const task of readTasks(["train.parquet"], { onBadRow: "skip", skipped })) { ... }
 */
import { type DatasetFormat, readRawRows } from "./rows.js";
import { type ColumnMapping, RowError, type RowProblem, type Task, taskFromRow } from "./task.js";
import { UserError } from "../common/errors.js";

/** `index` of `count`: keep the rows whose position in the dataset is `index` modulo `count`. */
export interface Shard {
  index: number;
  count: number;
}

export interface LoadOptions {
  /** Row fields that hold each task field, for data with other names. */
  mapping?: ColumnMapping;
  /** Fail at the first bad row (the default), or skip it and record it in `skipped`. */
  onBadRow?: BadRowPolicy;
  /** Receives the rows passed over with `onBadRow: "skip"`. */
  skipped?: BadRow[];
  /** Keep only these domains. */
  domains?: readonly string[];
  /** Stop after this many tasks. */
  limit?: number;
  /** @default from each file's extension */
  format?: DatasetFormat;
  /**
   * Keep one shard of the rows, counted across all files before parsing, so the shards of a
   * dataset are disjoint and cover it whatever rows are bad or filtered out.
   */
  shard?: Shard;
  /**
   * Ids already loaded and where, shared between calls so ids stay unique across them (as
   * `sandfarm dataset validate` does across files it reads one by one).
   */
  knownIds?: Map<string, { file: string; where: string }>;
}

/** What a load does with a row that is not a valid task. */
export const BAD_ROW_POLICIES = ["fail", "skip"] as const;
export type BadRowPolicy = (typeof BAD_ROW_POLICIES)[number];

export interface BadRow {
  file: string;
  /** JSONL: 1-based line. */
  line?: number;
  /** Parquet and Arrow: 0-based row. */
  row?: number;
  problems: RowProblem[];
}

export function describeBadRow(bad: BadRow): string {
  const where =
    bad.line !== undefined
      ? `${bad.file}:${bad.line}`
      : bad.row !== undefined
        ? `${bad.file}: row ${bad.row}`
        : bad.file;
  return `${where}: ${bad.problems.map((problem) => `${problem.field}: ${problem.message}`).join("; ")}`;
}

/** A bad row that stopped a load. */
export class DatasetError extends UserError {
  constructor(readonly row: BadRow) {
    super(describeBadRow(row));
  }
}

export class ShardError extends UserError {
  constructor(spec: string) {
    super(`shard '${spec}' is not INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4`);
  }
}

/** Parses `i/n` (as in `--shard 1/4`). */
export function parseShard(spec: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw new ShardError(spec);
  return { index, count };
}

/** Reads tasks from the files in order, one pass. Ids must be unique across all the files. */
export async function* readTasks(
  files: string | readonly string[],
  options: LoadOptions = {},
): AsyncGenerator<Task> {
  if (options.shard) parseShard(`${options.shard.index}/${options.shard.count}`);
  const seen = options.knownIds ?? new Map<string, { file: string; where: string }>();
  const domains = options.domains ? new Set(options.domains) : undefined;
  let position = 0;
  let yielded = 0;
  if (options.limit !== undefined && options.limit <= 0) return;
  for (const file of typeof files === "string" ? [files] : files) {
    for await (const raw of readRawRows(file, options.format)) {
      const ordinal = position++;
      if (options.shard && ordinal % options.shard.count !== options.shard.index) continue;
      const where = raw.line !== undefined ? `line ${raw.line}` : `row ${raw.row}`;
      let task: Task;
      try {
        if (raw.problems) throw new RowError(raw.problems);
        task = taskFromRow(raw.value, options.mapping);
        const first = seen.get(task.id);
        if (first !== undefined) {
          const there = first.file === file ? first.where : `${first.file} ${first.where}`;
          throw new RowError([
            {
              field: "id",
              message: `'${task.id}' is already used on ${there}; ids must be unique`,
            },
          ]);
        }
        seen.set(task.id, { file, where });
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        const bad: BadRow = {
          file,
          ...(raw.line !== undefined ? { line: raw.line } : { row: raw.row }),
          problems: error.problems,
        };
        if (options.onBadRow !== "skip") throw new DatasetError(bad);
        options.skipped?.push(bad);
        continue;
      }
      if (domains && !domains.has(task.domain)) continue;
      yield task;
      yielded++;
      if (options.limit !== undefined && yielded >= options.limit) return;
    }
  }
}
