/**
 * Deterministic `TrainingRow`s for the trainer bridge's tests and benchmark: every token, mask,
 * logprob and version is a function of the rollout number and position, so a test can rebuild
 * the rows it expects and compare them exactly.
 *
 * @example
 * const group = trainingGroup(3, { rollouts: 4, tokens: 100 }); // group "g3", rollouts r3-0..r3-3
 */
import type { TrainingRow } from "../trainer-bridge/training-row.js";

export interface RowShape {
  /** Tokens in the row. @default 64 */
  tokens?: number;
  /** Tokens before the first completion. @default a quarter of the tokens */
  promptLength?: number;
  /** Policy version of the sampled tokens. @default 0 */
  version?: number;
  domain?: string;
  mode?: "sandbox" | "llm";
}

/** One rollout's single row: prompt, then alternating sampled and tool tokens. */
export function trainingRow(
  rolloutId: string,
  groupId: string,
  seed: number,
  shape: RowShape = {},
): TrainingRow {
  const tokens = shape.tokens ?? 64;
  const promptLength = Math.min(tokens, shape.promptLength ?? Math.floor(tokens / 4));
  const version = shape.version ?? 0;
  const tokenIds = new Int32Array(tokens);
  const lossMask = new Uint8Array(tokens);
  const logprobs = new Float32Array(tokens);
  const versions = new Int32Array(tokens).fill(-1);
  for (let index = 0; index < tokens; index++) {
    tokenIds[index] = (seed * 7919 + index * 104_729) % 151_000;
    // After the prompt: 12 sampled tokens, then 4 tool/template tokens, repeating.
    if (index >= promptLength && (index - promptLength) % 16 < 12) {
      lossMask[index] = 1;
      logprobs[index] = -(((seed + index) % 97) + 1) / 50;
      versions[index] = version;
    }
  }
  return {
    sampleId: `${rolloutId}#0`,
    rolloutId,
    groupId,
    taskId: `task-${groupId}`,
    domain: shape.domain ?? "math",
    mode: shape.mode ?? "sandbox",
    rowIndex: 0,
    rowsInRollout: 1,
    tokenIds,
    lossMask,
    logprobs,
    versions,
    promptLength,
    reward: seed % 2,
    advantage: (seed % 2) - 0.5,
    stopReason: "submitted",
    numTurns: 1 + (seed % 5),
    trainable: true,
  };
}

/** The G rollouts of group `g<group>`, each with its own row. */
export function trainingGroup(
  group: number,
  options: RowShape & { rollouts?: number } = {},
): TrainingRow[] {
  return Array.from({ length: options.rollouts ?? 4 }, (_, index) =>
    trainingRow(`r${group}-${index}`, `g${group}`, group * 100 + index, options),
  );
}

/** Rows with their typed arrays as plain arrays, so `toEqual` compares values, not buffers. */
export function plainRows(rows: readonly TrainingRow[]) {
  return rows.map((row) => ({
    ...row,
    tokenIds: [...row.tokenIds],
    lossMask: [...row.lossMask],
    logprobs: [...row.logprobs],
    versions: [...row.versions],
  }));
}
