import { describe, expect, it } from "vitest";
import { parseEvalConfig } from "./eval.js";
import { parseFarmConfig } from "./train.js";
import { evalSampling, modeSamplingSchema, rolloutSampling } from "./sampling.js";

const policy = { urls: ["http://127.0.0.1:8000/v1"], model: "m" };

describe("sampling blocks", () => {
  it("applies a mode's keys over the block's, extraBody merged key by key", () => {
    const block = modeSamplingSchema.parse({
      temperature: 0.7,
      top_p: 0.9,
      extraBody: { a: 1, b: 2 },
      byMode: { llm: { temperature: 0, extraBody: { b: 3 } } },
    });
    expect(evalSampling(block, "sandbox")).toEqual({
      temperature: 0.7,
      top_p: 0.9,
      extraBody: { a: 1, b: 2 },
    });
    expect(evalSampling(block, "llm")).toEqual({
      temperature: 0,
      top_p: 0.9,
      extraBody: { a: 1, b: 3 },
    });
    // Evaluation sends nothing the config leaves unset.
    expect(evalSampling(modeSamplingSchema.parse({}), "llm")).toEqual({});
  });

  it("sends every distribution-shaping key for training rollouts, unset ones neutral", () => {
    const block = modeSamplingSchema.parse({
      temperature: 0.8,
      byMode: { sandbox: { top_k: 50 } },
    });
    expect(rolloutSampling(block, "sandbox")).toEqual({
      temperature: 0.8,
      top_p: 1,
      top_k: 50,
      min_p: 0,
      repetition_penalty: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
    });
    expect(rolloutSampling(block, "llm")).toMatchObject({ temperature: 0.8, top_k: -1 });
  });

  it("takes validation's sampling apart from the rollouts', and chatTemplateKwargs as its own key", () => {
    const config = parseFarmConfig({
      data: { train: ["t.jsonl"] },
      policy: {
        ...policy,
        sampling: { temperature: 1 },
        chatTemplateKwargs: { enable_thinking: false },
      },
      validation: { sampling: { temperature: 0 } },
    });
    expect(config.validation.sampling).toEqual({ temperature: 0 });
    expect(config.policy.chatTemplateKwargs).toEqual({ enable_thinking: false });
    expect(() =>
      parseEvalConfig({
        tasks: ["t.jsonl"],
        policy: { ...policy, sampling: { extraBody: { chat_template_kwargs: { x: 1 } } } },
      }),
    ).toThrow(
      /policy\.sampling\.extraBody: chat_template_kwargs has its own key: set policy\.chatTemplateKwargs/,
    );
    expect(() =>
      parseEvalConfig({
        tasks: ["t.jsonl"],
        policy: { ...policy, sampling: { byMode: { both: {} } } },
      }),
    ).toThrow(/policy\.sampling\.byMode/);
  });
});
