import { readFileSync } from "node:fs";
import { RecordBatch, Schema, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import pl from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { plainRows, trainingGroup, trainingRow } from "../testing/training-rows.js";
import {
  BatchFormatError,
  CHAT_TEMPLATE_KWARGS_KEY,
  decodeBatch,
  encodeBatch,
  joinChunks,
  SAMPLING_KEY,
  SCHEMA_VERSION_KEY,
  ZERO_COPY_TOKENS,
} from "./arrow.js";
import type { TrainingRow } from "./training-row.js";

const bytesOf = (rows: TrainingRow[], sequence = 7) =>
  joinChunks(encodeBatch(rows, { batchId: `run-${sequence}`, sequence }).chunks);

/** The rows with typed arrays as plain arrays, so toEqual compares values, not buffers. */

describe("the TrainingRow Arrow codec", () => {
  it("round-trips rows exactly, small ones gathered and large ones zero-copy", () => {
    const rows = [
      ...trainingGroup(1, { rollouts: 3, tokens: 50 }),
      trainingRow("big-0", "g2", 5, { tokens: ZERO_COPY_TOKENS + 3, version: 4 }),
      trainingRow("empty-0", "g3", 6, { tokens: 0 }),
      ...trainingGroup(4, { rollouts: 2, tokens: 900, mode: "llm", domain: "physics" }),
    ];
    const encoded = encodeBatch(rows, { batchId: "run-7", sequence: 7 });
    // The large row's token ids go out as a view of its own array, not a copy.
    expect(encoded.chunks.some((chunk) => chunk.buffer === rows[3]!.tokenIds.buffer)).toBe(true);
    const decoded = decodeBatch(joinChunks(encoded.chunks));
    expect(decoded.batchId).toBe("run-7");
    expect(decoded.sequence).toBe(7);
    expect(decoded.schemaVersion).toBe("1");
    expect(plainRows(decoded.rows)).toEqual(plainRows(rows));
    expect(encoded.byteLength).toBe(joinChunks(encoded.chunks).byteLength);
  });

  it("carries the run's metadata (the rollouts' sampling) in the schema, and keeps the batch's own keys", () => {
    const rows = trainingGroup(1, { rollouts: 2, tokens: 20 });
    const sampling = { temperature: 0.8, top_p: 1, top_k: -1 };
    const bytes = joinChunks(
      encodeBatch(rows, {
        batchId: "run-3",
        sequence: 3,
        metadata: {
          [SAMPLING_KEY]: JSON.stringify(sampling),
          [CHAT_TEMPLATE_KWARGS_KEY]: '{"enable_thinking":false}',
        },
      }).chunks,
    );
    const decoded = decodeBatch(bytes);
    expect(decoded.sampling).toEqual(sampling);
    expect(decoded.metadata).toEqual({
      [SCHEMA_VERSION_KEY]: "1",
      "sandfarm.batch_id": "run-3",
      "sandfarm.sequence": "3",
      [SAMPLING_KEY]: JSON.stringify(sampling),
      [CHAT_TEMPLATE_KWARGS_KEY]: '{"enable_thinking":false}',
    });
    // What another Arrow reader sees: the same key in the file's schema.
    expect(tableFromIPC(bytes).schema.metadata.get(SAMPLING_KEY)).toBe(JSON.stringify(sampling));
    expect(() =>
      encodeBatch(rows, { batchId: "b", sequence: 1, metadata: { "sandfarm.sequence": "9" } }),
    ).toThrow(/sandfarm.sequence is the batch's own/);
    expect(() =>
      decodeBatch(
        joinChunks(
          encodeBatch(rows, { batchId: "b", sequence: 1, metadata: { [SAMPLING_KEY]: "[1]" } })
            .chunks,
        ),
      ),
    ).toThrow(/sandfarm.sampling is not a JSON object/);
  });

  it("writes what a second Arrow implementation (polars) reads back to the same values", () => {
    const rows = [
      ...trainingGroup(1, { rollouts: 2, tokens: 33 }),
      ...trainingGroup(2, { rollouts: 1, tokens: 70_000 }),
    ];
    const frame = pl.readIPC(Buffer.from(bytesOf(rows)));
    expect(frame.height).toBe(3);
    expect(frame.columns).toEqual([
      "sample_id",
      "rollout_id",
      "group_id",
      "task_id",
      "domain",
      "mode",
      "row_index",
      "rows_in_rollout",
      "token_ids",
      "loss_mask",
      "logprobs",
      "versions",
      "prompt_length",
      "reward",
      "advantage",
      "stop_reason",
      "num_turns",
      "trainable",
    ]);
    rows.forEach((row, index) => {
      expect(frame.getColumn("sample_id").get(index)).toBe(row.sampleId);
      for (const [column, values] of [
        ["token_ids", row.tokenIds],
        ["loss_mask", row.lossMask],
        ["logprobs", row.logprobs],
        ["versions", row.versions],
      ] as const)
        expect((frame.getColumn(column).toArray() as unknown as number[][])[index]).toEqual([
          ...values,
        ]);
      expect(frame.getColumn("advantage").get(index)).toBe(row.advantage);
      expect(frame.getColumn("trainable").toArray()[index]).toBe(true);
    });
    expect(String(frame.getColumn("loss_mask").dtype)).toBe("DataType(List(DataType(UInt8)))");
  });

  it("matches the versioned fixture byte for byte, so a format change is deliberate", () => {
    const fixture = readFileSync(new URL("./fixtures/batch-v1.arrow", import.meta.url));
    const rows = trainingGroup(1, { rollouts: 2, tokens: 20, version: 3 });
    expect(
      Buffer.from(
        joinChunks(encodeBatch(rows, { batchId: "fixture-0", sequence: 0 }).chunks),
      ).equals(fixture),
    ).toBe(true);
    expect(plainRows(decodeBatch(fixture).rows)).toEqual(plainRows(rows));
  });

  it("refuses a row whose per-token columns disagree in length, naming it", () => {
    const row = trainingRow("r-bad", "g", 1, { tokens: 10 });
    row.logprobs = new Float32Array(9);
    expect(() => encodeBatch([row])).toThrow(
      /row r-bad#0: token_ids has 10 entries but loss_mask 10, logprobs 9, versions 10/,
    );
  });

  it("refuses another schema version and bytes that are not Arrow", () => {
    // The same table, written by apache-arrow itself with version "9" in the metadata.
    const table = tableFromIPC(bytesOf(trainingGroup(1, { rollouts: 1 })));
    const schema = new Schema(table.schema.fields, new Map([[SCHEMA_VERSION_KEY, "9"]]));
    const text = tableToIPC(
      new Table(
        schema,
        table.batches.map((batch) => new RecordBatch(schema, batch.data)),
      ),
    );
    expect(() => decodeBatch(text)).toThrow(BatchFormatError);
    expect(() => decodeBatch(text)).toThrow(/schema version '9' where this sandfarm reads '1'/);
    expect(() => decodeBatch(Buffer.from("not arrow at all"))).toThrow(/not an Arrow IPC batch/);
  });
});
