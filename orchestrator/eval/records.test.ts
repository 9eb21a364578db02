/**
 * The streaming JSONL reader behind resume, rescore and export-sft: lines longer than a read
 * chunk, multi-byte characters split across chunks, empty lines, a torn last line, a damaged
 * line named by number; and the records that count (the last of each key).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixtureRecord } from "../../testing/eval-fixtures.js";
import {
  DurableAppender,
  readEvalRecords,
  readLatestRecords,
  scanJsonLines,
  scanLatestRecords,
  serializeEvalRecord,
  slimRecord,
} from "./records.js";

const dir = mkdtempSync(join(tmpdir(), "sandfarm-records-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("scanJsonLines", () => {
  it("reads lines of any length and counts the bytes of whole and torn lines exactly", async () => {
    // 3 MiB of "é" (2 bytes each): the line spans several 1 MiB chunks and splits characters.
    const long = "é".repeat(3 << 19);
    const lines = [
      JSON.stringify({ n: 1 }),
      JSON.stringify({ text: long }),
      "",
      JSON.stringify({ n: 3 }),
    ];
    const whole = `${lines.join("\n")}\n`;
    const torn = '{"n": 4, "cut';
    const path = join(dir, "long.jsonl");
    writeFileSync(path, whole + torn);
    const seen: [unknown, number][] = [];
    const result = await scanJsonLines(
      path,
      (line) => JSON.parse(line) as unknown,
      "a thing",
      (item, line) => {
        seen.push([item, line]);
      },
    );
    expect(seen.map(([, line]) => line)).toEqual([1, 2, 4]);
    expect(seen[0]![0]).toEqual({ n: 1 });
    expect((seen[1]![0] as { text: string }).text).toBe(long);
    expect(result).toEqual({
      lines: 4,
      goodBytes: Buffer.byteLength(whole),
      tornBytes: Buffer.byteLength(torn),
    });
  });

  it("names a damaged line by file and number, and reads a missing file as empty", async () => {
    const path = join(dir, "damaged.jsonl");
    writeFileSync(path, '{"ok": 1}\n\n{"ok": \n');
    await expect(
      scanJsonLines(
        path,
        (line) => JSON.parse(line) as unknown,
        "a thing",
        () => undefined,
      ),
    ).rejects.toThrow(`${path}:3: not a thing (`);
    expect(
      await scanJsonLines(join(dir, "none.jsonl"), JSON.parse, "a thing", () => undefined),
    ).toEqual({ lines: 0, goodBytes: 0, tornBytes: 0 });
  });
});

describe("DurableAppender", () => {
  it("appends whole lines, and after a failed append refuses every later one", () => {
    const path = join(dir, "appended.jsonl");
    writeFileSync(path, "");
    const fd = openSync(path, "a");
    const appender = new DurableAppender(fd);
    appender.append('{"n": 1}\n');
    closeSync(fd);
    expect(readFileSync(path, "utf8")).toBe('{"n": 1}\n');
    // A descriptor that cannot be written: the append fails, the file keeps its whole lines.
    const readOnly = openSync(path, "r");
    const broken = new DurableAppender(readOnly);
    expect(() => broken.append('{"n": 2}\n')).toThrow(/EBADF/);
    expect(() => broken.append('{"n": 3}\n')).toThrow(
      /^an earlier append failed \(EBADF.*\); nothing more is written$/,
    );
    closeSync(readOnly);
    expect(readFileSync(path, "utf8")).toBe('{"n": 1}\n');
  });
});

describe("the records that count", () => {
  const first = fixtureRecord({ taskId: "a", trainable: false });
  const other = fixtureRecord({ taskId: "b", reward: 0 });
  const again = fixtureRecord({ taskId: "a", reward: 1 });
  const path = join(dir, "rerun.jsonl");
  writeFileSync(
    path,
    [first, other, again].map((record) => `${serializeEvalRecord(record)}\n`).join(""),
  );

  it("keeps the last line of each key, in the order they were last written", async () => {
    const records = await readEvalRecords(path);
    expect(records.map((record) => [record.task.id, record.reward, record.trainable])).toEqual([
      ["b", 0, true],
      ["a", 1, true],
    ]);
    const slim = await readLatestRecords(path, slimRecord);
    expect(slim.records.every((record) => record.episode.messages.length === 0)).toBe(true);
    expect(slim.lines).toBe(3);
  });

  it("streams only those, in file order", async () => {
    const seen: string[] = [];
    const count = await scanLatestRecords(
      path,
      (record) => void seen.push(`${record.task.id}:${record.reward}`),
    );
    expect(count).toBe(2);
    expect(seen).toEqual(["b:0", "a:1"]);
  });
});
