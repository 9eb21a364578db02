import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RUN_LOG_FILE, openRunLog } from "./logger.js";

let runDir: string;

beforeEach(() => {
  runDir = mkdtempSync(join(tmpdir(), "sandfarm-log-"));
});

afterEach(() => {
  rmSync(runDir, { recursive: true, force: true });
});

function logLines(): Record<string, unknown>[] {
  return readFileSync(join(runDir, RUN_LOG_FILE), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("openRunLog", () => {
  it("writes one JSON line per entry with its fields, and the human line, before it returns", () => {
    const shown: string[] = [];
    const log = openRunLog({ runDir, command: "train", show: (line) => shown.push(line) });
    expect(log.file).toBe(join(runDir, "sandfarm.log"));
    log.write({
      event: "step",
      message: "step 1: reward 0.500 (math 0.500)",
      fields: { step: 1, reward_mean: 0.5, domains: { math: { reward_mean: 0.5 } } },
    });
    log.write({ event: "stopping", message: "halting: disk full", level: "warn" });
    // Read before close: a process that exits right after a write loses nothing.
    const lines = logLines();
    log.close();

    expect(shown).toEqual([
      "sandfarm train: step 1: reward 0.500 (math 0.500)",
      "sandfarm train: halting: disk full",
    ]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      name: "sandfarm train",
      event: "step",
      step: 1,
      reward_mean: 0.5,
      domains: { math: { reward_mean: 0.5 } },
      msg: "step 1: reward 0.500 (math 0.500)",
    });
    expect(lines[0]!.time).toEqual(expect.any(Number));
    expect(lines[0]!.pid).toBe(process.pid);
    expect(lines[1]).toMatchObject({ level: 40, event: "stopping", msg: "halting: disk full" });
  });

  it("keeps the entry's event name over a field of the same name", () => {
    const log = openRunLog({ runDir, command: "eval", show: () => {} });
    log.write({ event: "progress", message: "1/2 rollouts", fields: { event: "other", done: 1 } });
    log.close();
    expect(logLines()).toEqual([expect.objectContaining({ event: "progress", done: 1 })]);
  });

  it("logs without showing when asked, and shows without logging once closed", () => {
    const shown: string[] = [];
    const log = openRunLog({ runDir, command: "eval", show: (line) => shown.push(line) });
    log.write({ event: "progress", message: "0/4 rollouts" }, { show: false });
    log.close();
    log.write({ event: "late", message: "after close" });
    expect(shown).toEqual(["sandfarm eval: after close"]);
    expect(logLines().map((line) => line.msg)).toEqual(["0/4 rollouts"]);
  });

  it("appends, so a resumed run continues the same file", () => {
    for (const message of ["first session", "resumed session"]) {
      const log = openRunLog({ runDir, command: "train", show: () => {} });
      log.write({ event: "start", message });
      log.close();
    }
    expect(logLines().map((line) => line.msg)).toEqual(["first session", "resumed session"]);
  });

  it.runIf(existsSync("/dev/full"))(
    "says once that the file cannot be written, and goes on showing events",
    () => {
      symlinkSync("/dev/full", join(runDir, RUN_LOG_FILE));
      const shown: string[] = [];
      const log = openRunLog({ runDir, command: "train", show: (line) => shown.push(line) });
      log.write({ event: "step", message: "step 0" });
      log.write({ event: "step", message: "step 1" });
      log.close();
      expect(shown).toEqual([
        `sandfarm train: ${join(runDir, RUN_LOG_FILE)}: ENOSPC: no space left on device, write; events are no longer logged there`,
        "sandfarm train: step 0",
        "sandfarm train: step 1",
      ]);
    },
  );
});
