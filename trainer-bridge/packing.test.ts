import { describe, expect, it } from "vitest";
import { trainingGroup } from "../testing/training-rows.js";
import { BatchPacker } from "./packing.js";
import type { TrainingRow } from "./training-row.js";

const groupsOf = (batch: TrainingRow[]) => [...new Set(batch.map((row) => row.groupId))];

describe("BatchPacker", () => {
  it("fills batches up to the token budget in arrival order, never splitting a group", () => {
    const packer = new BatchPacker(1000);
    const batches: TrainingRow[][] = [];
    // Groups of 4 rows: 400, 700, 400 and 200 tokens.
    for (const [group, tokens] of [
      [1, 100],
      [2, 175],
      [3, 100],
      [4, 50],
    ] as const)
      batches.push(...packer.add(trainingGroup(group, { tokens })));
    batches.push(...packer.flush());
    expect(batches.map(groupsOf)).toEqual([["g1"], ["g2"], ["g3", "g4"]]);
    expect(batches.map((batch) => batch.length)).toEqual([4, 4, 8]);
    // Every group's rows are together and in order.
    expect(batches.flat().map((row) => row.rolloutId)).toEqual(
      [1, 2, 3, 4].flatMap((group) => [0, 1, 2, 3].map((index) => `r${group}-${index}`)),
    );
  });

  it("closes a batch the moment it reaches the budget, and sends an oversize group alone", () => {
    const packer = new BatchPacker(400);
    expect(packer.add(trainingGroup(1, { tokens: 50 }))).toEqual([]);
    expect(packer.pending).toEqual({ rows: 4, tokens: 200 });
    const done = packer.add(trainingGroup(2, { tokens: 50 }));
    expect(done.map(groupsOf)).toEqual([["g1", "g2"]]);
    const big = packer.add(trainingGroup(3, { tokens: 500 }));
    expect(big.map(groupsOf)).toEqual([["g3"]]);
    expect(packer.flush()).toEqual([]);
  });

  it("rejects a budget that is not a positive integer", () => {
    expect(() => new BatchPacker(0)).toThrow(/tokenBudget must be a positive integer, got 0/);
  });
});
