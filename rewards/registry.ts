/**
 * The built-in scorers by name: pure, synchronous functions the worker pool runs. The judge and
 * custom scorers are not here; `Rewarder` puts them beside these.
 */
import { scoreChoice, scoreMultiChoice } from "./choice.js";
import { scoreIfeval } from "./ifeval.js";
import { scoreMath } from "./math.js";
import { scoreOpenEnded } from "./open-ended.js";
import { scoreExact, scoreNumeric, scoreRougeL, scoreTokenF1 } from "./text.js";
import type { Scorer } from "./types.js";
import { ConfigError } from "../common/errors.js";

export const SCORERS: Record<string, Scorer> = {
  choice: scoreChoice,
  multi_choice: scoreMultiChoice,
  exact: scoreExact,
  f1: scoreTokenF1,
  rouge_l: scoreRougeL,
  numeric: scoreNumeric,
  math: scoreMath,
  open_ended: scoreOpenEnded,
  ifeval: scoreIfeval,
};

export class UnknownScorerError extends ConfigError {
  constructor(name: string, available: readonly string[] = Object.keys(SCORERS)) {
    super(
      name === "judge"
        ? "scorer 'judge' needs a judge endpoint: give the judge's base URL and model"
        : `there is no scorer '${name}'; available: ${available.join(", ")}`,
    );
  }
}

export function scorerNamed(name: string): Scorer {
  const scorer = SCORERS[name];
  if (!scorer) throw new UnknownScorerError(name);
  return scorer;
}
