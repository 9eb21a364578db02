import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FARM_JOURNAL_FILE, FarmJournal } from "./journal.js";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-journal-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const admit = (slot: number, attempt = 0) => ({
  type: "admit" as const,
  groupId: `r-s${slot}${attempt ? `.${attempt}` : ""}`,
  slot,
  attempt,
  reason: attempt ? ("retry" as const) : ("new" as const),
  taskIndex: slot,
  taskId: `t${slot}`,
});

describe("FarmJournal", () => {
  it("replays admissions, drops, the policy version and finished steps", async () => {
    const journal = await FarmJournal.open(dir);
    await journal.append(admit(0));
    await journal.append(admit(1));
    await journal.append({
      type: "group",
      groupId: "r-s1",
      slot: 1,
      verdict: "masked_infrastructure",
      detail: "engine down",
    });
    await journal.append(admit(1, 1));
    await journal.append({ type: "policy", version: 1, model: "policy-v1" });
    await journal.append({ type: "policy", version: 2, model: "policy-v2" });
    await journal.append({ type: "step", step: 0 });
    await journal.close();
    const again = await FarmJournal.open(dir);
    expect(again.state.admits.map((entry) => entry.groupId)).toEqual(["r-s0", "r-s1", "r-s1.1"]);
    expect([...again.state.dropped]).toEqual([["r-s1", "masked_infrastructure"]]);
    expect(again.state.version).toBe(2);
    // The adapter the last committed version is served under: a resumed run asks for it.
    expect(again.state.model).toBe("policy-v2");
    expect(again.state.stepsDone).toBe(1);
    await again.close();
  });

  it("cuts a torn last line (a crash mid-append) and appends after it", async () => {
    const journal = await FarmJournal.open(dir);
    await journal.append(admit(0));
    await journal.close();
    const path = join(dir, FARM_JOURNAL_FILE);
    appendFileSync(path, '{"v":1,"type":"admit","groupId":"r-s1","sl');
    const reopened = await FarmJournal.open(dir);
    expect(reopened.state.admits).toHaveLength(1);
    await reopened.append(admit(1));
    await reopened.close();
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as { groupId: string }).groupId)).toEqual([
      "r-s0",
      "r-s1",
    ]);
  });

  it("names the file and line of any other damage", async () => {
    const path = join(dir, FARM_JOURNAL_FILE);
    writeFileSync(
      path,
      `${JSON.stringify({ v: 1, at: 1, ...admit(0) })}\n{"v":1,"type":"admit","slot":"one"}\n`,
    );
    await expect(FarmJournal.open(dir)).rejects.toThrow(
      new RegExp(`^${path.replace(/[.]/g, "\\.")}:2: not a journal line sandfarm writes`),
    );
    writeFileSync(path, `${JSON.stringify({ v: 2, at: 1, ...admit(0) })}\n`);
    await expect(FarmJournal.open(dir)).rejects.toThrow(
      /:1: not a journal line sandfarm writes \(version 2\)/,
    );
  });
});
