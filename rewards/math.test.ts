import { describe, expect, it } from "vitest";
import { mathEquivalent, normalizeMath, scoreMath } from "./math.js";
import { evaluate, parseMath } from "./math-expression.js";
import { MATH_CASES as CASES } from "./fixtures/math-cases.js";
import { MATH_SENTENCE_CASES as SENTENCES } from "./fixtures/math-sentences.js";
import { extractMathAnswer } from "./math-answer.js";

describe("math equivalence", () => {
  it(`has a large case table (${CASES.length} cases)`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
  });
  it.each(CASES)("%j vs %j -> %s", (answer, truth, expected) => {
    expect(mathEquivalent(answer, truth)).toBe(expected);
  });
});

describe("normalizeMath", () => {
  it("strips notation that does not change a value", () => {
    expect(normalizeMath("\\left( \\dfrac{1}{2} \\right)")).toBe("( \\frac{1}{2} )");
    expect(normalizeMath("x = 12,345 \\text{ km}")).toBe("12345");
    expect(normalizeMath("$90^\\circ$")).toBe("90");
  });
});

describe("the evaluator", () => {
  it("parses precedence and implicit multiplication", () => {
    expect(evaluate(parseMath("2 + 3 \\cdot 4"))).toBe(14);
    expect(evaluate(parseMath("2^3^2"))).toBe(512);
    expect(evaluate(parseMath("4^-1"))).toBe(0.25);
    expect(evaluate(parseMath("2(3)(4)"))).toBe(24);
    expect(evaluate(parseMath("\\frac{6}{2}3"))).toBe(9);
  });
});

describe("scoreMath", () => {
  it("returns the extracted and normalized values", () => {
    expect(scoreMath({ answer: "so \\boxed{x = \\dfrac{3}{2}}", truth: "1.5" })).toEqual({
      reward: 1,
      details: { extracted: "\\frac{3}{2}", truth: "1.5" },
    });
  });
  it("scores an empty or oversized answer 0 with the reason", () => {
    expect(scoreMath({ answer: " ", truth: "1" })).toEqual({
      reward: 0,
      details: { reason: "empty answer" },
    });
    expect(scoreMath({ answer: "1+".repeat(2000) + "1", truth: "1" }).details).toEqual({
      reason: "final answer over 2000 characters",
    });
  });
});

describe("answers written as sentences", () => {
  it(`has a large table of phrasings (${SENTENCES.length})`, () => {
    expect(SENTENCES.length).toBeGreaterThanOrEqual(50);
  });
  it.each(SENTENCES)("%j vs %j -> %s", (answer, truth, reward) => {
    expect(scoreMath({ answer, truth }).reward).toBe(reward);
  });

  it("extracts in order: box, plain expression, marker, trailing =, last number, whole text", () => {
    expect(extractMathAnswer("so it is 3, \\boxed{4}")).toEqual({ text: "4", rule: "boxed" });
    expect(extractMathAnswer("x = 1, 2")).toEqual({ text: "x = 1, 2", rule: "whole" });
    expect(extractMathAnswer("The answer is 7. Check: 3 + 4 = 7 and 2 + 2 = 4")).toEqual({
      text: "7",
      rule: "marker",
    });
    expect(extractMathAnswer("Simplifying gives f(x) = 2x + 1")).toEqual({
      text: "2x + 1",
      rule: "marker",
    });
    expect(extractMathAnswer("We get 42 in the end")).toEqual({ text: "42", rule: "last number" });
    expect(extractMathAnswer("The answer is 1 or 2.")).toEqual({
      text: "The answer is 1 or 2.",
      rule: "whole text",
    });
  });

  it("reports the extracted value of a sentence", () => {
    expect(scoreMath({ answer: "The answer is 0.5.", truth: "1/2" })).toEqual({
      reward: 1,
      details: { extracted: "0.5", truth: "1/2" },
    });
  });

  // No timing is asserted: each of these finishes in milliseconds when the scan is linear and
  // would run past the test's time limit if any step backtracked over the whole text.
  it.each([
    [
      "prose with one marker",
      `${"we compute 12 values and check them again ".repeat(1200)}so the answer is 42.`,
      1,
    ],
    ["many markers", "so the answer is x. ".repeat(2500), 0],
    ["connectives without a copula", `${"so ".repeat(17000)}is 42`, 1],
    ["stray braces and dollars", `${"{ $ ".repeat(12500)}the answer is 42`, 1],
    ["negated values only", "not 42 ".repeat(7000), 0],
    ["one long run of math after a word", `total ${"1 + ".repeat(12000)}1`, 0],
    ["a 50 KB plain expression", `${"1 ".repeat(25000)}`, 0],
    ["a marker then 50 KB of spaces", `answer${" ".repeat(50000)}is 42`, 1],
  ])("scores %s (50 KB) in one pass", (_name, answer, reward) => {
    expect(answer.length).toBeGreaterThanOrEqual(48_000);
    expect(scoreMath({ answer, truth: "42" }).reward).toBe(reward);
  });
});
