/**
 * Math equivalence on the answer's final value: the last `\boxed{}` (nested braces), the plain
 * expression, or the value a sentence states ("so the result is 42"; `math-answer.ts`). The
 * truth is its last `\boxed{}` or its whole text. Both are normalized (spacing commands, `\left`/`\right`, `\dfrac`/`\tfrac`/`\frac12`, units
 * and `\text{}`, degrees, thousands separators, `x = ` prefixes), split into structure
 * (intervals keep their brackets, tuples their order, sets and bare comma lists are unordered),
 * and each element compared by numeric evaluation: exactly-ish for constants, at random points
 * for expressions with variables. A percentage matches its value or its value / 100.
 * Expressions undefined at nearly every sample point go to the computer-algebra fallback
 * (`cas.ts`); what the evaluator cannot parse is compared as normalized text.
 */
import { casEqual } from "./cas.js";
import { lastBoxed } from "./choice.js";
import { extractMathAnswer } from "./math-answer.js";
import { type Expr, MathParseError, evaluate, parseMath, variablesOf } from "./math-expression.js";
import type { ScoreInput, ScoreResult } from "./types.js";

/** Longer answers are not math answers; they are scored 0 without parsing. */
export const MATH_ANSWER_CAP = 2000;
const REL_TOL = 1e-6;
const ABS_TOL = 1e-12;
const RANDOM_POINTS = 6;

/**
 * A truth's final answer: the last `\boxed{}` (or `\fbox{}`), else the whole text. Truths are not
 * searched like answers: "grew 12% in 2019" is the truth as written, not 2019.
 */
