import { describe, expect, it } from "vitest";
import { mathEquivalent, normalizeMath, scoreMath } from "./math.js";
import { evaluate, parseMath } from "./math-expression.js";
import { MATH_CASES as CASES } from "./fixtures/math-cases.js";

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
