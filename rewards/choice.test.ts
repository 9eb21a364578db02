import { describe, expect, it } from "vitest";
import {
  extractChoice,
  extractChoiceSet,
  lastBoxed,
  scoreChoice,
  scoreMultiChoice,
} from "./choice.js";

describe("extractChoice follows the reference's order", () => {
  const cases: [string, string | undefined, string][] = [
    ["B", "B", "whole answer"],
    [" (C) ", "C", "whole answer"],
    ["D.", "D", "whole answer"],
    ['{"answer": "E", "why": "A is wrong"}', "E", "json answer"],
    ["Reasoning mentions A and B.\nAnswer: C", "C", "answer:"],
    ["I think the correct choice is B because A fails", "B", "answer is"],
    ["The answer is (D)", "D", "answer is"],
    ["Options A and B fail, so \\boxed{C}", "C", "boxed"],
    ["so \\boxed{\\text{(A)}}", "A", "boxed"],
    ["Between A and D, clearly D", "D", "last standalone capital"],
    ["bananas", "B", "first character"],
    ["J", "J", "whole answer"],
    ["nothing here", undefined, "none"],
    // Where rules disagree, the earlier rule wins.
    ['{"answer": "A"} but answer: B', "A", "json answer"],
    ["Answer: B. Some say the answer is C", "B", "answer:"],
    ["The answer is D, not \\boxed{A}", "D", "answer is"],
    ["\\boxed{B} though C looks close", "B", "boxed"],
  ];
  it.each(cases)("%j -> %s by %s", (answer, letter, rule) => {
    expect(extractChoice(answer)).toEqual(letter ? { letter, rule } : { rule });
  });
  it("respects the allowed letters", () => {
    expect(extractChoice("K", "ABCDEFGHIJK")).toEqual({ letter: "K", rule: "whole answer" });
    expect(extractChoice("K").letter).toBeUndefined();
  });
});

describe("lastBoxed", () => {
  it("balances nested braces and takes the last box", () => {
    expect(lastBoxed("\\boxed{1} then \\boxed{\\frac{1}{2}}")).toBe("\\frac{1}{2}");
    expect(lastBoxed("\\boxed{unclosed")).toBeUndefined();
    expect(lastBoxed("none")).toBeUndefined();
  });
});

describe("scoreChoice", () => {
  it("scores 1 on the right letter, 0 otherwise, 0 on empty", () => {
    expect(scoreChoice({ answer: "Answer: B", truth: "B" })).toEqual({
      reward: 1,
      details: { extracted: "B", truth: "B", rule: "answer:" },
    });
    expect(scoreChoice({ answer: "A", truth: "(B)" }).reward).toBe(0);
    expect(scoreChoice({ answer: "  ", truth: "B" })).toEqual({
      reward: 0,
      details: { reason: "empty answer" },
    });
  });
});

describe("multiple choice", () => {
  it("extracts letter sets in the forms models write", () => {
    expect(extractChoiceSet("A, C, D")).toEqual(["A", "C", "D"]);
    expect(extractChoiceSet("ACD")).toEqual(["A", "C", "D"]);
    expect(extractChoiceSet("B and D")).toEqual(["B", "D"]);
    expect(extractChoiceSet("After checking, the answers are: A; C")).toEqual(["A", "C"]);
    expect(extractChoiceSet("\\boxed{C, A}")).toEqual(["A", "C"]);
  });
  it("scores the F1 of the two sets", () => {
    expect(scoreMultiChoice({ answer: "A, C, D", truth: "A, C, D" }).reward).toBe(1);
    // answer {A, C}, truth {A, C, D}: precision 1, recall 2/3, F1 0.8.
    expect(scoreMultiChoice({ answer: "A, C", truth: "A, C, D" }).reward).toBeCloseTo(0.8, 10);
    // answer {A, B}, truth {A, C}: precision 1/2, recall 1/2, F1 0.5.
    expect(scoreMultiChoice({ answer: "A, B", truth: "A, C" }).reward).toBeCloseTo(0.5, 10);
    expect(scoreMultiChoice({ answer: "B", truth: "A, C" }).reward).toBe(0);
    expect(scoreMultiChoice({ answer: "", truth: "A" }).reward).toBe(0);
  });
});
