import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  Int32,
  RecordBatch,
  Schema,
  Table,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { afterEach, describe, expect, it } from "vitest";
import { trainingGroup, trainingRow } from "../testing/training-rows.js";
import {
  CHAT_TEMPLATE_KWARGS_KEY,
  encodeBatch,
  joinChunks,
  SAMPLING_KEY,
  SCHEMA_VERSION_KEY,
  ZERO_COPY_TOKENS,
} from "./arrow.js";
import type { TrainingRow } from "./training-row.js";

// The numpy-only reader needs numpy, which only Debian's python has (not the pyenv python3).
const PYTHON = "/usr/bin/python3";
const PACKAGE_DIR = fileURLToPath(new URL("./python/", import.meta.url));
const run = promisify(execFile);
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes the files, decodes each with sandfarm_bridge.ipc (tests/dump_batch.py): one JSON each. */
async function decodeWithNumpy(files: Uint8Array[]): Promise<Record<string, unknown>[]> {
  const dir = await mkdtemp(join(tmpdir(), "sandfarm-ipc-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const paths = files.map((_, index) => join(dir, `batch-${index}.arrow`));
  await Promise.all(files.map((bytes, index) => writeFile(paths[index]!, bytes)));
  const { stdout } = await run(PYTHON, ["tests/dump_batch.py", ...paths], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, PYTHONPATH: PACKAGE_DIR },
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A row as dump_batch.py prints it: every column, floats as the Float32 the file holds. */
function asDecoded(row: TrainingRow) {
  return {
    sample_id: row.sampleId,
    rollout_id: row.rolloutId,
    group_id: row.groupId,
    task_id: row.taskId,
    domain: row.domain,
    mode: row.mode,
    row_index: row.rowIndex,
    rows_in_rollout: row.rowsInRollout,
    token_ids: [...row.tokenIds],
    loss_mask: [...row.lossMask],
    logprobs: [...row.logprobs],
    versions: [...row.versions],
    prompt_length: row.promptLength,
    reward: Math.fround(row.reward),
    advantage: Math.fround(row.advantage),
    stop_reason: row.stopReason,
    num_turns: row.numTurns,
    trainable: row.trainable,
  };
}

const bytesOf = (...args: Parameters<typeof encodeBatch>) =>
  joinChunks(encodeBatch(...args).chunks);

describe("the numpy-only Python reader of TrainingRow batches (sandfarm_bridge.ipc)", () => {
  it("decodes every value of files fresh from the writer: several record batches, empty rows, sampling metadata", async () => {
    // Three record batches: the first group's rows, the large row alone, then the rest.
    const rows: TrainingRow[] = [
      ...trainingGroup(1, { rollouts: 3, tokens: 50 }),
      trainingRow("big-0", "g2", 5, { tokens: ZERO_COPY_TOKENS + 3, version: 4 }),
      trainingRow("empty-0", "g3", 6, { tokens: 0 }),
      ...trainingGroup(4, { rollouts: 2, tokens: 900, mode: "llm", domain: "physics" }),
      // Nine more rows so the trainable bits span two bytes, some of them false; values that
      // Float32 rounds, multi-byte UTF-8, several rows of one rollout.
      ...trainingGroup(5, { rollouts: 9, tokens: 7, promptLength: 2 }).map((row, index) => ({
        ...row,
        trainable: index % 3 !== 1,
        reward: index / 10,
        advantage: -1 / (index + 3),
        stopReason: index === 4 ? "länge überschritten ✓" : "max_turns",
        taskId: `задача-${index}`,
        rowIndex: index % 3,
        rowsInRollout: 3,
      })),
    ];
    const sampling = { temperature: 0.7, top_p: 0.95, top_k: -1, min_p: 0 };
    const metadata = {
      [SAMPLING_KEY]: JSON.stringify(sampling),
      [CHAT_TEMPLATE_KWARGS_KEY]: '{"enable_thinking":false}',
    };
    const small = trainingGroup(7, { rollouts: 2, tokens: 12 });
    const [mixed, empty, anonymous] = await decodeWithNumpy([
      bytesOf(rows, { batchId: "run-42", sequence: 42, metadata }),
      bytesOf([], { batchId: "run-43", sequence: 43 }),
      bytesOf(small),
    ]);

    expect(mixed).toMatchObject({
      num_rows: rows.length,
      record_batches: 3,
      schema_version: "1",
      batch_id: "run-42",
      sequence: 42,
      sampling,
      metadata: {
        [SCHEMA_VERSION_KEY]: "1",
        "sandfarm.batch_id": "run-42",
        "sandfarm.sequence": "42",
        ...metadata,
      },
    });
    expect(mixed!.rows).toEqual(rows.map(asDecoded));
    // Offsets run on across the record batches.
    let end = 0;
    expect(mixed!.token_offsets).toEqual([0, ...rows.map((row) => (end += row.tokenIds.length))]);
    const longest = ZERO_COPY_TOKENS + 3;
    expect(mixed!.arrays).toEqual({
      input_ids: { dtype: "int64", shape: [rows.length, longest] },
      loss_mask: { dtype: "float32", shape: [rows.length, longest] },
      old_logprobs: { dtype: "float32", shape: [rows.length, longest] },
      versions: { dtype: "int64", shape: [rows.length, longest] },
      attention_mask: { dtype: "int64", shape: [rows.length, longest] },
      advantages: { dtype: "float32", shape: [rows.length] },
      rewards: { dtype: "float32", shape: [rows.length] },
      trainable: { dtype: "bool", shape: [rows.length] },
    });

    expect(empty).toMatchObject({
      num_rows: 0,
      record_batches: 1,
      batch_id: "run-43",
      sequence: 43,
      sampling: null,
      rows: [],
      token_offsets: [0],
    });
    expect(anonymous).toMatchObject({
      num_rows: 2,
      batch_id: null,
      sequence: null,
      sampling: null,
      metadata: { [SCHEMA_VERSION_KEY]: "1" },
    });
    expect(anonymous!.rows).toEqual(small.map(asDecoded));
  });

  it("refuses an IPC stream, another column set and another schema version, naming each", async () => {
    const table = tableFromIPC(
      bytesOf(trainingGroup(1, { rollouts: 2 }), { batchId: "b", sequence: 1 }),
    );
    const withExtra = table.assign(new Table({ extra: vectorFromArray([1, 2], new Int32()) }));
    const version9 = new Schema(table.schema.fields, new Map([[SCHEMA_VERSION_KEY, "9"]]));
    const [stream, extra, otherVersion] = await decodeWithNumpy([
      tableToIPC(table, "stream"),
      tableToIPC(withExtra, "file"),
      tableToIPC(
        new Table(
          version9,
          table.batches.map((batch) => new RecordBatch(version9, batch.data)),
        ),
        "file",
      ),
    ]);
    expect(stream).toEqual({
      error: "UnsupportedBatchError",
      message: "an Arrow IPC stream (this reader takes the IPC file format)",
    });
    expect(extra).toMatchObject({ error: "UnsupportedBatchError" });
    expect(extra!.message).toMatch(/^columns \[.*'trainable', 'extra'\] where TrainingRow v1 has/);
    expect(otherVersion).toEqual({
      error: "UnsupportedBatchError",
      message: "schema version '9' (this reader takes '1')",
    });
  });
});
