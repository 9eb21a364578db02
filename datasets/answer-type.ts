/**
 * Answer types, and how a row's `qa_type` (or `answerType`) becomes one. Data written by people
 * names the kind in phrases ("multiple-choice (single)", "multi-select", "numerical",
 * "free-form"), so after an exact type name the value is read by keywords; a phrase that names
 * two kinds, or none, is an error that says so and lists the kinds.
 *
 * @example
 * classifyAnswerType("Single-answer multiple choice"); // { answerType: "single_choice" }
 * classifyAnswerType("single or multi"); // { problem: '"single or multi" is ambiguous ...' }
 */

export const ANSWER_TYPES = [
  "single_choice",
  "multiple_choice",
  "open_ended",
  "math",
  "numeric",
  "instruction_following",
] as const;
export type AnswerType = (typeof ANSWER_TYPES)[number];

/** The kinds with phrasings that reach them, for error messages and docs. */
export const KNOWN_ANSWER_KINDS =
  "single_choice (mcq, single-choice, multiple choice, multiple-choice (single)), " +
  "multiple_choice (multi-select, multiple-answer, select all that apply, multiple-choice (multiple)), " +
  "numeric (numerical, number, integer), math (expression, formula, equation), " +
  "open_ended (open-ended, free-form, short answer, free text), " +
  "instruction_following (ifeval, instruction following)";

const USE_ONE_OF = `use one of ${ANSWER_TYPES.join(", ")}, or a phrase naming one: ${KNOWN_ANSWER_KINDS}`;

/** What a phrase's words say; `choice` is a choice question whose count of answers is unsaid. */
type Signal = "choice" | "single" | "multi" | "numeric" | "math" | "open" | "instruction";

/** Multi-word phrases, read before single words and removed so their words are not read again. */
const PHRASES: [RegExp, Signal][] = [
  [/\b(?:select|check|choose|mark|tick) all\b|\ball that apply\b/g, "multi"],
  [/\bone or more\b|\bat least one\b|\bany number\b/g, "multi"],
  [/\b(?:short|long) answers?\b|\bfree (?:form|text|response)\b/g, "open"],
  [/\bfill in(?: the)? blanks?\b/g, "open"],
  [/\binstructions? following\b/g, "instruction"],
];

/**
 * "multiple choice" alone is the usual question with one answer: choice, not multi. Read only
 * where no alternatives are listed, since "single or multiple choice" names two counts.
 */
const MULTIPLE_CHOICE = /\bmultiple choice\b/g;

/** Words that join alternatives: "single or multi", "mcq vs free-form" ("/" too). */
const ALTERNATIVES = /\b(?:or|vs|versus)\b/;

const WORDS: Record<string, Signal> = {
  choice: "choice",
  choices: "choice",
  mcq: "choice",
  mcqs: "choice",
  mc: "choice",
  select: "choice",
  option: "choice",
  options: "choice",
  letter: "choice",
  single: "single",
  one: "single",
  mcsa: "single",
  scq: "single",
  multi: "multi",
  multiple: "multi",
  multiselect: "multi",
  mcma: "multi",
  msq: "multi",
  maq: "multi",
  mrq: "multi",
  sata: "multi",
  numeric: "numeric",
  numerical: "numeric",
  number: "numeric",
  numbers: "numeric",
  integer: "numeric",
  decimal: "numeric",
  float: "numeric",
  math: "math",
  maths: "math",
  mathematical: "math",
  expression: "math",
  formula: "math",
  equation: "math",
  latex: "math",
  symbolic: "math",
  open: "open",
  freeform: "open",
  text: "open",
  word: "open",
  words: "open",
  phrase: "open",
  sentence: "open",
  span: "open",
  blank: "open",
  cloze: "open",
  ifeval: "instruction",
  instruction: "instruction",
  instructions: "instruction",
};

