/**
 * Choice-letter scoring. One letter is extracted from the answer in the reference's order: the
 * whole answer is a letter; `"answer": "X"`; `answer: X`; `answer/choice is X`; the first letter
 * in the last `\boxed{}`; the last standalone capital; the first character. Multiple choice
 * (`A, C, D`) is scored as the F1 of the two letter sets.
 */
import type { ScoreInput, ScoreResult } from "./types.js";

/** Letters a choice may use (MedXpertQA goes to J); options.letters overrides. */
const DEFAULT_LETTERS = "ABCDEFGHIJ";

function lettersOf(options: ScoreInput["options"]): string {
  const letters = options?.letters;
  return typeof letters === "string" && /^[A-Z]+$/.test(letters) ? letters : DEFAULT_LETTERS;
}

/** The content of the last `\boxed{...}`, braces balanced, or undefined. */
export function lastBoxed(text: string): string | undefined {
  const start = text.lastIndexOf("\\boxed{");
  if (start === -1) return undefined;
  let depth = 0;
  for (let index = start + "\\boxed{".length - 1; index < text.length; index++) {
    const char = text[index];
    if (char === "{") depth++;
    else if (char === "}") {
      depth--;
      if (depth === 0) return text.slice(start + "\\boxed{".length, index);
    }
  }
  return undefined;
}

/** The single choice letter in `answer`, and the rule that found it. */
export function extractChoice(
  answer: string,
  letters = DEFAULT_LETTERS,
): { letter?: string; rule: string } {
  const set = `[${letters}]`;
  const text = answer.trim();
  const bare = new RegExp(`^\\(?(${set})\\)?[.:)]?$`).exec(text);
  if (bare) return { letter: bare[1]!, rule: "whole answer" };
  const rules: [string, RegExp][] = [
    ["json answer", new RegExp(`"answer"\\s*:\\s*"\\(?(${set})\\)?"`, "i")],
    ["answer:", new RegExp(`answer\\s*:\\s*\\(?(${set})\\b`, "i")],
    ["answer is", new RegExp(`(?:answer|choice)\\s+is\\s*:?\\s*\\(?(${set})\\b`, "i")],
  ];
  for (const [rule, pattern] of rules) {
    const match = pattern.exec(text);
    if (match) return { letter: match[1]!.toUpperCase(), rule };
  }
  const boxed = lastBoxed(text);
  if (boxed !== undefined) {
    const inBox = new RegExp(set).exec(boxed.replace(/\\text\{([^}]*)\}/g, "$1"));
    if (inBox) return { letter: inBox[0], rule: "boxed" };
  }
  const standalone = [...text.matchAll(new RegExp(`\\b(${set})\\b`, "g"))];
  if (standalone.length > 0)
    return { letter: standalone.at(-1)![1]!, rule: "last standalone capital" };
  const first = text[0]?.toUpperCase();
  if (first && letters.includes(first)) return { letter: first, rule: "first character" };
  return { rule: "none" };
}

export function scoreChoice(input: ScoreInput): ScoreResult {
  const letters = lettersOf(input.options);
  const truth = extractChoice(input.truth, letters).letter;
  if (!truth)
    return { reward: 0, details: { error: `the truth '${input.truth}' names no choice letter` } };
  if (input.answer.trim() === "") return { reward: 0, details: { reason: "empty answer" } };
  const { letter, rule } = extractChoice(input.answer, letters);
  return { reward: letter === truth ? 1 : 0, details: { extracted: letter ?? null, truth, rule } };
}

/** The set of letters in a multiple-choice answer like `A, C, D` (or `\boxed{A, C}`, `ACD`). */
export function extractChoiceSet(answer: string, letters = DEFAULT_LETTERS): string[] {
  let text = answer.trim();
  text = lastBoxed(text) ?? text;
  const labelled = /answers?\s*(?:is|are|:)\s*(.+)$/im.exec(text);
  if (labelled) text = labelled[1]!;
  const set = new Set<string>();
  const compact = new RegExp(`^[${letters}]+$`).test(text.replace(/[\s,;&/]|and/g, ""));
  if (compact) {
    for (const char of text.replace(/and/g, "")) if (letters.includes(char)) set.add(char);
  } else {
    for (const match of text.matchAll(new RegExp(`\\b([${letters}])\\b`, "g"))) set.add(match[1]!);
  }
  return [...set].sort();
}

export function scoreMultiChoice(input: ScoreInput): ScoreResult {
  const letters = lettersOf(input.options);
  const truth = extractChoiceSet(input.truth, letters);
  if (truth.length === 0)
    return { reward: 0, details: { error: `the truth '${input.truth}' names no choice letters` } };
  const answer = extractChoiceSet(input.answer, letters);
  const common = answer.filter((letter) => truth.includes(letter)).length;
  if (common === 0)
    return { reward: 0, details: { extracted: answer, truth, precision: 0, recall: 0 } };
  const precision = common / answer.length;
  const recall = common / truth.length;
  const f1 = (2 * precision * recall) / (precision + recall);
  return { reward: f1, details: { extracted: answer, truth, precision, recall } };
}
