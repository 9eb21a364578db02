/**
 * Raw rows out of a dataset file, one at a time, in the file's own order: JSONL by line, Parquet
 * by row group (hyparquet, every codec), Arrow IPC (file or stream format) by record batch. A
 * 2 GB file is never read whole; the largest thing held is one row group or one batch.
 *
 * @example
 * for await (const raw of readRawRows("tasks.parquet")) console.log(raw.row ?? raw.problems);
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { RecordBatchReader, Vector } from "apache-arrow";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { RowProblem } from "./task.js";
import { UserError } from "../common/errors.js";

export const DATASET_FORMATS = ["jsonl", "parquet", "arrow"] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** One row as stored, or why it could not be read (bad JSON). */
export interface RawRow {
  /** JSONL: 1-based line number. */
  line?: number;
  /** Parquet and Arrow: 0-based row number, as pandas and polars count. */
  row?: number;
  value?: unknown;
  problems?: RowProblem[];
}

const EXTENSIONS: Record<string, DatasetFormat> = {
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "jsonl",
  ".parquet": "parquet",
  ".pq": "parquet",
  ".arrow": "arrow",
  ".arrows": "arrow",
  ".ipc": "arrow",
  ".feather": "arrow",
};

export class UnknownFormatError extends UserError {
  constructor(file: string) {
    super(
      `cannot tell the format of ${file} from its name; name it .jsonl, .parquet or .arrow, or pass the format (${DATASET_FORMATS.join(", ")})`,
    );
    this.name = new.target.name;
  }
}

/** A file that cannot be read as its format at all (missing, truncated, not that format). */
export class DatasetFileError extends UserError {
  constructor(
    readonly file: string,
    format: DatasetFormat,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      (cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT"
        ? `${file}: no such file`
        : `${file}: not a readable ${FORMAT_NAMES[format]} file (${reason})`,
      { cause },
    );
    this.name = new.target.name;
  }
}

const FORMAT_NAMES: Record<DatasetFormat, string> = {
  jsonl: "JSONL",
  parquet: "Parquet",
  arrow: "Arrow IPC",
};

export function formatOf(file: string): DatasetFormat {
  const match = /(\.[a-z]+)$/i.exec(file);
  const format = match ? EXTENSIONS[match[1]!.toLowerCase()] : undefined;
  if (!format) throw new UnknownFormatError(file);
  return format;
}

export async function* readRawRows(file: string, format = formatOf(file)): AsyncGenerator<RawRow> {
  const rows = { jsonl: jsonlRows, parquet: parquetRows, arrow: arrowRows }[format](file);
  try {
    for (;;) {
      let next: IteratorResult<RawRow>;
      try {
        next = await rows.next();
      } catch (error) {
        throw new DatasetFileError(file, format, error);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // A consumer that stops early (a limit) still closes the file.
    await rows.return(undefined);
  }
}

async function* jsonlRows(file: string): AsyncGenerator<RawRow> {
  const lines = createInterface({
    input: createReadStream(file, { encoding: "utf8" }),
    crlfDelay: Infinity,
  });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === "") continue;
      try {
        yield { line, value: JSON.parse(text) };
      } catch (error) {
        yield {
          line,
          problems: [
            { field: "(row)", message: `is not valid JSON (${(error as Error).message})` },
          ],
        };
      }
    }
  } finally {
    lines.close();
  }
}

async function* parquetRows(file: string): AsyncGenerator<RawRow> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({
      file: buffer,
      metadata,
      rowStart,
      rowEnd,
      compressors,
    });
    for (const [offset, value] of rows.entries())
      yield { row: rowStart + offset, value: plain(value) };
    rowStart = rowEnd;
  }
}

async function* arrowRows(file: string): AsyncGenerator<RawRow> {
  const handle = await open(file);
  try {
    const reader = await RecordBatchReader.from(handle);
    let row = 0;
    for await (const batch of reader) {
      for (let index = 0; index < batch.numRows; index++)
        yield { row: row++, value: plain(batch.get(index)) };
    }
  } finally {
    await handle.close();
  }
}

/**
 * Columnar values as JSON-like values: 64-bit integers as numbers (as text past 2^53), Arrow
 * vectors as arrays, struct and map rows as objects, bytes as UTF-8, dates as ISO strings.
 */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value !== "object") return value;
  if (value instanceof Vector) return [...value].map(plain);
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) || ArrayBuffer.isView(value))
    return Array.from(value as ArrayLike<unknown>, plain);
  if (value instanceof Map)
    return Object.fromEntries([...value].map(([key, item]) => [String(key), plain(item)]));
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  const record =
    typeof toJSON === "function"
      ? ((toJSON as () => unknown).call(value) as Record<string, unknown>)
      : (value as Record<string, unknown>);
  if (record instanceof Map) return plain(record);
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, plain(item)]));
}
