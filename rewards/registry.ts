/**
 * Scorers by name. `sandfarm reward --scorer NAME` and the farm look them up here. The
 * instruction-following and judge scorers, custom scorers and the worker pool are still to come
 * (issue 5); asking for one says so.
 */
import { scoreChoice, scoreMultiChoice } from "./choice.js";
import { scoreMath } from "./math.js";
import { scoreExact, scoreNumeric, scoreRougeL, scoreTokenF1 } from "./text.js";
import type { Scorer } from "./types.js";

export const SCORERS: Record<string, Scorer> = {
  choice: scoreChoice,
  multi_choice: scoreMultiChoice,
  exact: scoreExact,
  f1: scoreTokenF1,
  rouge_l: scoreRougeL,
  numeric: scoreNumeric,
  math: scoreMath,
};

const PLANNED = ["ifeval", "judge"];

export class UnknownScorerError extends Error {
  constructor(name: string) {
    super(
      PLANNED.includes(name)
        ? `scorer '${name}' is not built yet; available: ${Object.keys(SCORERS).join(", ")}`
        : `there is no scorer '${name}'; available: ${Object.keys(SCORERS).join(", ")}`,
    );
    this.name = new.target.name;
  }
}

export function scorerNamed(name: string): Scorer {
  const scorer = SCORERS[name];
  if (!scorer) throw new UnknownScorerError(name);
  return scorer;
}
