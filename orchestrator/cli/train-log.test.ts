import { describe, expect, it } from "vitest";
import type { StepMetrics } from "../farm/metrics.js";
import { farmEventEntry, finishEntry } from "./train-log.js";

const metrics: StepMetrics = {
  step: 1,
  version: 2,
  at: "2026-01-01T00:00:00.000Z",
  seconds: 4,
  groups: {
    batched: 3,
    dropped_tie: 1,
    dropped_stale: 0,
    dropped_no_tokens: 0,
    masked_infrastructure: 1,
  },
  rollouts: 20,
  reward_mean: 0.5,
  reward_std: 0.25,
  accuracy: 0.45,
  domains: { math: { n: 12, reward_mean: 0.75, reward_std: 0.1, accuracy: 0.7 } },
  turns_mean: 3.25,
  calls_mean: 4,
  prompt_tokens: 1000,
  completion_tokens: 500,
  stop_reasons: { submitted: 20 },
  capability_usage: { computation: 0.5, external_resource: 0, file_management: 0.25 },
  staleness_mean: 0.5,
  staleness_max: 1,
  merge_mismatches: 0,
  requests: {
    calls: 16,
    chat: 16,
    overflowRetries: 0,
    tokenize: 16,
    chatPerCall: 1,
    tokenizePerCall: 1,
  },
  rollouts_per_s: 5,
  turns_per_s: 16.25,
  tokens_per_s: 375,
};

describe("train log entries", () => {
  it("says a step as the line people read and logs every metric", () => {
    expect(farmEventEntry({ kind: "step", metrics })).toEqual({
      event: "step",
      message:
        "step 1: reward 0.500 (math 0.750), accuracy 0.450, 20 rollouts, groups 3 batched / 1 tie / " +
        "0 stale / 1 masked, 3.3 turns, v2, 5.00 rollouts/s",
      fields: metrics,
    });
  });

  it("warns of a halt and leaves groups and batches to the journal", () => {
    expect(farmEventEntry({ kind: "stopping", how: "halt", message: "disk full" })).toEqual({
      event: "stopping",
      message: "halting: disk full",
      fields: { how: "halt", message: "disk full" },
      level: "warn",
    });
    expect(farmEventEntry({ kind: "group", groupId: "g", verdict: "cancelled" })).toBeUndefined();
    expect(farmEventEntry({ kind: "batch", batchId: "b", rows: 1, tokens: 2 })).toBeUndefined();
  });

  it("ends with the outcome, its message on an indented line", () => {
    const outcome = {
      status: "halted",
      steps: 3,
      rollouts: 8,
      batches: 2,
      stepsWithoutBatch: 1,
      message: "why",
    } as const;
    expect(finishEntry("/runs/r1", outcome)).toEqual({
      event: "finish",
      message:
        "halted: 3 step(s) in all, 8 rollout(s) and 2 batch(es) this session; /runs/r1\n" +
        "  1 step(s) trained nothing: every group tied, went stale or was masked\n  why",
      fields: { runDir: "/runs/r1", ...outcome },
      level: "error",
    });
  });
});
