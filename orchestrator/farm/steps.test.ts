import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { farmConfigSchema } from "../config/train.js";
import { trainingGroup } from "../../testing/training-rows.js";
import type { CommittedBatch } from "../../trainer-bridge/spool.js";
import { Spool } from "../../trainer-bridge/spool.js";
import { FarmJournal } from "./journal.js";
import { FarmGauges } from "./metrics.js";
import { StepLedger, trimStepMetrics } from "./steps.js";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-steps-"));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function ledgerWith(tokenBudget: number) {
  const spool = await Spool.open(join(dir, "batches"), { runId: "r" });
  const journal = await FarmJournal.open(dir);
  const complete = new Set<number>();
  const batches: CommittedBatch[] = [];
  const steps = new StepLedger(
    {
      config: { sink: { ...farmConfigSchema.shape.sink.parse({}), tokenBudget } },
      runDir: dir,
      spool,
      journal,
      gauges: new FarmGauges(),
    },
    {
      version: () => 0,
      syncTrajectories: () => Promise.resolve(),
      stepComplete: (step) => complete.has(step),
      onBatch: (batch) => batches.push(batch),
      onStep: () => undefined,
      wake: () => undefined,
      onFailure: (error) => {
        throw error;
      },
    },
  );
  const group = (step: number, id: number) => {
    steps.recordGroup({ step, verdict: "batched", rollouts: [], staleness: 0 });
    steps.addRows(step, trainingGroup(id, { rollouts: 2, tokens: 32 }));
  };
  const groupsOf = (batch: CommittedBatch) => [
    ...new Set(batch.rolloutIds.map((id) => id.split("-")[0])),
  ];
  return { steps, complete, batches, group, groupsOf };
}

describe("StepLedger", () => {
  it("sends each step's groups as that step's batch, even when a later step's finish first", async () => {
    const { steps, complete, batches, group, groupsOf } = await ledgerWith(1_000_000);
    group(0, 1);
    group(1, 2); // the next step's group, decided before step 0's last
    group(0, 3);
    complete.add(0);
    await steps.completeSteps();
    expect(batches.map(groupsOf)).toEqual([["r1", "r3"]]);
    expect(steps.stepsDone).toBe(1);
    complete.add(1);
    await steps.completeSteps();
    expect(batches.map(groupsOf)).toEqual([["r1", "r3"], ["r2"]]);
    expect(batches.map((batch) => batch.batchId)).toEqual(["r-0", "r-1"]);
  });

  it("commits a step's full batch at once, the rest when the step finishes", async () => {
    // 64 tokens a group: the second group of step 0 fills the 128-token budget.
    const { steps, complete, batches, group, groupsOf } = await ledgerWith(128);
    group(0, 1);
    group(1, 2);
    group(0, 3);
    await steps.flush(5); // a step with nothing packed commits nothing
    await new Promise((done) => setTimeout(done, 50));
    expect(batches.map(groupsOf)).toEqual([["r1", "r3"]]);
    group(0, 4);
    complete.add(0);
    await steps.completeSteps();
    expect(batches.map(groupsOf)).toEqual([["r1", "r3"], ["r4"]]);
  });

  it("flushes what every unfinished step holds, in step order, at the end of a run", async () => {
    const { steps, batches, group, groupsOf } = await ledgerWith(1_000_000);
    group(3, 1);
    group(2, 2);
    group(3, 3);
    await steps.flush();
    expect(batches.map(groupsOf)).toEqual([["r2"], ["r1", "r3"]]);
  });
});

describe("trimStepMetrics", () => {
  it("keeps each journaled step's line once, and drops later steps and a torn last line", async () => {
    const path = join(dir, "metrics.jsonl");
    const line = (step: number, extra = "") => `{"step":${step}${extra}}\n`;
    // Killed between step 1's metrics line and its journal line, resumed, killed again mid-write.
    writeFileSync(path, line(0) + line(1, ',"a":1') + line(1, ',"a":2') + line(2) + '{"step":3,');
    await trimStepMetrics(dir, 2);
    expect(readFileSync(path, "utf8")).toBe(line(0) + line(1, ',"a":1'));
    await trimStepMetrics(dir, 0);
    expect(readFileSync(path, "utf8")).toBe("");
    await trimStepMetrics(join(dir, "none"), 3); // no metrics yet: nothing to do
  });
});
