import { describe, expect, it } from "vitest";
import { mathEquivalent, normalizeMath, scoreMath } from "./math.js";
import { evaluate, parseMath } from "./math-expression.js";

/** [answer, truth, equivalent] */
const CASES: [string, string, boolean][] = [
  // integers, decimals, signs
  ["42", "42", true],
  ["\\boxed{42}", "42", true],
  ["The answer is \\boxed{042}.", "42", true],
  ["41", "42", false],
  ["-7", "-7", true],
  ["- 7", "-7", true],
  ["7", "-7", false],
  ["0.5", ".5", true],
  ["0.50", "0.5", true],
  ["3.14", "3.1416", false],
  ["1e3", "1000", true],
  ["2.5e-3", "0.0025", true],
  ["6.02 \\times 10^{23}", "6.02e23", true],
  ["1,000,000", "1000000", true],
  ["12,345", "12345", true],
  // fractions in every spelling
  ["\\frac{1}{2}", "0.5", true],
  ["\\dfrac{1}{2}", "\\frac12", true],
  ["\\tfrac{3}{4}", "0.75", true],
  ["\\frac12", "1/2", true],
  ["\\frac{2}{4}", "\\frac{1}{2}", true],
  ["1/3", "0.3333333333", true],
  ["1/3", "0.33", false],
  ["1/3", "\\frac{1}{3}", true],
  ["\\frac{-1}{2}", "-\\frac{1}{2}", true],
  ["\\frac{1}{2}", "\\frac{1}{3}", false],
  ["\\frac{\\frac{1}{2}}{2}", "\\frac14", true],
  ["\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", true],
  // roots and powers
  ["\\sqrt{2}", "2^{1/2}", true],
  ["\\sqrt{8}", "2\\sqrt{2}", true],
  ["\\sqrt{8}", "3\\sqrt{2}", false],
  ["\\sqrt[3]{27}", "3", true],
  ["\\sqrt[3]{-8}", "-2", true],
  ["2^{10}", "1024", true],
  ["2^10", "1024", true],
  ["(-2)^3", "-8", true],
  ["-2^2", "-4", true],
  ["4^{-1}", "0.25", true],
  ["\\sqrt{12}", "2\\sqrt{3}", true],
  ["3\\sqrt{3}", "\\sqrt{27}", true],
  // pi, e, functions
  ["\\pi", "3.141592653589793", true],
  ["2\\pi", "\\pi \\cdot 2", true],
  ["\\frac{\\pi}{2}", "\\pi/2", true],
  ["\\pi", "3.14", false],
  ["e^2", "\\exp(2)", true],
  ["\\ln e", "1", true],
  ["\\log 100", "2", true],
  ["\\sin^2 x + \\cos^2 x", "1", true],
  ["\\sin(\\pi/6)", "\\frac12", true],
  ["\\cos 0", "1", true],
  ["|-3|", "3", true],
  ["\\left| -3 \\right|", "3", true],
  // factorials and binomials
  ["5!", "120", true],
  ["\\binom{5}{2}", "10", true],
  ["\\binom{10}{3}", "120", true],
  ["\\binom{5}{2}", "20", false],
  ["\\frac{6!}{4!}", "30", true],
  // symbolic expressions (random points)
  ["2x + 3", "3 + 2x", true],
  ["x^2 - 1", "(x-1)(x+1)", true],
  ["x^2 + 1", "(x-1)(x+1)", false],
  ["\\frac{x^2 - 1}{x - 1}", "x + 1", true],
  ["2(a+b)", "2a + 2b", true],
  ["ab", "ba", true],
  ["a^2 b", "b a a", true],
  ["\\frac{1}{x} + \\frac{1}{y}", "\\frac{x + y}{xy}", true],
  ["\\sqrt{x^2}", "x", true],
  ["3n + 1", "3n - 1", false],
  ["\\frac{n(n+1)}{2}", "\\frac{n^2 + n}{2}", true],
  ["e^{x} e^{y}", "e^{x+y}", true],
  ["\\ln(xy)", "\\ln x + \\ln y", true],
  // spacing, delimiters, display commands
  ["\\left( 1 + 2 \\right)", "3", true],
  ["1\\,000", "1000", true],
  ["\\displaystyle \\frac{1}{2}", "0.5", true],
  ["$\\frac{3}{2}$", "1.5", true],
  ["\\( 5 \\)", "5", true],
  ["5.", "5", true],
  ["\\fbox{9}", "9", true],
  // units, text, degrees
  ["5 \\text{ cm}", "5", true],
  ["5\\text{cm}", "5", true],
  ["\\text{5 meters}", "5", false],
  ["30^\\circ", "30", true],
  ["30^{\\circ}", "30", true],
  ["45°", "45", true],
  ["12 \\mbox{ apples}", "12", true],
  ["\\textbf{7}", "7", true],
  // assignments
  ["x = 3", "3", true],
  ["x=3", "3", true],
  ["y = \\frac{1}{2}", "0.5", true],
  ["x_1 = 4", "4", true],
  ["x = 3", "4", false],
  // percentages
  ["50\\%", "50", true],
  ["50\\%", "0.5", true],
  ["50%", "0.5", true],
  ["25\\%", "0.3", false],
  ["0.5", "50\\%", true],
  // intervals
  ["[1, 2)", "[1,2)", true],
  ["[1, 2)", "[1, 2]", false],
  ["(0, \\infty)", "(0,\\infty)", true],
  ["(-\\infty, 3]", "(-\\infty,3]", true],
  ["[\\frac12, 1]", "[0.5, 1]", true],
  ["(1, 2]", "[1, 2]", false],
  // tuples (ordered)
  ["(1, 2)", "(1,2)", true],
  ["(2, 1)", "(1, 2)", false],
  ["(\\frac12, 3)", "(0.5, 3)", true],
  ["(1, 2, 3)", "(1, 2)", false],
  // sets and lists (unordered)
  ["\\{1, 2, 3\\}", "\\{3, 2, 1\\}", true],
  ["\\{1, 2\\}", "\\{1, 2, 3\\}", false],
  ["1, 2", "2, 1", true],
  ["x = 1, 2", "1, 2", true],
  ["x = 1, 2", "1, 3", false],
  ["-1, 1", "1, -1", true],
  ["\\{\\frac12, 2\\}", "\\{2, 0.5\\}", true],
  ["1, 1, 2", "1, 2", false],
  // text answers fall back to comparison of normalized text
  ["\\text{yes}", "yes", true],
  ["\\text{No}", "no", true],
  ["\\text{yes}", "no", false],
  // answers with extra words around a box
  ["We compute ... so \\boxed{\\frac{7}{2}} is final.", "3.5", true],
  ["First \\boxed{1}, then correct: \\boxed{2}", "2", true],
  ["First \\boxed{1}, then correct: \\boxed{2}", "1", false],
  ["\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt3}{2}", true],
  // traps
  ["2", "2.0000001", true],
  ["2", "2.001", false],
  ["1000", "1,000", true],
  ["0", "-0", true],
  ["\\frac{1}{0}", "0", false],
  ["10^{-10}", "0", false],
  ["1.0e-10", "10^{-10}", true],
];

describe("math equivalence", () => {
  it(`has a large case table (${CASES.length} cases)`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(120);
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
