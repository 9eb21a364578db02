import { describe, expect, it } from "vitest";
import { type AnswerType, classifyAnswerType, normalizeAnswerType } from "./answer-type.js";

/** `qa_type` values as people write them, and the answer type each must become. */
const PHRASINGS: [string, AnswerType][] = [
  // the type names and the aliases accepted before phrases were read
  ["single_choice", "single_choice"],
  ["multiple_choice", "multiple_choice"],
  ["MULTIPLE_CHOICE", "multiple_choice"],
  ["multipleChoice", "multiple_choice"],
  ["open_ended", "open_ended"],
  ["instruction_following", "instruction_following"],
  ["single", "single_choice"],
  ["mcq", "single_choice"],
  ["single_mcq", "single_choice"],
  ["choice", "single_choice"],
  ["single-answer", "single_choice"],
  ["multi", "multiple_choice"],
  ["multi_mcq", "multiple_choice"],
  ["multi_choice", "multiple_choice"],
  ["multiple", "multiple_choice"],
  ["multi-answer", "multiple_choice"],
  ["open", "open_ended"],
  ["free_form", "open_ended"],
  ["number", "numeric"],
  ["ifeval", "instruction_following"],
  // single choice
  ["single-answer multiple choice", "single_choice"],
  ["multiple-choice (single)", "single_choice"],
  ["single-choice", "single_choice"],
  ["Single Choice", "single_choice"],
  ["multiple choice", "single_choice"],
  ["Multiple-Choice", "single_choice"],
  ["multiple choice question", "single_choice"],
  ["MCQ", "single_choice"],
  ["MCQ (single correct)", "single_choice"],
  ["multiple choice, one answer", "single_choice"],
  ["single-select", "single_choice"],
  ["singleChoice", "single_choice"],
  ["math mcq", "single_choice"],
  // multiple choice (several letters)
  ["multi-select", "multiple_choice"],
  ["Multi Select", "multiple_choice"],
  ["multiple-answer", "multiple_choice"],
  ["multiple answers", "multiple_choice"],
  ["multiple-choice (multiple)", "multiple_choice"],
  ["Multiple Choice (Multiple Answers)", "multiple_choice"],
  ["multiple choice, multiple correct", "multiple_choice"],
  ["select all that apply", "multiple_choice"],
  ["Select ALL that apply.", "multiple_choice"],
  ["choose one or more", "multiple_choice"],
  ["multi_select_mcq", "multiple_choice"],
  ["MCQ (multiple answers)", "multiple_choice"],
  // numeric
  ["numerical", "numeric"],
  ["Numeric", "numeric"],
  ["numeric answer", "numeric"],
  ["numerical-value", "numeric"],
  ["integer", "numeric"],
  ["single numeric value", "numeric"],
  ["free-form numerical answer", "numeric"],
  ["math (numeric)", "numeric"],
  // math
  ["math", "math"],
  ["Math", "math"],
  ["mathematical expression", "math"],
  ["expression", "math"],
  ["formula", "math"],
  ["equation", "math"],
  ["LaTeX expression", "math"],
  ["open-ended math", "math"],
  // open-ended
  ["free-form", "open_ended"],
  ["freeform", "open_ended"],
  ["Free Form", "open_ended"],
  ["open-ended", "open_ended"],
  ["Open Ended Question", "open_ended"],
  ["short answer", "open_ended"],
  ["short_answer", "open_ended"],
  ["free text", "open_ended"],
  ["fill-in-the-blank", "open_ended"],
  ["one word answer", "open_ended"],
  // instruction following
  ["instruction following", "instruction_following"],
  ["Instruction-Following", "instruction_following"],
  ["IFEval", "instruction_following"],
  ["instructions following", "instruction_following"],
];

describe("classifyAnswerType", () => {
  it(`has a large table of phrasings (${PHRASINGS.length})`, () => {
    expect(PHRASINGS.length).toBeGreaterThanOrEqual(25);
  });

  it.each(PHRASINGS)("%j -> %s", (phrase, answerType) => {
    expect(classifyAnswerType(phrase)).toEqual({ answerType });
    expect(normalizeAnswerType(phrase)).toBe(answerType);
  });

  it.each([
    ["single or multiple choice", "it says both single and multiple answers"],
    ["single/multi", "it says both single and multiple answers"],
    ["multiple-choice (single or multiple)", "it says both single and multiple answers"],
    ["single choice (multiple)", "it says both single and multiple answers"],
    ["mcq or free-form", "it names choice and open-ended"],
    ["numerical multiple choice", "it names choice and numeric"],
    ["open-ended multiple choice", "it names choice and open-ended"],
    ["math / numeric", "it names numeric and math"],
    ["ifeval math", "it names math and instruction following"],
  ])("%j is ambiguous: %s", (phrase, why) => {
    const result = classifyAnswerType(phrase);
    expect(result).toEqual({ problem: expect.any(String) as string });
    const { problem } = result as { problem: string };
    expect(problem).toContain(`${JSON.stringify(phrase)} is ambiguous (${why}); use one of `);
    expect(problem).toContain("single_choice (mcq, single-choice");
    expect(normalizeAnswerType(phrase)).toBeUndefined();
  });

  it.each(["essay", "vibes", "true/false", "", "   ", "question", "qa-type 7"])(
    "%j is not known, and the message lists the kinds",
    (phrase) => {
      const { problem } = classifyAnswerType(phrase) as { problem: string };
      expect(problem).toMatch(
        new RegExp(
          `^${JSON.stringify(phrase).replace(/[/|\\^$*+?.()[\]{}]/g, "\\$&")} is not known; use one of single_choice, multiple_choice, open_ended, math, numeric, instruction_following, or a phrase naming one: `,
        ),
      );
      for (const kind of ["multi-select", "numerical", "free-form", "ifeval"])
        expect(problem).toContain(kind);
    },
  );
});
