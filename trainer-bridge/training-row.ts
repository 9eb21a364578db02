/**
 * `TrainingRow`: one training sequence, the trainer's unit (docs/architecture.md, "TrainingRow"). A
 * rollout yields one row, or several after merge mismatches. The Arrow schema and codec are
 * built on this type (issue 7); column names there are the snake_case of these fields.
 *
 * @example
 * const problems = trainingRowProblems(row); // [] when every invariant holds
 */

export const TRAINING_ROW_SCHEMA_VERSION = "1";

export interface TrainingRow {
  /** `<rolloutId>#<rowIndex>`, unique in a run. */
  sampleId: string;
  rolloutId: string;
  /** The G rollouts of one task admission. */
  groupId: string;
  taskId: string;
  domain: string;
  mode: "sandbox" | "llm";
  rowIndex: number;
  rowsInRollout: number;
  /** The full sequence: first prompt, completions, and the tool/template gaps between them. */
  tokenIds: Int32Array;
  /** 1 on sampled completion tokens, 0 elsewhere. */
  lossMask: Uint8Array;
  /** The sampled logprob where the mask is 1, 0 elsewhere. */
  logprobs: Float32Array;
  /** The policy version of each sampled token, -1 where the mask is 0. */
  versions: Int32Array;
  /** Tokens before the first completion. */
  promptLength: number;
  reward: number;
  advantage: number;
  stopReason: string;
  /** Model calls in the rollout. */
  numTurns: number;
  /** False when token ids were unavailable or the row is masked. */
  trainable: boolean;
}

/** Every invariant the row breaks, as messages; [] for a good row. */
export function trainingRowProblems(row: TrainingRow): string[] {
  const problems: string[] = [];
  const length = row.tokenIds.length;
  for (const [name, column] of [
    ["lossMask", row.lossMask],
    ["logprobs", row.logprobs],
    ["versions", row.versions],
  ] as const) {
    if (column.length !== length)
      problems.push(`${name} has ${column.length} entries for ${length} tokens`);
  }
  if (row.sampleId !== `${row.rolloutId}#${row.rowIndex}`)
    problems.push(`sampleId '${row.sampleId}' is not '${row.rolloutId}#${row.rowIndex}'`);
  if (!(row.rowIndex >= 0 && row.rowIndex < row.rowsInRollout))
    problems.push(`rowIndex ${row.rowIndex} is outside 0..${row.rowsInRollout - 1}`);
  if (row.promptLength < 0 || row.promptLength > length)
    problems.push(`promptLength ${row.promptLength} is outside 0..${length}`);
  if (!Number.isFinite(row.reward) || !Number.isFinite(row.advantage))
    problems.push("reward and advantage must be finite");
  if (problems.length > 0) return problems;
  for (let index = 0; index < length; index++) {
    const masked = row.lossMask[index] === 1;
    if (row.lossMask[index]! > 1) problems.push(`lossMask[${index}] is ${row.lossMask[index]}`);
    if (index < row.promptLength && masked)
      problems.push(`token ${index} of the prompt is trained`);
    if (!masked && (row.logprobs[index] !== 0 || row.versions[index] !== -1))
      problems.push(`token ${index} is not trained but has a logprob or a version`);
    if (masked && (row.versions[index]! < 0 || !(row.logprobs[index]! <= 0)))
      problems.push(`trained token ${index} needs a version >= 0 and a logprob <= 0`);
    if (problems.length >= 10) break;
  }
  return problems;
}
