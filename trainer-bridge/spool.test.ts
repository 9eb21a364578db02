import { mkdtemp, readdir, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { trainingGroup, trainingRow } from "../testing/training-rows.js";
import { decodeBatch, joinChunks } from "./arrow.js";
import { JOURNAL_FILE, Spool, SpoolError } from "./spool.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sandfarm-spool-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the spool", () => {
  it("commits a batch durably: its file, then a journal line with its identity and rollouts", async () => {
    const spool = await Spool.open(dir, { runId: "run-a" });
    const rows = [
      ...trainingGroup(1, { tokens: 40, version: 2 }),
      ...trainingGroup(2, { tokens: 8, version: 3 }),
    ];
    const batch = await spool.commit(rows, { reward_mean: 0.5 });
    expect(batch).toMatchObject({
      batchId: "run-a-0",
      sequence: 0,
      rows: 8,
      groups: 2,
      tokens: 4 * 40 + 4 * 8,
      minVersion: 2,
      maxVersion: 3,
      rolloutIds: ["r1-0", "r1-1", "r1-2", "r1-3", "r2-0", "r2-1", "r2-2", "r2-3"],
      metrics: { reward_mean: 0.5 },
    });
    const trained = rows.reduce((sum, row) => sum + row.lossMask.reduce((a, b) => a + b, 0), 0);
    expect(batch.trainedTokens).toBe(trained);
    const file = await readFile(join(dir, "run-a-0.arrow"));
    expect(file.byteLength).toBe(batch.byteLength);
    expect(createHash("sha256").update(file).digest("hex")).toBe(batch.sha256);
    expect(decodeBatch(file).rows.map((row) => row.sampleId)).toEqual(
      rows.map((row) => row.sampleId),
    );
    const journal = (await readFile(join(dir, JOURNAL_FILE), "utf8")).trim().split("\n");
    expect(journal).toHaveLength(1);
    expect(JSON.parse(journal[0]!)).toMatchObject({ v: 1, type: "commit", batchId: "run-a-0" });
    expect(joinChunks(await spool.read("run-a-0"))).toEqual(new Uint8Array(file));
    await spool.close();
  });

  it("serves committed, unacknowledged batches again after a reopen; acknowledged ones never", async () => {
    const first = await Spool.open(dir, { runId: "run-b" });
    for (let group = 0; group < 3; group++) await first.commit(trainingGroup(group));
    expect(await first.ack("run-b-1")).toBe(true);
    expect(await first.ack("run-b-1")).toBe(false);
    await first.close();
    expect((await readdir(dir)).sort()).toEqual([
      "journal.jsonl",
      "run-b-0.arrow",
      "run-b-2.arrow",
    ]);

    const second = await Spool.open(dir, { runId: "run-b" });
    expect(second.pending().map((batch) => batch.batchId)).toEqual(["run-b-0", "run-b-2"]);
    expect(second.isAcked("run-b-1")).toBe(true);
    expect([...second.committedRollouts()].sort()).toEqual(
      [0, 1, 2].flatMap((group) => [0, 1, 2, 3].map((index) => `r${group}-${index}`)).sort(),
    );
    // Read back from disk (nothing in memory after a reopen), byte for byte.
    const bytes = joinChunks(await second.read("run-b-2"));
    expect(decodeBatch(bytes).batchId).toBe("run-b-2");
    // The sequence carries on after the highest committed one.
    expect((await second.commit(trainingGroup(9))).batchId).toBe("run-b-3");
    await expect(second.read("run-b-1")).rejects.toThrow(/batch 'run-b-1' is not pending/);
    await expect(second.ack("run-x-9")).rejects.toThrow(/no committed batch 'run-x-9'/);
    await second.close();
  });

  it("tolerates a torn last journal line and removes files no commit names", async () => {
    const spool = await Spool.open(dir, { runId: "run-c" });
    await spool.commit(trainingGroup(1));
    await spool.close();
    // A crash mid-append: half a line, no newline. And a batch file whose commit never landed.
    await appendFile(join(dir, JOURNAL_FILE), '{"v":1,"type":"commit","batchId":"run-c-1","seq');
    await writeFile(join(dir, "run-c-1.arrow"), "partial");
    await writeFile(join(dir, "run-c-2.arrow.tmp"), "partial");
    const reopened = await Spool.open(dir, { runId: "run-c" });
    expect(reopened.pending().map((batch) => batch.batchId)).toEqual(["run-c-0"]);
    expect((await readdir(dir)).sort()).toEqual(["journal.jsonl", "run-c-0.arrow"]);
    // The torn line is gone, so the next commit starts on a line of its own.
    expect((await reopened.commit(trainingGroup(2))).batchId).toBe("run-c-1");
    await reopened.close();
    const lines = (await readFile(join(dir, JOURNAL_FILE), "utf8")).split("\n");
    expect(
      lines.filter(Boolean).map((line) => (JSON.parse(line) as { batchId: string }).batchId),
    ).toEqual(["run-c-0", "run-c-1"]);
  });

  it("names the file and line of a damaged journal, and a committed batch whose file is gone", async () => {
    const spool = await Spool.open(dir, { runId: "run-d" });
    await spool.commit(trainingGroup(1));
    await spool.commit(trainingGroup(2));
    await spool.close();
    const path = join(dir, JOURNAL_FILE);
    const lines = (await readFile(path, "utf8")).split("\n");
    await writeFile(path, [lines[0], "{not json", lines[1], ""].join("\n"));
    await expect(Spool.open(dir, { runId: "run-d" })).rejects.toThrow(
      new RegExp(`${path.replaceAll("/", "\\/")}:2: not a journal line sandfarm writes`),
    );
    await writeFile(path, [lines[0], lines[1], ""].join("\n"));
    await rm(join(dir, "run-d-1.arrow"));
    await expect(Spool.open(dir, { runId: "run-d" })).rejects.toThrow(
      /run-d-1\.arrow: committed in the journal but missing; the spool is damaged/,
    );
  });

  it("refuses a run id that cannot name a file, and an empty batch", async () => {
    await expect(Spool.open(dir, { runId: "../x" })).rejects.toThrow(SpoolError);
    const spool = await Spool.open(dir, { runId: "ok" });
    await expect(spool.commit([])).rejects.toThrow(/at least one row/);
    // JSON has no NaN: the journal would not read back, so the commit is refused up front.
    await expect(spool.commit(trainingGroup(1), { reward_std: Number.NaN })).rejects.toThrow(
      /metric 'reward_std' is NaN; batch metrics must be finite numbers/,
    );
    // A failed commit does not stop later ones.
    expect((await spool.commit([trainingRow("r", "g", 1)])).batchId).toBe("ok-0");
    await spool.close();
  });
});
