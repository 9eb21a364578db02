/**
 * The final answer of a math response, found the way math-verify finds it, so answers written as
 * sentences ("so the result is 42", "Answer: x = 3") are scored on their value. In order: the
 * last `\boxed{}`; the whole response when it has no words (a plain expression, read as before);
 * the value after the last answer marker that gives one ("final answer", "the answer is",
 * "answer:", "the result is", "so/thus/therefore ... is|="), then after an `=` that ends the
 * response; the last run of math in the text; else the whole response. A value said not to be
 * the answer ("not 42", "42 is wrong") is never taken, and a hedge ("1 or 2") gives no value.
 *
 * Every step is one left-to-right pass or a bounded look around a position, so the cost is
 * linear in the response's length.
 *
 * @example
 * extractMathAnswer("The answer is not 42, it is 41."); // { text: "41", rule: "marker" }
 */
import { lastBoxed } from "./choice.js";

export type AnswerRule = "boxed" | "whole" | "marker" | "last number" | "whole text";

export interface ExtractedAnswer {
  text: string;
  rule: AnswerRule;
}

/** How far past a marker its value is looked for. */
const TAIL_CAP = 400;
/** Markers tried, last first, before falling back to the last number. */
const MARKERS_TRIED = 32;
/** A `{` further than this from its `}` does not hold a token together (a stray brace in prose). */
const BRACE_SPAN = 200;

/**
 * Answer markers. Gaps are bounded and stop at a sentence's end, so a marker never spans
 * sentences and the scan stays linear.
 */
const COPULA = String.raw`(?:\bis(?:n['’]t)?\b|\bare\b|\b(?:would|will|should|must|might|could)\s+be\b|\bequals\b|=|:)`;
const MARKER = new RegExp(
  [
    String.raw`\bfinal\s+answer\b(?:\s+(?:is|would\s+be|will\s+be|should\s+be))?`,
    String.raw`\banswers?\b(?:\s+(?:to|for|of)\b[^.\n]{0,40}?)?\s*${COPULA}`,
    String.raw`\b(?:result|value|solution|total|sum|product|difference|quotient|remainder|probability|area|volume|perimeter|length|count|number|minimum|maximum)\b[^.\n]{0,40}?(?:${COPULA}|\bcomes\s+to\b)`,
    String.raw`\b(?:so|thus|hence|therefore|actually|instead|but|wait)\b[^.\n]{0,60}?(?:${COPULA}|['’]s\b|\bwas\b)`,
  ].join("|"),
  "gi",
);

