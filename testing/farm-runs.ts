/**
 * Test support for `sandfarm train`: task files the stub's `rl` scripts answer (half right per
 * group, see testing/vllm-stub/script-sets.ts), a small config, and readers for what a run leaves
 * in its directory (the spool's batches, metrics, the journals) and in the engine (containers).
 *
 * @example
 * const train = writeRlTasks(dir, "train.jsonl", 8);
 * const config = farmTestConfig({ dir, stubURL: stub.baseURL, train: [train] });
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import { type FarmConfig, parseFarmConfig } from "../orchestrator/config/train.js";
import { LABEL_RUN_ID } from "../orchestrator/sandbox/labels.js";
import { decodeBatch } from "../trainer-bridge/arrow.js";
import type { TrainingRow } from "../trainer-bridge/training-row.js";

/** `count` math tasks `[script:SCRIPT] [answer:N]`, ground truth N; returns the file's path. */
export function writeRlTasks(
  dir: string,
  name: string,
  count: number,
  options: { script?: string; domains?: readonly string[]; first?: number } = {},
): string {
  const domains = options.domains ?? ["math", "physics"];
  const first = options.first ?? 100;
  const lines = Array.from({ length: count }, (_, index) => {
    const answer = first + index;
    return JSON.stringify({
      id: `${name.replace(/\W/g, "-")}-${index}`,
      domain: domains[index % domains.length],
      question: `[script:${options.script ?? "rl-3"}] [answer:${answer}] What is ${answer - 1} + 1?`,
      groundTruth: String(answer),
      answerType: "math",
    });
  });
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** A small run's config; `overrides` are merged one section deep. */
export function farmTestConfig(options: {
  dir: string;
  stubURL: string;
  train: string[];
  validation?: string[];
  runId?: string;
  overrides?: Record<string, Record<string, unknown>>;
}): FarmConfig {
  const base: Record<string, Record<string, unknown>> = {
    run: { id: options.runId ?? "test-run", dir: options.dir, steps: 3, seed: 1 },
    data: { train: options.train, validation: options.validation ?? [] },
    policy: { urls: [options.stubURL], model: "stub-model" },
    sandbox: { network: "none", memoryMb: 512, pidsLimit: 256, ttlS: 900 },
    episode: { maxTurns: 12, maxTokensPerCall: 2048, maxTotalTokens: 16_384, timeoutS: 120 },
    rollout: { groupSize: 4, groupsPerStep: 2, episodes: 16, warmSandboxes: 4 },
  };
  for (const [section, values] of Object.entries(options.overrides ?? {}))
    base[section] = { ...base[section], ...values };
  return parseFarmConfig(base);
}

export interface SpooledBatch {
  batchId: string;
  sequence: number;
  acked: boolean;
  rolloutIds: string[];
  rows?: TrainingRow[];
}

/** The spool journal's batches in order; rows decoded for batches whose files remain. */
export function readSpooledBatches(runDir: string): SpooledBatch[] {
  const dir = join(runDir, "batches");
  const lines = readFileSync(join(dir, "journal.jsonl"), "utf8").trim().split("\n").filter(Boolean);
  const batches = new Map<string, SpooledBatch>();
  for (const line of lines) {
    const entry = JSON.parse(line) as {
      type: string;
      batchId: string;
      sequence: number;
      rolloutIds: string[];
    };
    if (entry.type === "commit")
      batches.set(entry.batchId, {
        batchId: entry.batchId,
        sequence: entry.sequence,
        acked: false,
        rolloutIds: entry.rolloutIds,
      });
    else batches.get(entry.batchId)!.acked = true;
  }
  for (const batch of batches.values()) {
    if (batch.acked) continue;
    batch.rows = decodeBatch(readFileSync(join(dir, `${batch.batchId}.arrow`))).rows;
  }
  return [...batches.values()];
}

/** Parsed lines of a JSONL file in the run directory. */
export function readRunLines<T = Record<string, unknown>>(runDir: string, file: string): T[] {
  return readFileSync(join(runDir, file), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** Containers (any state) labelled with this run id. */
export async function containersOfRun(runId: string): Promise<string[]> {
  const containers = await new Docker().listContainers({
    all: true,
    filters: { label: [`${LABEL_RUN_ID}=${runId}`] },
  });
  return containers.map((container) => container.Id);
}

/** RLOO advantages of a group's rewards, computed here independently of rewards/. */
export function rlooByHand(rewards: readonly number[]): number[] {
  const sum = rewards.reduce((total, reward) => total + reward, 0);
  return rewards.map((reward) => reward - (sum - reward) / (rewards.length - 1));
}