/** "multiple choice single" from "Multiple-Choice (single)"; camelCase words are split too. */
function phraseWords(value: string): string {
  return value
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

/** The type names in identifier spellings: `multiple_choice`, `MULTIPLE_CHOICE`, `multipleChoice`. */
function exactType(value: string): AnswerType | undefined {
  const trimmed = value.trim();
  // A phrase with spaces or hyphens is read as words: "multiple choice" has one answer.
  if (!/^[A-Za-z_]+$/.test(trimmed)) return undefined;
  const key = trimmed.replace(/_/g, "").toLowerCase();
  return ANSWER_TYPES.find((type) => type.replace(/_/g, "") === key);
}

interface Reading {
  signals: Set<Signal>;
  /** The phrase lists alternatives, so any two kinds in it conflict. */
  alternatives: boolean;
}

function readPhrase(value: string): Reading {
  const signals = new Set<Signal>();
  let words = phraseWords(value);
  const take = (pattern: RegExp, signal: Signal): void => {
    words = words.replace(pattern, () => {
      signals.add(signal);
      return " ";
    });
  };
  for (const [pattern, signal] of PHRASES) take(pattern, signal);
  const alternatives = /[/|]/.test(value) || ALTERNATIVES.test(words);
  if (!alternatives) take(MULTIPLE_CHOICE, "choice");
  for (const word of words.split(" ")) {
    const signal = WORDS[word];
    if (signal) signals.add(signal);
  }
  return { signals, alternatives };
}

/** The kind each signal belongs to, for telling alternatives apart. */
const KIND_OF: Record<Signal, string> = {
  choice: "choice",
  single: "choice",
  multi: "choice",
  numeric: "numeric",
  math: "math",
  open: "open-ended",
  instruction: "instruction following",
};

/**
 * Reads the signals in order of how much they decide the scorer: instruction following stands
 * alone; a choice question is scored by letters whatever its subject ("math mcq"); a numeric
 * answer is scored with tolerance whether or not it is also called math or free-form; math
 * beats the generic open-ended ("open-ended math expression"). A count without a choice word
 * qualifies the other kind named ("single numeric value"), or alone means choice ("multi").
 */
function decide({
  signals,
  alternatives,
}: Reading): { answerType: AnswerType } | { why: string } | undefined {
  const has = (signal: Signal): boolean => signals.has(signal);
  if (signals.size === 0) return undefined;
  // In KIND_OF's order, so a message reads the same whatever order the phrase has.
  const named = (Object.keys(KIND_OF) as Signal[]).filter(has);
  const kinds = [...new Set(named.map((signal) => KIND_OF[signal]))];
  if (alternatives && kinds.length > 1) return { why: `it names ${kinds.join(" and ")}` };
  if (has("single") && has("multi") && (alternatives || has("choice") || kinds.length === 1)) {
    return { why: "it says both single and multiple answers" };
  }
  if (has("instruction")) {
    return kinds.length === 1
      ? { answerType: "instruction_following" }
      : { why: `it names ${kinds.join(" and ")}` };
  }
  const counted = has("single") || has("multi");
  if (has("choice") || (counted && kinds.length === 1)) {
    if (has("numeric") || has("open")) {
      return { why: `it names choice and ${has("numeric") ? "numeric" : "open-ended"}` };
    }
    return { answerType: has("multi") ? "multiple_choice" : "single_choice" };
  }
  if (has("numeric")) return { answerType: "numeric" };
  if (has("math")) return { answerType: "math" };
  return { answerType: "open_ended" };
}

/** The answer type a value names, or the problem with it (naming the value and the kinds). */
export function classifyAnswerType(
  value: string,
): { answerType: AnswerType } | { problem: string } {
  const exact = exactType(value);
  if (exact) return { answerType: exact };
  const decided = decide(readPhrase(value));
  const quoted = JSON.stringify(value);
  if (!decided) return { problem: `${quoted} is not known; ${USE_ONE_OF}` };
  if ("answerType" in decided) return decided;
  return { problem: `${quoted} is ambiguous (${decided.why}); ${USE_ONE_OF}` };
}

/** The answer type a value names, or undefined when it names none or more than one. */
export function normalizeAnswerType(value: string): AnswerType | undefined {
  const result = classifyAnswerType(value);
  return "answerType" in result ? result.answerType : undefined;
}

/** A row's raw value (any JSON) as an answer type, or the problem with it. */
export function readAnswerType(value: unknown): { answerType: AnswerType } | { problem: string } {
  if (typeof value === "string") return classifyAnswerType(value);
  if (value === undefined) return { problem: `is missing; ${USE_ONE_OF}` };
  return { problem: `${JSON.stringify(value)} is not known; ${USE_ONE_OF}` };
}