/** Words between a marker and its value: "the answer is: approximately 3". */
const FILLER =
  /^(?:\s|[:=*_"'`“”]|\b(?:is|are|was|be|equals?|equal\s+to|approximately|about|roughly|exactly|simply|just|given\s+by|then|now)\b)*/i;

const NEGATION = /^(?:not|never)\b/i;
/** "not 42, it is 41": what restates the answer after a negated value. */
const RESTATEMENT =
  /^\s*[,;]?\s*(?:but\s+)?(?:(?:it|this|that|the\s+answer)\s*(?:is|['’]s|was|should\s+be|must\s+be)|rather|instead|actually)\b/i;
/** Words after a value that say it is not the answer: "42 is wrong". */
const REJECTED_AFTER =
  /^(?:is|was)\s+(?:wrong|incorrect|not|false)\b|^(?:isn['’]t|wasn['’]t|wrong|incorrect)\b/i;
const NEGATION_BEFORE = /^(?:not|never|isn['’]t|wasn['’]t|aren['’]t)$/i;

/** Two-letter words of prose; other two-letter runs ("ab", "xy") are products in math. */
const SHORT_WORDS = new Set(
  "is so it to of we be by as at in on or if an no do up my me us am".split(" "),
);
/** Units of two letters, read as words so they end a value ("12 cm"). */
const SHORT_UNITS = new Set("cm mm km kg mg ml ft lb oz yd hz".split(" "));
const TEXT_COMMAND = /\\(?:text|textbf|textrm|textit|mbox|mathrm)\s*\{[^{}]*\}/g;

/** Whether a token is prose (a word, a plain-text unit, a "≠") rather than math. */
function isWord(token: string): boolean {
  if (/^(?:≠|\\neq?)$/.test(token)) return true;
  if (/^[a-zA-Z]+(?:\/[a-zA-Z]+)+[.,;:!?]*$/.test(token)) return true;
  const bare = token.replace(TEXT_COMMAND, " ").replace(/\\[a-zA-Z]+/g, " ");
  for (const [run] of bare.matchAll(/[a-zA-Z]+/g)) {
    const lower = run.toLowerCase();
    if (run.length >= 3 || SHORT_WORDS.has(lower) || SHORT_UNITS.has(lower)) return true;
  }
  return false;
}

interface Token {
  text: string;
  start: number;
  end: number;
}

/** Whitespace-separated tokens, keeping `{...}` whole so `\text{ cm}` is one token. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let start = -1;
  for (let index = 0; index <= text.length; index++) {
    const char = text[index];
    const split =
      char === undefined || ((depth <= 0 || index - start > BRACE_SPAN) && /\s/.test(char));
    if (split) {
      if (start !== -1) tokens.push({ text: text.slice(start, index), start, end: index });
      start = -1;
      depth = 0;
      continue;
    }
    if (start === -1) start = index;
    if (char === "{") depth++;
    else if (char === "}") depth--;
  }
  return tokens;
}

const SENTENCE_END = /[.;!?:]["'”’*_)]*$/;
/** Trailing punctuation of a sentence; `!` is kept inside math, where it is a factorial. */
const TRAILING = /[\s.,;:!?"'“”‘’`*_]+$/;
const TRAILING_IN_MATH = /[\s.,;:?"'“”‘’`*_]+$/;

/** The tokens of a value at `tokens[0]`, up to the first word or sentence end, and that word. */
function leadingRun(tokens: Token[]): { run: Token[]; next: number; stop?: string } {
  const run: Token[] = [];
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (isWord(token.text)) {
      return { run, next: index, stop: token.text.toLowerCase().replace(TRAILING, "") };
    }
    run.push(token);
    if (SENTENCE_END.test(token.text)) return { run, next: index + 1 };
  }
  return { run, next: tokens.length };
}

/** The index of the last `=` outside brackets that is not part of `<=`, `==` or `!=`. */
function lastTopLevelEquals(text: string): number {
  let depth = 0;
  let found = -1;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if ("{([".includes(char)) depth++;
    else if ("})]".includes(char)) depth--;
    else if (
      char === "=" &&
      depth === 0 &&
      !/[<>=!]/.test(text[index - 1] ?? "") &&
      text[index + 1] !== "="
    )
      found = index;
  }
  return found;
}

/** A run's text as a value: wrappers, emphasis and trailing punctuation off, `x = ` dropped. */
function valueText(run: Token[], source: string, inMath = false): string | undefined {
  let tokens = run;
  // An article or pronoun before a number is prose: "a 5", "I 42".
  while (
    tokens.length > 1 &&
    /^[aAI]$/.test(tokens[0]!.text) &&
    /^[-+$\\(\d]/.test(tokens[1]!.text)
  )
    tokens = tokens.slice(1);
  if (tokens.length === 0) return undefined;
  let value = source
    .slice(tokens[0]!.start, tokens.at(-1)!.end)
    .replace(inMath ? TRAILING_IN_MATH : TRAILING, "")
    .replace(/^[\s*_"'“‘`]+/, "")
    .replace(/^\$+|\$+$/g, "")
    .replace(/^\\[([]|\\[)\]]$/g, "")
    .trim();
  // A letter spaced after a plain number is a unit: "5 m", "9 g".
  if (!inMath) value = value.replace(/^([-+]?[\d.,]+(?:\/\d+)?%?)\s+[a-zA-Z]$/, "$1");
  // "2 + 2 = 4", "f(x) = x^2": the value is what the last top-level `=` gives.
  const equals = lastTopLevelEquals(value);
  if (equals !== -1) value = value.slice(equals + 1).trim();
  // "\frac{1}{3} \approx 0.333": the exact side, unless it is only a name.
  const approx = /\\approx|≈/.exec(value);
  if (approx) {
    const exact = value.slice(0, approx.index).trim();
    value = /[\d\\]/.test(exact) ? exact : value.slice(approx.index + approx[0].length).trim();
  }
  return /[\da-zA-Z\\]/.test(value) ? value : undefined;
}

/** A value found, one said not to be the answer, or a hedge between values. */
type Found = { value: string } | { negated: string } | { hedged: true } | undefined;

/** A delimited math span at the start of `text` (`$...$`, `$$...$$`, `\(...\)`, `\[...\]`). */
function delimited(text: string): { content: string; end: number } | undefined {
  for (const [open, close] of [
    ["$$", "$$"],
    ["$", "$"],
    ["\\(", "\\)"],
    ["\\[", "\\]"],
  ] as const) {
    if (!text.startsWith(open)) continue;
    const end = text.indexOf(close, open.length);
    if (end === -1) return undefined;
    return { content: text.slice(open.length, end), end: end + close.length };
  }
  return undefined;
}

/** The value a marker introduces, reading `text` from `from`. */
function valueAfter(text: string, from: number, markerNegated: boolean): Found {
  const window = text.slice(from, from + TAIL_CAP);
  let rest = window.slice(FILLER.exec(window)![0].length);
  const negated = markerNegated || NEGATION.test(rest);
  if (negated) rest = rest.replace(NEGATION, "").trimStart();
  const span = negated ? undefined : delimited(rest);
  if (span !== undefined) {
    const value = valueText(tokenize(span.content), span.content, true);
    if (value === undefined) return undefined;
    // "$x = 2$ or $x = 3$" names two values.
    return /^\S*\s+or\b/i.test(rest.slice(span.end)) ? { hedged: true } : { value };
  }
  const line = rest.split("\n", 1)[0]!;
  const first = leadingRun(tokenize(line));
  const value = valueText(first.run, line);
  if (value === undefined) return undefined;
  if (first.stop === "or") return { hedged: true };
  if (!negated) return { value };
  // "not 42, it is 41": the restated value, if the sentence gives one.
  const after = line.slice(first.run.at(-1)!.end);
  const restated = RESTATEMENT.exec(after);
  const found = restated ? valueAfter(after, restated[0].length, false) : undefined;
  return found && "value" in found ? found : { negated: value };
}

/** The value after an `=` that ends the response ("... so f(x) = 2x + 1."). */
function finalEquation(text: string): string | undefined {
  const at = text.lastIndexOf("=");
  if (at === -1 || /[<>=!]/.test(text[at - 1] ?? "") || text.length - at > TAIL_CAP) {
    return undefined;
  }
  const tail = text.slice(at + 1);
  const tokens = tokenize(tail);
  const { run, next } = leadingRun(tokens);
  return run.length > 0 && next === tokens.length ? valueText(run, tail) : undefined;
}

/** Spacing and case do not make a value different: "X = 42" rejects "x=42". */
const sameText = (text: string): string => text.replace(/\s+/g, "").toLowerCase();

/**
 * The value after the last marker that gives one, then after a final `=`. A later marker's
 * hedge ends the search; a later "not 42" rejects 42 wherever else it is offered.
 */
function fromMarkers(text: string, rejected: Set<string>): Found {
  const markers = [...text.matchAll(MARKER)].slice(-MARKERS_TRIED).reverse();
  for (const marker of markers) {
    const found = valueAfter(text, marker.index + marker[0].length, /n['’]t$/i.test(marker[0]));
    if (found && "value" in found && !rejected.has(sameText(found.value))) return found;
    if (found && "hedged" in found) return found;
    if (found && "negated" in found) rejected.add(sameText(found.negated));
  }
  const equation = finalEquation(text);
  return equation !== undefined && !rejected.has(sameText(equation))
    ? { value: equation }
    : undefined;
}

/** The last run of math in prose that is not rejected; a hedge ("1 or 2") gives none. */
function lastNumber(text: string, rejected: Set<string>): Found {
  const tokens = tokenize(text);
  let index = tokens.length - 1;
  while (index >= 0) {
    if (isWord(tokens[index]!.text)) {
      index--;
      continue;
    }
    // Back to the start of the run that ends at `index`.
    let start = index;
    while (
      start > 0 &&
      !isWord(tokens[start - 1]!.text) &&
      !SENTENCE_END.test(tokens[start - 1]!.text)
    )
      start--;
    const run = tokens.slice(start, index + 1);
    index = start - 1;
    const value = valueText(run, text);
    if (value === undefined || !/[\d\\]/.test(value) || rejected.has(sameText(value))) continue;
    const before = tokens[start - 1]?.text.toLowerCase().replace(TRAILING, "") ?? "";
    const end = run.at(-1)!.end;
    const after = text.slice(end, end + 40).replace(/^[\s,;:]+/, "");
    if (NEGATION_BEFORE.test(before) || /^(?:≠|\\neq?)$/.test(before)) continue;
    if (REJECTED_AFTER.test(after)) continue;
    if (before === "or") return { hedged: true };
    return { value };
  }
  return undefined;
}

/** Whether the response has words, so it is prose to search rather than an expression. */
function isProse(text: string): boolean {
  return tokenize(text).some((token) => isWord(token.text));
}

export function extractMathAnswer(response: string): ExtractedAnswer {
  const boxed = lastBoxed(response.replace(/\\fbox\{/g, "\\boxed{"));
  if (boxed !== undefined) return { text: boxed, rule: "boxed" };
  if (!isProse(response)) return { text: response, rule: "whole" };
  const rejected = new Set<string>();
  const marked = fromMarkers(response, rejected);
  if (marked && "value" in marked) return { text: marked.value, rule: "marker" };
  if (!marked) {
    const last = lastNumber(response, rejected);
    if (last && "value" in last) return { text: last.value, rule: "last number" };
  }
  return { text: response, rule: "whole text" };
}
