/**
 * Streaming JSONL task loader: one line at a time, so a 2 GB file never loads whole. A bad row
 * names its file, line and field with the fix; it stops the load, or with `onBadRow: "skip"` is
 * reported and passed over.
 *
 * @example
 * const skipped: BadRow[] = [];
 * for await (const task of readJsonlTasks("tasks.jsonl", { onBadRow: "skip", skipped })) { ... }
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { type ColumnMapping, RowError, type RowProblem, type Task, taskFromRow } from "./task.js";

export interface LoadOptions {
  /** Row fields that hold each task field, for data with other names. */
  mapping?: ColumnMapping;
  /** Stop at the first bad row (the default), or skip it and record it in `skipped`. */
  onBadRow?: "stop" | "skip";
  /** Receives the rows passed over with `onBadRow: "skip"`. */
  skipped?: BadRow[];
  /** Keep only these domains. */
  domains?: readonly string[];
  /** Stop after this many tasks. */
  limit?: number;
}

export interface BadRow {
  file: string;
  line: number;
  problems: RowProblem[];
}

/** A bad row that stopped a load. */
export class DatasetError extends Error {
  constructor(readonly row: BadRow) {
    super(
      `${row.file}:${row.line}: ${row.problems.map((problem) => `${problem.field}: ${problem.message}`).join("; ")}`,
    );
    this.name = new.target.name;
  }
}

export async function* readJsonlTasks(
  file: string,
  options: LoadOptions = {},
): AsyncGenerator<Task> {
  const lines = createInterface({
    input: createReadStream(file, { encoding: "utf8" }),
    crlfDelay: Infinity,
  });
  const seen = new Map<string, number>();
  const domains = options.domains ? new Set(options.domains) : undefined;
  let lineNumber = 0;
  let yielded = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === "") continue;
      let task: Task;
      try {
        let row: unknown;
        try {
          row = JSON.parse(line);
        } catch (error) {
          throw new RowError([
            { field: "(row)", message: `is not valid JSON (${(error as Error).message})` },
          ]);
        }
        task = taskFromRow(row, options.mapping);
        const firstLine = seen.get(task.id);
        if (firstLine !== undefined) {
          throw new RowError([
            {
              field: "id",
              message: `'${task.id}' is already used on line ${firstLine}; ids must be unique`,
            },
          ]);
        }
        seen.set(task.id, lineNumber);
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        const bad: BadRow = { file, line: lineNumber, problems: error.problems };
        if (options.onBadRow !== "skip") throw new DatasetError(bad);
        options.skipped?.push(bad);
        continue;
      }
      if (domains && !domains.has(task.domain)) continue;
      yield task;
      yielded++;
      if (options.limit !== undefined && yielded >= options.limit) return;
    }
  } finally {
    lines.close();
  }
}
