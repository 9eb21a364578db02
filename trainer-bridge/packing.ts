/**
 * Packs groups of training rows into batches by a token budget. Groups stay whole (a group's
 * rollouts are normalised together by the trainer) and keep their arrival order, so older
 * groups never wait behind newer ones. A group larger than the budget becomes a batch alone.
 *
 * @example
 * const packer = new BatchPacker(262_144);
 * for (const group of groups) for (const batch of packer.add(group)) await bridge.commit(batch);
 * for (const batch of packer.flush()) await bridge.commit(batch);
 */
import { tokenCount } from "./arrow.js";
import type { TrainingRow } from "./training-row.js";

export class BatchPacker {
  private current: TrainingRow[] = [];
  private currentTokens = 0;

  /** @param tokenBudget the most tokens in a batch (unless one group alone is larger) */
  constructor(readonly tokenBudget: number) {
    if (!(Number.isInteger(tokenBudget) && tokenBudget > 0))
      throw new RangeError(`tokenBudget must be a positive integer, got ${tokenBudget}`);
  }

  /** Adds one group (all its rows); returns the batches it completed, oldest first. */
  add(group: readonly TrainingRow[]): TrainingRow[][] {
    if (group.length === 0) return [];
    const tokens = tokenCount(group);
    const done: TrainingRow[][] = [];
    if (this.currentTokens > 0 && this.currentTokens + tokens > this.tokenBudget)
      done.push(...this.flush());
    this.current.push(...group);
    this.currentTokens += tokens;
    if (this.currentTokens >= this.tokenBudget) done.push(...this.flush());
    return done;
  }

  /** The batch being filled, if any, as a finished batch. */
  flush(): TrainingRow[][] {
    if (this.current.length === 0) return [];
    const batch = this.current;
    this.current = [];
    this.currentTokens = 0;
    return [batch];
  }

  /** Rows and tokens waiting for the batch being filled. */
  get pending(): { rows: number; tokens: number } {
    return { rows: this.current.length, tokens: this.currentTokens };
  }
}
