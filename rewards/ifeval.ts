/**
 * Instruction-following verifiers: the 25 instruction families of Google's IFEval, under its ids
 * and kwarg names, so IFEval and IFBench rows score unchanged. Each check reproduces the
 * reference's semantics (google-research `instruction_following_eval`), including its quirks:
 * keyword existence and frequency are case-insensitive substring matches while forbidden words
 * need word boundaries, bullets are lines starting with `*` or `-`, a response counts as JSON
 * inside a ```json fence. Two pieces are approximations because the reference leans on Python
 * libraries: sentences are counted the way NLTK's punkt mostly splits them, and languages are
 * told apart by script and stopwords instead of langdetect (limits at `detectLanguage`).
 *
 * Strict checks the raw response. Loose (the reference's upper bound, used to score IFBench)
 * passes an instruction when any of eight variants passes: the response, without its first line,
 * without its last, without both, and each of those with every `*` removed.
 *
 * @example
 * scoreIfeval({ answer: "Sure:\nno commas here", truth: '[{"id":"punctuation:no_comma"}]' });
 * // { reward: 1, details: { mode: "loose", aggregate: "all", followed: [true], ... } }
 */
import { SUPPORTED_LANGUAGES, baseLanguage, isInLanguage } from "./language.js";
import type { ScoreInput, ScoreResult, Scorer } from "./types.js";
import { UserError } from "../common/errors.js";

export interface Instruction {
  id: string;
  kwargs?: Record<string, unknown>;
}

type Checker = (response: string) => boolean;
type Relation = "less than" | "at least";
type Mode = "loose" | "strict";
type Aggregate = "all" | "fraction";