export function finalAnswer(text: string): string {
  return lastBoxed(text.replace(/\\fbox\{/g, "\\boxed{")) ?? text;
}

/** Removes notation that does not change a value. */
export function normalizeMath(text: string): string {
  let s = text.trim();
  s = s
    .replace(/^\$+|\$+$/g, "")
    .replace(/^\\\(|\\\)$/g, "")
    .replace(/^\\\[|\\\]$/g, "");
  s = s.replace(/\\(?:left|right|big|Big|bigg|Bigg)(?=[^a-zA-Z])/g, "");
  s = s.replace(/\\(?:displaystyle|textstyle|mathrm|mathbf|mathit|operatorname)\b/g, "");
  s = s.replace(/\\[,;:! ]|~/g, " ");
  s = s.replace(/\\[dt]frac/g, "\\frac");
  // \frac12 and \frac1{x}: single-character arguments without braces.
  s = s.replace(/\\frac\s*(\d|[a-zA-Z])\s*(\d|[a-zA-Z])/g, "\\frac{$1}{$2}");
  s = s.replace(/\\frac\s*(\d)\s*\{/g, "\\frac{$1}{");
  s = s.replace(/\^\s*\{?\\circ\}?|°|\\degree/g, "");
  // Units and words in \text{}: dropped when something else remains.
  const withoutText = s.replace(/\\(?:text|textbf|textrm|mbox)\s*\{[^{}]*\}/g, " ").trim();
  s =
    withoutText !== ""
      ? withoutText
      : s.replace(/\\(?:text|textbf|textrm|mbox)\s*\{([^{}]*)\}/g, "$1");
  s = s.replace(/\\%|%/g, "%");
  // Thousands separators: 1,234,567 (groups of exactly three digits, no space after the comma).
  s = s.replace(/\b\d{1,3}(?:,\d{3})+(?![\d.])/g, (match) => match.replaceAll(",", ""));
  s = s.replace(/\.$/, "").trim();
  // "x = 3", "y=\frac12": keep the value.
  const assignment = /^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*(.+)$/.exec(s);
  if (assignment) s = assignment[1]!.trim();
  return s.replace(/\s+/g, " ").trim();
}

type MathValue =
  | { kind: "scalar"; text: string; percent: boolean }
  | { kind: "interval"; open: string; close: string; items: string[] }
  | { kind: "tuple"; items: string[] }
  | { kind: "set"; items: string[] };

/** Splits on commas that are not inside brackets or braces. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if ("([{".includes(char)) depth++;
    if (")]}".includes(char)) depth--;
    if (char === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += char;
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== "");
}

function structure(text: string): MathValue {
  const setMatch = /^\\\{(.*)\\\}$/.exec(text);
  if (setMatch) return { kind: "set", items: splitTopLevel(setMatch[1]!) };
  const bracketed = /^([([])(.*)([)\]])$/.exec(text);
  if (bracketed) {
    const items = splitTopLevel(bracketed[2]!);
    if (items.length >= 2) {
      const [, open, , close] = bracketed;
      if (open === "(" && close === ")") return { kind: "tuple", items };
      return { kind: "interval", open: open!, close: close!, items };
    }
  }
  const items = splitTopLevel(text);
  if (items.length >= 2) return { kind: "set", items };
  const percent = text.endsWith("%");
  return { kind: "scalar", text: percent ? text.slice(0, -1).trim() : text, percent };
}

function close(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= Math.max(ABS_TOL, REL_TOL * Math.max(Math.abs(a), Math.abs(b)));
}

function tryParse(text: string): Expr | undefined {
  try {
    return parseMath(text);
  } catch (error) {
    if (error instanceof MathParseError) return undefined;
    throw error;
  }
}

/**
 * Where variables are sampled: near 1 first, then negative, larger and much larger values, so an
 * expression defined only there (\sqrt{x-5}, \ln(-x)) still gets compared.
 */
const SAMPLE_RANGES: readonly { low: number; high: number; integer?: boolean }[] = [
  { low: 0.3, high: 2.7 },
  { low: -2.7, high: -0.3 },
  { low: 3, high: 30 },
  { low: -30, high: -3 },
  { low: 100, high: 1000 },
  // Factorials and binomials are defined only at integers.
  { low: 2, high: 13, integer: true },
];

/** Deterministic pseudo-random points, so a verdict never changes between runs. */
function* points(names: readonly string[], count: number): Generator<Map<string, number>> {
  let seed = 0x9e3779b9;
  const next = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  for (const { low, high, integer } of SAMPLE_RANGES) {
    for (let index = 0; index < count; index++) {
      yield new Map(
        names.map((name) => {
          const value = low + (high - low) * next();
          return [name, integer ? Math.floor(value) : value];
        }),
      );
    }
  }
}

/**
 * Whether two scalar expressions have the same value (everywhere, for expressions with
 * variables): numerically at sample points first; by computer algebra only when fewer than
 * three points had both sides defined.
 */
export function sameExpression(answer: string, truth: string): boolean {
  // Identical text is equal whatever it means ("No" and "no"; evaluated, N·o and n·o differ).
  const asText = (text: string): string => text.replace(/\s+/g, "").toLowerCase();
  if (asText(answer) === asText(truth)) return true;
  const a = tryParse(answer);
  const b = tryParse(truth);
  // Text already differed; what cannot be evaluated is not shown equal.
  if (!a || !b) return false;
  const names = [...new Set([...variablesOf(a), ...variablesOf(b)])].sort();
  if (names.length === 0) return close(evaluate(a), evaluate(b));
  let compared = 0;
  for (const point of points(names, RANDOM_POINTS)) {
    const x = evaluate(a, point);
    const y = evaluate(b, point);
    // Outside either side's domain the point says nothing (\sqrt{x}^2 and x at x < 0).
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    if (!close(x, y)) return false;
    if (++compared >= RANDOM_POINTS) return true;
  }
  return compared >= 3 || casEqual(a, b);
}

function sameScalar(
  answer: MathValue & { kind: "scalar" },
  truth: MathValue & { kind: "scalar" },
): boolean {
  if (sameExpression(answer.text, truth.text)) return true;
  // 50% may mean 50 or 0.5; either reading of either side matches.
  if (answer.percent && sameExpression(`(${answer.text})/100`, truth.text)) return true;
  if (truth.percent && sameExpression(answer.text, `(${truth.text})/100`)) return true;
  return false;
}

function sameItems(answer: string[], truth: string[], ordered: boolean): boolean {
  if (answer.length !== truth.length) return false;
  if (ordered) return answer.every((item, index) => sameValue(item, truth[index]!));
  const left = [...truth];
  for (const item of answer) {
    const at = left.findIndex((candidate) => sameValue(item, candidate));
    if (at === -1) return false;
    left.splice(at, 1);
  }
  return true;
}

function sameValue(answer: string, truth: string): boolean {
  const a = structure(answer);
  const b = structure(truth);
  if (a.kind === "scalar" && b.kind === "scalar") return sameScalar(a, b);
  if (a.kind === "interval" && b.kind === "interval") {
    return a.open === b.open && a.close === b.close && sameItems(a.items, b.items, true);
  }
  // An open interval and an ordered pair are written alike: (1, 2).
  if (
    (a.kind === "tuple" || a.kind === "interval") &&
    (b.kind === "tuple" || b.kind === "interval")
  ) {
    const openA = a.kind === "interval" ? a.open + a.close : "()";
    const openB = b.kind === "interval" ? b.open + b.close : "()";
    return openA === openB && sameItems(a.items, b.items, true);
  }
  if (a.kind === "set" && b.kind === "set") return sameItems(a.items, b.items, false);
  return false;
}

/** Whether the answer's final value equals the truth's. */
export function mathEquivalent(answer: string, truth: string): boolean {
  return sameValue(
    normalizeMath(extractMathAnswer(answer).text),
    normalizeMath(finalAnswer(truth)),
  );
}

export function scoreMath(input: ScoreInput): ScoreResult {
  if (input.answer.trim() === "") return { reward: 0, details: { reason: "empty answer" } };
  const final = extractMathAnswer(input.answer).text;
  if (final.length > MATH_ANSWER_CAP) {
    return { reward: 0, details: { reason: `final answer over ${MATH_ANSWER_CAP} characters` } };
  }
  const extracted = normalizeMath(final);
  const truth = normalizeMath(finalAnswer(input.truth));
  return { reward: sameValue(extracted, truth) ? 1 : 0, details: { extracted, truth } };
}
