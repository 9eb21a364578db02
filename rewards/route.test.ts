import { describe, expect, it } from "vitest";
import {
  EVALUATION_DOMAIN_ROUTES,
  type RewardTask,
  STOP_REASONS,
  finalAnswerLine,
  planReward,
  routeScorer,
} from "./route.js";

const task = (fields: Partial<RewardTask>): RewardTask => ({
  domain: "general",
  question: "Q?",
  answerType: "open_ended",
  groundTruth: "42",
  ...fields,
});

describe("routeScorer", () => {
  it.each([
    [{ domain: "math", answerType: "math" }, "math"],
    [{ domain: "physics", answerType: "math" }, "math"],
    [{ domain: "physics", answerType: "open_ended" }, "math"],
    [{ domain: "chemistry", answerType: "single_choice" }, "choice"],
    [{ domain: "biomedicine", answerType: "single_choice" }, "choice"],
    [{ domain: "general", answerType: "single_choice" }, "choice"],
    [{ domain: "general", answerType: "multiple_choice" }, "multi_choice"],
    [{ domain: "general", answerType: "open_ended" }, "open_ended"],
    [{ domain: "long_context", answerType: "open_ended" }, "open_ended"],
    [{ domain: "general", answerType: "numeric" }, "numeric"],
    [{ domain: "math", answerType: "instruction_following" }, "ifeval"],
    [{ domain: "general", answerType: "open_ended", scorer: "f1" }, "f1"],
  ] as const)("routes %j to %s", (fields, scorer) => {
    expect(routeScorer(task(fields))).toBe(scorer);
  });

  it("takes evaluation routes and per-type overrides", () => {
    const options = { byDomain: EVALUATION_DOMAIN_ROUTES, byAnswerType: { open_ended: "judge" } };
    expect(routeScorer(task({ domain: "physics", answerType: "math" }), options)).toBe("judge");
    expect(routeScorer(task({ domain: "long_context" }), options)).toBe("judge");
    expect(routeScorer(task({ domain: "general" }), options)).toBe("judge");
    expect(routeScorer(task({ domain: "math", answerType: "math" }), options)).toBe("math");
  });
});

describe("planReward", () => {
  it("covers every stop reason", () => {
    const outcomes = Object.fromEntries(
      STOP_REASONS.map((stopReason) => {
        const plan = planReward({ task: task({}), answer: "42", mode: "sandbox", stopReason });
        return [stopReason, plan.kind === "score" ? "score" : `${plan.kind}:${plan.status}`];
      }),
    );
    expect(outcomes).toEqual({
      submitted: "score",
      max_turns: "zero:penalized",
      token_budget: "zero:penalized",
      length: "zero:penalized",
      prompt_too_long: "zero:penalized",
      timeout: "zero:penalized",
      cancelled: "untrainable:cancelled",
      sandbox_lost: "zero:sandbox_lost",
      disk_limit: "zero:disk_limit",
      policy_error: "untrainable:infrastructure",
      sandbox_error: "untrainable:infrastructure",
    });
  });

  it("scores a limit-hit episode's answer when the overlong penalty is off", () => {
    const plan = planReward(
      { task: task({}), answer: "42", mode: "sandbox", stopReason: "max_turns" },
      { overlongPenalty: false },
    );
    expect(plan).toMatchObject({ kind: "score", scorer: "open_ended" });
  });

  it("gives 0 to a missing or blank answer without a scorer", () => {
    expect(planReward({ task: task({}), answer: null, mode: "sandbox" })).toEqual({
      kind: "zero",
      status: "no_answer",
      reason: "no answer",
    });
    expect(planReward({ task: task({}), answer: " \n", mode: "llm" })).toEqual({
      kind: "zero",
      status: "no_answer",
      reason: "empty answer",
    });
  });

  it("passes instructions and the prompt to ifeval, and the task's scorer options", () => {
    const instructions = [{ id: "punctuation:no_comma", kwargs: {} }];
    const plan = planReward({
      task: task({
        answerType: "instruction_following",
        groundTruth: "",
        instructions,
        question: "Write a poem.",
        scorerOptions: { mode: "strict" },
      }),
      answer: "A poem",
      mode: "llm",
    });
    expect(plan).toEqual({
      kind: "score",
      scorer: "ifeval",
      input: {
        answer: "A poem",
        truth: "",
        question: "Write a poem.",
        options: { mode: "strict", instructions, prompt: "Write a poem." },
      },
    });
  });

  it("reads the final Answer line in plain mode for text scorers, the whole file in sandbox mode", () => {
    const response =
      "The memo says North.\nAnswer: first guess\nOn reflection:\n**Answer:** South plant";
    const llm = planReward({ task: task({}), answer: response, mode: "llm" });
    expect(llm.kind === "score" && llm.input.answer).toBe("South plant");
    const sandbox = planReward({ task: task({}), answer: response, mode: "sandbox" });
    expect(sandbox.kind === "score" && sandbox.input.answer).toBe(response);
    const choice = planReward({
      task: task({ answerType: "single_choice" }),
      answer: response,
      mode: "llm",
    });
    expect(choice.kind === "score" && choice.input.answer).toBe(response);
  });
});

describe("finalAnswerLine", () => {
  it("takes the last Answer line, or the whole text", () => {
    expect(finalAnswerLine("work\nAnswer: A, C\n")).toBe("A, C");
    expect(finalAnswerLine("> answer： 12 kg")).toBe("12 kg");
    expect(finalAnswerLine("no label here")).toBe("no label here");
    expect(finalAnswerLine("The answer is 4")).toBe("The answer is 4");
  });
});