/** Instructions that cannot be checked (unknown ids, bad kwargs); `problems` lists each. */
export class InstructionError extends UserError {
  constructor(readonly problems: readonly string[]) {
    super(`bad IFEval instructions: ${problems.join("; ")}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Python string semantics the reference relies on: str.isspace / strip / split, \w, \b.

/** Python's str.isspace set, which differs from JavaScript's \s (0x1c-0x1f and 0x85 in, BOM out). */
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

function isPySpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPySpace(text.charCodeAt(start))) start++;
  while (end > start && isPySpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Python's `str.split()`: runs of whitespace separate, no empty pieces. */
function pySplit(text: string): string[] {
  const pieces: string[] = [];
  let start = -1;
  for (let index = 0; index <= text.length; index++) {
    const space = index === text.length || isPySpace(text.charCodeAt(index));
    if (space && start !== -1) {
      pieces.push(text.slice(start, index));
      start = -1;
    } else if (!space && start === -1) start = index;
  }
  return pieces;
}

function trimChars(text: string, chars: string, side: "start" | "end" | "both"): string {
  let start = 0;
  let end = text.length;
  if (side !== "end") while (start < end && chars.includes(text[start]!)) start++;
  if (side !== "start") while (end > start && chars.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Python's Unicode `\w`: letters, numbers and underscore (combining marks are not word chars). */
const WORD_CHAR = "[\\p{L}\\p{N}_]";
const WORDS = new RegExp(`${WORD_CHAR}+`, "gu");
/** Python's `\b`, which (unlike JavaScript's, even with the u flag) knows non-ASCII letters. */
const WORD_BOUNDARY = `(?:(?<=${WORD_CHAR})(?!${WORD_CHAR})|(?<!${WORD_CHAR})(?=${WORD_CHAR}))`;

/** Python's `str.isupper()`: some cased character, and none lowercase or titlecase. */
function isUpper(text: string): boolean {
  return /\p{Uppercase}/u.test(text) && !/[\p{Lowercase}\p{Lt}]/u.test(text);
}

function isLower(text: string): boolean {
  return /\p{Lowercase}/u.test(text) && !/[\p{Uppercase}\p{Lt}]/u.test(text);
}

function endOfLine(text: string, from: number): number {
  const newline = text.indexOf("\n", from);
  return newline === -1 ? text.length : newline;
}

// ---------------------------------------------------------------------------------------------
// Counting.

function countWords(text: string): number {
  return text.match(WORDS)?.length ?? 0;
}

/** Words punkt's English model treats as abbreviations (a period after them rarely ends a sentence). */
const ABBREVIATIONS = new Set(
  (
    "mr mrs ms dr prof st jr sr inc ltd co corp vs etc e.g i.e u.s u.k u.n a.m p.m jan feb aug " +
    "sept oct nov dec gen gov sen rep rev lt col capt sgt mt ft approx dept fig"
  ).split(" "),
);

/** Capitalized words that punkt's orthographic evidence says start sentences. */
const SENTENCE_STARTERS = new Set(
  (
    "the this that these those it its he she they we i you there here in on at but and or so a " +
    "an if when as for however then our my his her their what why how after before while since " +
    "because also some many most all no not one each to with from by"
  ).split(" "),
);

function startsSentence(next: string): boolean {
  const first = next[0] ?? "";
  if (!isUpper(first)) return false;
  return SENTENCE_STARTERS.has(trimChars(next, `.,;:!?"')]}”’`, "end").toLowerCase());
}

/**
 * Whether punkt would end a sentence after `token`, given the token after it. A period ends one
 * unless it closes an abbreviation, an initial or an ellipsis (then only a capitalized common
 * word starts the next) or a number (then a lowercase word continues it); `?` and `!` always do.
 */
function endsSentence(token: string, next: string): boolean {
  const core = trimChars(token, `"')]}*»”’`, "end");
  const last = core.at(-1);
  if (last === "?" || last === "!") return true;
  if (last !== ".") return false;
  if (core.endsWith("..")) return startsSentence(next);
  const word = trimChars(core.slice(0, -1), `(["'“‘¿¡`, "start").toLowerCase();
  if (word === "") return true;
  const initial = /^[\p{L}_]$/u.test(word);
  if (initial || ABBREVIATIONS.has(word) || ABBREVIATIONS.has(word.split("-").at(-1)!))
    return startsSentence(next);
  if (/^-?[.,]?\d[\d,.-]*$/.test(word)) return !/^\p{Lowercase}/u.test(next);
  return true;
}

/** Sentences as NLTK's punkt counts them, closely: a break needs whitespace and a next token. */
function countSentences(text: string): number {
  const tokens = pySplit(text);
  if (tokens.length === 0) return 0;
  let sentences = 1;
  for (let index = 0; index + 1 < tokens.length; index++)
    if (endsSentence(tokens[index]!, tokens[index + 1]!)) sentences++;
  return sentences;
}

const CLITICS = ["n't", "'ll", "'re", "'ve", "'s", "'m", "'d"];
const TREEBANK_PUNCTUATION = /[,;:@#$%&?!()[\]{}<>"`*“”]+/;

/** Tokens as NLTK's word_tokenize cuts them, as far as upper-case counting can tell. */
function treebankTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const chunk of pySplit(text)) {
    for (const piece of chunk.split(TREEBANK_PUNCTUATION)) {
      if (piece === "") continue;
      const lower = piece.toLowerCase();
      const clitic = CLITICS.find((end) => lower.endsWith(end) && lower.length > end.length);
      if (clitic) tokens.push(piece.slice(0, -clitic.length), piece.slice(-clitic.length));
      else if (lower === "cannot") tokens.push(piece.slice(0, 3), piece.slice(3));
      else tokens.push(piece);
    }
  }
  return tokens;
}

/**
 * Matches of a MULTILINE `^\s*X.*$` pattern, found in linear time: the regex itself rescans
 * whitespace runs from every line start, which is quadratic on many blank lines. `matchAt` gets
 * the index after the leading whitespace and returns where the match ends, or -1.
 */
function countLineMatches(text: string, matchAt: (at: number) => number): number {
  const lineStartFrom = (from: number): number => {
    if (from === 0 || text[from - 1] === "\n") return from;
    const newline = text.indexOf("\n", from);
    return newline === -1 ? -1 : newline + 1;
  };
  let count = 0;
  let runEnd = 0;
  let position = 0;
  while (position !== -1 && position <= text.length) {
    let at = Math.max(position, runEnd);
    while (at < text.length && isPySpace(text.charCodeAt(at))) at++;
    runEnd = at;
    const end = matchAt(at);
    if (end >= 0) {
      count++;
      position = lineStartFrom(end);
    } else position = lineStartFrom(position + 1);
  }
  return count;
}

/** The reference's `^\s*\*[^\*].*$` plus `^\s*-.*$` (a bare `*` line swallows the next line). */
function countBullets(text: string): number {
  const stars = countLineMatches(text, (at) =>
    text[at] === "*" && at + 1 < text.length && text[at + 1] !== "*" ? endOfLine(text, at + 2) : -1,
  );
  const dashes = countLineMatches(text, (at) => (text[at] === "-" ? endOfLine(text, at + 1) : -1));
  return stars + dashes;
}

/** Matches of `\[.*?\]` (`.` stops at newlines), without the regex's quadratic failure mode. */
function countPlaceholders(text: string): number {
  let count = 0;
  let position = 0;
  for (;;) {
    const open = text.indexOf("[", position);
    if (open === -1) return count;
    const close = text.indexOf("]", open + 1);
    if (close === -1) return count;
    const lineEnd = endOfLine(text, open);
    if (close < lineEnd) {
      count++;
      position = close + 1;
    } else position = text.lastIndexOf("\n", close) + 1;
  }
}

function countHighlights(text: string): number {
  let count = 0;
  for (const [match] of text.matchAll(/\*[^\n*]*\*/g))
    if (pyStrip(match.slice(1, -1)) !== "") count++;
  for (const [match] of text.matchAll(/\*\*[^\n*]*\*\*/g))
    if (pyStrip(match.slice(2, -2)) !== "") count++;
  return count;
}

/**
 * The reference's `<<[^\n]+>>` with a non-blank title. Per line that regex matches at most once,
 * from the first `<<` to the last `>>`; finding those directly avoids its backtracking.
 */
function hasTitle(text: string): boolean {
  let lineStart = 0;
  while (lineStart <= text.length) {
    const lineEnd = endOfLine(text, lineStart);
    const line = text.slice(lineStart, lineEnd);
    const open = line.indexOf("<<");
    const close = line.lastIndexOf(">>");
    if (open !== -1 && close >= open + 3) {
      const title = trimChars(trimChars(line.slice(open, close + 2), "<", "start"), ">", "end");
      if (pyStrip(title) !== "") return true;
    }
    lineStart = lineEnd + 1;
  }
  return false;
}

/** JSON, optionally in a ``` fence. Python's json also takes NaN and Infinity; this does not. */
function isJson(text: string): boolean {
  let value = pyStrip(text);
  for (const prefix of ["```json", "```Json", "```JSON", "```"])
    if (value.startsWith(prefix)) value = value.slice(prefix.length);
  if (value.endsWith("```")) value = value.slice(0, -3);
  try {
    JSON.parse(pyStrip(value));
    return true;
  } catch {
    return false;
  }
}

const PARAGRAPH_DIVIDER = new RegExp(`[${PY_SPACE}]?\\*\\*\\*[${PY_SPACE}]?`, "u");

/** Paragraphs between `***` dividers; undefined when a divider has nothing before the next. */
function countParagraphsByDivider(text: string): number | undefined {
  const paragraphs = text.split(PARAGRAPH_DIVIDER);
  let count = paragraphs.length;
  for (const [index, paragraph] of paragraphs.entries()) {
    if (pyStrip(paragraph) !== "") continue;
    if (index !== 0 && index !== paragraphs.length - 1) return undefined;
    count--;
  }
  return count;
}

function nthParagraphFirstWord(text: string, nth: number, expectedCount: number): string | false {
  const paragraphs = text.split("\n\n");
  const count = paragraphs.filter((paragraph) => pyStrip(paragraph) !== "").length;
  // The reference indexes the raw split, blank pieces included, and compares counts afterwards.
  if (nth > count || count !== expectedCount) return false;
  const paragraph = pyStrip(paragraphs[nth - 1]!);
  if (paragraph === "") return false;
  const word = trimChars(trimChars(pySplit(paragraph)[0]!, "'", "start"), '"', "start");
  let first = "";
  for (const char of word) {
    if (`.,?!'"`.includes(char)) break;
    first += char.toLowerCase();
  }
  return first;
}

function compare(count: number, relation: Relation, threshold: number): boolean {
  return relation === "less than" ? count < threshold : count >= threshold;
}

// ---------------------------------------------------------------------------------------------
// Kwargs: read, check and report in one pass.

function describeValue(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function" || typeof value === "symbol") return typeof value;
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const RELATIONS: readonly string[] = ["less than", "at least"];

/**
 * Reads one instruction's kwargs for its check, collecting a problem (kwarg, what was wrong, the
 * fix) for each missing or mistyped one. Nulls count as missing: Hugging Face's IFEval gives
 * every row every kwarg, null where unused. Kwargs a check does not read are ignored.
 */
class KwargReader {
  readonly problems: string[] = [];

  constructor(private readonly kwargs: Record<string, unknown>) {}

  private value(name: string): unknown {
    return this.kwargs[name] ?? undefined;
  }

  reject(name: string, need: string, fix: string): void {
    const value = this.value(name);
    if (value === undefined) {
      const given = Object.keys(this.kwargs).filter((key) => this.value(key) !== undefined);
      const hint = given.length > 0 ? ` (kwargs given: ${given.join(", ")})` : "";
      this.problems.push(`missing kwarg '${name}'${hint}; set kwargs.${name} to ${fix}`);
    } else {
      this.problems.push(
        `kwarg '${name}' must be ${need}, got ${describeValue(value)}; ` +
          `set kwargs.${name} to ${fix}`,
      );
    }
  }

  count(name: string, minimum = 0): number {
    const value = this.value(name);
    const number = typeof value === "bigint" ? Number(value) : value;
    if (typeof number === "number" && Number.isInteger(number) && number >= minimum) return number;
    this.reject(name, `an integer >= ${minimum}`, `a whole number like ${Math.max(minimum, 3)}`);
    return minimum;
  }

  relation(name: string): Relation {
    const value = this.value(name);
    if (typeof value === "string" && RELATIONS.includes(value)) return value as Relation;
    this.reject(name, `"less than" or "at least"`, `"less than" or "at least"`);
    return "at least";
  }

  text(name: string, example: string): string {
    const value = this.value(name);
    if (typeof value === "string" && pyStrip(value) !== "") return value;
    this.reject(name, "a non-empty string", example);
    return "";
  }

  texts(name: string, example: string): string[] {
    const value = this.value(name);
    if (
      Array.isArray(value) &&
      value.length > 0 &&
      value.every((item) => typeof item === "string" && pyStrip(item) !== "")
    )
      return value as string[];
    this.reject(name, "a non-empty list of non-empty strings", example);
    return [];
  }

  letter(name: string): string {
    const value = this.value(name);
    if (typeof value === "string" && /^[A-Za-z]$/.test(value)) return value.toLowerCase();
    this.reject(name, "a single letter a-z", `a letter like "e"`);
    return "";
  }

  language(name: string): string {
    const value = this.value(name);
    if (typeof value === "string" && SUPPORTED_LANGUAGES.includes(baseLanguage(value)))
      return baseLanguage(value);
    this.reject(
      name,
      "a language code this checker knows",
      `one of ${SUPPORTED_LANGUAGES.join(", ")}`,
    );
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// The registry: each entry reads its kwargs and returns the check.

const CONSTRAINED_RESPONSES = ["My answer is yes.", "My answer is no.", "My answer is maybe."];

const INSTRUCTIONS = new Map<string, (read: KwargReader) => Checker>([
  [
    "keywords:existence",
    (read) => {
      const keywords = read
        .texts("keywords", `a list like ["ocean", "tide"]`)
        .map((keyword) => new RegExp(escapeRegExp(keyword), "iu"));
      return (response) => keywords.every((keyword) => keyword.test(response));
    },
  ],
  [
    "keywords:frequency",
    (read) => {
      const keyword = new RegExp(
        escapeRegExp(pyStrip(read.text("keyword", `a word like "ocean"`))),
        "giu",
      );
      const frequency = read.count("frequency");
      const relation = read.relation("relation");
      return (response) => compare([...response.matchAll(keyword)].length, relation, frequency);
    },
  ],
  [
    "keywords:forbidden_words",
    (read) => {
      const words = read
        .texts("forbidden_words", `a list like ["very", "really"]`)
        .map((word) => new RegExp(`${WORD_BOUNDARY}${escapeRegExp(word)}${WORD_BOUNDARY}`, "iu"));
      return (response) => !words.some((word) => word.test(response));
    },
  ],
  [
    "keywords:letter_frequency",
    (read) => {
      const letter = read.letter("letter");
      const frequency = read.count("let_frequency");
      const relation = read.relation("let_relation");
      return (response) => {
        let count = 0;
        for (const char of response.toLowerCase()) if (char === letter) count++;
        return compare(count, relation, frequency);
      };
    },
  ],
  [
    "language:response_language",
    (read) => {
      const language = read.language("language");
      return (response) => isInLanguage(response, language);
    },
  ],
  [
    "length_constraints:number_sentences",
    (read) => {
      const sentences = read.count("num_sentences");
      const relation = read.relation("relation");
      return (response) => compare(countSentences(response), relation, sentences);
    },
  ],
  [
    "length_constraints:number_paragraphs",
    (read) => {
      const paragraphs = read.count("num_paragraphs");
      return (response) => countParagraphsByDivider(response) === paragraphs;
    },
  ],
  [
    "length_constraints:number_words",
    (read) => {
      const words = read.count("num_words");
      const relation = read.relation("relation");
      return (response) => compare(countWords(response), relation, words);
    },
  ],
  [
    "length_constraints:nth_paragraph_first_word",
    (read) => {
      const paragraphs = read.count("num_paragraphs", 1);
      const nth = read.count("nth_paragraph", 1);
      const firstWord = read.text("first_word", `a word like "however"`).toLowerCase();
      if (nth > paragraphs)
        read.reject("nth_paragraph", `at most num_paragraphs (${paragraphs})`, `1..${paragraphs}`);
      return (response) => nthParagraphFirstWord(response, nth, paragraphs) === firstWord;
    },
  ],
  [
    "detectable_content:number_placeholders",
    (read) => {
      const placeholders = read.count("num_placeholders");
      return (response) => countPlaceholders(response) >= placeholders;
    },
  ],
  [
    "detectable_content:postscript",
    (read) => {
      const marker = pyStrip(read.text("postscript_marker", `"P.S." or "P.P.S"`));
      // The reference special-cases its two markers to allow spaces inside them.
      const pattern =
        marker === "P.P.S"
          ? /p\.\s?p\.\s?s/
          : marker === "P.S."
            ? /p\.\s?s\./
            : new RegExp(escapeRegExp(marker.toLowerCase()), "u");
      return (response) => pattern.test(response.toLowerCase());
    },
  ],
  [
    "detectable_format:number_bullet_lists",
    (read) => {
      const bullets = read.count("num_bullets");
      return (response) => countBullets(response) === bullets;
    },
  ],
  [
    "detectable_format:constrained_response",
    () => (response) => {
      const stripped = pyStrip(response);
      return CONSTRAINED_RESPONSES.some((option) => stripped.includes(option));
    },
  ],
  [
    "detectable_format:number_highlighted_sections",
    (read) => {
      const highlights = read.count("num_highlights");
      return (response) => countHighlights(response) >= highlights;
    },
  ],
  [
    "detectable_format:multiple_sections",
    (read) => {
      const splitter = escapeRegExp(
        pyStrip(read.text("section_spliter", `"Section" or "SECTION"`)),
      );
      const sections = read.count("num_sections");
      const space = `[${PY_SPACE}]?`;
      const marker = new RegExp(`${space}${splitter}${space}\\p{Nd}+${space}`, "gu");
      return (response) => [...response.matchAll(marker)].length >= sections;
    },
  ],
  ["detectable_format:json_format", () => isJson],
  ["detectable_format:title", () => hasTitle],
  [
    "combination:two_responses",
    () => (response) => {
      const parts = response.split("******");
      const answers: string[] = [];
      for (const [index, part] of parts.entries()) {
        if (pyStrip(part) !== "") answers.push(pyStrip(part));
        else if (index !== 0 && index !== parts.length - 1) return false;
      }
      return answers.length === 2 && answers[0] !== answers[1];
    },
  ],
  [
    "combination:repeat_prompt",
    (read) => {
      const prompt = pyStrip(
        read.text(
          "prompt_to_repeat",
          "the request to repeat (or pass options.prompt to the scorer)",
        ),
      ).toLowerCase();
      return (response) => pyStrip(response).toLowerCase().startsWith(prompt);
    },
  ],
  [
    "startend:end_checker",
    (read) => {
      const ending = pyStrip(
        read.text("end_phrase", `a phrase like "Any other questions?"`),
      ).toLowerCase();
      return (response) => trimChars(pyStrip(response), '"', "both").toLowerCase().endsWith(ending);
    },
  ],
  [
    "change_case:capital_word_frequency",
    (read) => {
      const frequency = read.count("capital_frequency");
      const relation = read.relation("capital_relation");
      return (response) =>
        compare(treebankTokens(response).filter(isUpper).length, relation, frequency);
    },
  ],
  [
    "change_case:english_capital",
    () => (response) => isUpper(response) && isInLanguage(response, "en"),
  ],
  [
    "change_case:english_lowercase",
    () => (response) => isLower(response) && isInLanguage(response, "en"),
  ],
  ["punctuation:no_comma", () => (response) => !response.includes(",")],
  [
    "startend:quotation",
    () => (response) => {
      const stripped = pyStrip(response);
      return stripped.length > 1 && stripped.startsWith('"') && stripped.endsWith('"');
    },
  ],
]);

export const IFEVAL_INSTRUCTION_IDS: readonly string[] = Object.freeze([...INSTRUCTIONS.keys()]);

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row++) {
    const current = [row];
    for (let column = 1; column <= right.length; column++) {
      const substitution = previous[column - 1]! + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min(previous[column]! + 1, current[column - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length]!;
}

function unknownIdProblem(id: string): string {
  const typed = id.toLowerCase();
  const suffix = typed.split(":").at(-1)!;
  const near =
    IFEVAL_INSTRUCTION_IDS.find(
      (known) => known.toLowerCase() === typed || known.split(":")[1] === suffix,
    ) ??
    IFEVAL_INSTRUCTION_IDS.map((known) => ({ known, distance: editDistance(known, typed) }))
      .filter(({ distance }) => distance <= 3)
      .sort((a, b) => a.distance - b.distance)[0]?.known;
  const fix = near ? `did you mean '${near}'?` : `use one of ${IFEVAL_INSTRUCTION_IDS.join(", ")}`;
  return `unknown instruction id '${id}'; ${fix}`;
}

/**
 * One thing wrong with an instruction list: which entry (`index`, unset for the list itself),
 * its id when the id is a known one, and what is wrong.
 */
export interface InstructionProblem {
  index?: number;
  id?: string;
  message: string;
}

/** The problem as one line, e.g. `instructions[1] (punctuation:no_comma): kwarg ...`. */
export function describeInstructionProblem(problem: InstructionProblem): string {
  if (problem.index === undefined) return problem.message;
  return `instructions[${problem.index}]${problem.id ? ` (${problem.id})` : ""}: ${problem.message}`;
}

interface Compiled {
  checkers: Checker[];
  problems: InstructionProblem[];
}

function compileInstruction(
  entry: unknown,
  index: number | undefined,
  prompt: string | undefined,
): { checker?: Checker; problems: InstructionProblem[] } {
  const at = index === undefined ? {} : { index };
  if (!isRecord(entry))
    return {
      problems: [{ ...at, message: `must be an object {id, kwargs}, got ${describeValue(entry)}` }],
    };
  const { id } = entry;
  if (typeof id !== "string")
    return {
      problems: [
        {
          ...at,
          message: `'id' must be a string like "punctuation:no_comma", got ${describeValue(id)}`,
        },
      ],
    };
  const build = INSTRUCTIONS.get(id);
  if (!build) return { problems: [{ ...at, message: unknownIdProblem(id) }] };
  const given = entry.kwargs ?? {};
  if (!isRecord(given))
    return {
      problems: [{ ...at, id, message: `'kwargs' must be an object, got ${describeValue(given)}` }],
    };
  const withPrompt =
    id === "combination:repeat_prompt" &&
    (given.prompt_to_repeat ?? undefined) === undefined &&
    prompt !== undefined
      ? { ...given, prompt_to_repeat: prompt }
      : given;
  const reader = new KwargReader(withPrompt);
  const checker = build(reader);
  return reader.problems.length > 0
    ? { problems: reader.problems.map((message) => ({ ...at, id, message })) }
    : { checker, problems: [] };
}

function compileInstructions(instructions: unknown, prompt?: string): Compiled {
  if (!Array.isArray(instructions))
    return {
      checkers: [],
      problems: [
        {
          message: `instructions must be an array of {id, kwargs} objects, got ${describeValue(instructions)}`,
        },
      ],
    };
  const list: readonly unknown[] = instructions;
  if (list.length === 0)
    return {
      checkers: [],
      problems: [{ message: "instructions is empty; give at least one {id, kwargs}" }],
    };
  const checkers: Checker[] = [];
  const problems: InstructionProblem[] = [];
  for (const [index, entry] of list.entries()) {
    const compiled = compileInstruction(entry, index, prompt);
    problems.push(...compiled.problems);
    if (compiled.checker) checkers.push(compiled.checker);
  }
  return { checkers, problems };
}

/** What is wrong with a list of instructions, as typed values; [] when all can be checked. */
export function instructionIssues(instructions: unknown): InstructionProblem[] {
  return compileInstructions(instructions).problems;
}

/** What is wrong with a list of instructions, one line per problem; [] when all can be checked. */
export function instructionProblems(instructions: unknown): string[] {
  return instructionIssues(instructions).map(describeInstructionProblem);
}

function followsStrict(checker: Checker, response: string): boolean {
  return pyStrip(response) !== "" && checker(response);
}

/** The reference's loose variants: first and/or last line dropped, and each without `*`. */
function looseVariants(response: string): string[] {
  const lines = response.split("\n");
  const trimmed = [
    response,
    pyStrip(lines.slice(1).join("\n")),
    pyStrip(lines.slice(0, -1).join("\n")),
    pyStrip(lines.slice(1, -1).join("\n")),
  ];
  return [...trimmed, ...trimmed.map((variant) => variant.replaceAll("*", ""))];
}

/** Whether `response` follows one instruction, strictly (the raw response). Throws on a bad instruction. */
export function checkInstruction(instruction: Instruction, response: string): boolean {
  const { checker, problems } = compileInstruction(instruction, undefined, undefined);
  if (!checker)
    throw new InstructionError(
      problems.map(
        (problem) => `instruction${problem.id ? ` (${problem.id})` : ""}: ${problem.message}`,
      ),
    );
  return followsStrict(checker, response);
}

function option<T extends string>(
  options: ScoreInput["options"],
  name: string,
  allowed: readonly T[],
): T {
  const value = options?.[name];
  if (value === undefined) return allowed[0]!;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value))
    return value as T;
  throw new Error(
    `options.${name} must be ${allowed.map((item) => `"${item}"`).join(" or ")}, got ${describeValue(value)}`,
  );
}

function instructionsOf(input: ScoreInput): unknown {
  const given = input.options?.instructions;
  if (given !== undefined) return given;
  try {
    return JSON.parse(input.truth) as unknown;
  } catch (error) {
    throw new Error(
      `the truth is not a JSON array of instructions (${(error as Error).message}); pass ` +
        `options.instructions, or a truth like '[{"id":"punctuation:no_comma"}]'`,
      { cause: error },
    );
  }
}

/**
 * Scores an answer against IFEval instructions from `options.instructions`, else from the truth
 * parsed as a JSON array of `{id, kwargs}`.
 *
 * Options: `mode` "loose" | "strict" (@default "loose", IFBench's scoring); `aggregate` "all"
 * (1 only when every instruction is followed) | "fraction" (the share followed) (@default "all");
 * `prompt`, the prompt, for combination:repeat_prompt when its kwargs lack prompt_to_repeat.
 * Throws an {@link InstructionError} listing every problem when an instruction cannot be checked.
 */
export const scoreIfeval: Scorer = (input: ScoreInput): ScoreResult => {
  const mode = option<Mode>(input.options, "mode", ["loose", "strict"]);
  const aggregate = option<Aggregate>(input.options, "aggregate", ["all", "fraction"]);
  const prompt = typeof input.options?.prompt === "string" ? input.options.prompt : undefined;
  const { checkers, problems } = compileInstructions(instructionsOf(input), prompt);
  if (problems.length > 0) throw new InstructionError(problems.map(describeInstructionProblem));
  if (pyStrip(input.answer) === "") {
    const none = checkers.map(() => false);
    return {
      reward: 0,
      details: {
        reason: "empty answer",
        mode,
        aggregate,
        followed: none,
        strict: none,
        loose: none,
      },
    };
  }
  const variants = looseVariants(input.answer);
  const strict = checkers.map((checker) => followsStrict(checker, input.answer));
  const loose = checkers.map((checker) =>
    variants.some((variant) => followsStrict(checker, variant)),
  );
  const followed = mode === "strict" ? strict : loose;
  const count = followed.filter(Boolean).length;
  const reward =
    aggregate === "fraction" ? count / followed.length : count === followed.length ? 1 : 0;
  return { reward, details: { mode, aggregate, followed, strict, loose } };
};
