import { describe, expect, it } from "vitest";
import { computeAdvantages, judgeGroup } from "./advantages.js";

function close(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 5));
}

describe("computeAdvantages (hand-computed)", () => {
  // [1, 0, 0, 1]: mean 0.5; sample std sqrt((4 * 0.25) / 3) = 0.577350.
  it("grpo divides by the sample standard deviation", () => {
    close(computeAdvantages([1, 0, 0, 1], "grpo", 0), [0.866025, -0.866025, -0.866025, 0.866025]);
    // [1, 0.5, 0]: mean 0.5, sample std 0.5.
    close(computeAdvantages([1, 0.5, 0], "grpo", 0), [1, 0, -1]);
  });
  it("dr_grpo only subtracts the mean", () => {
    close(computeAdvantages([1, 0, 0, 1], "dr_grpo"), [0.5, -0.5, -0.5, 0.5]);
    close(computeAdvantages([0.2, 0.8], "dr_grpo"), [-0.3, 0.3]);
  });
  it("rloo subtracts the mean of the other members", () => {
    // 1 - (0 + 0 + 1) / 3 = 2/3; 0 - (1 + 0 + 1) / 3 = -2/3.
    close(computeAdvantages([1, 0, 0, 1], "rloo"), [2 / 3, -2 / 3, -2 / 3, 2 / 3]);
    // 1 - 0.25 = 0.75; 0.5 - 0.5 = 0; 0 - 0.75 = -0.75.
    close(computeAdvantages([1, 0.5, 0], "rloo"), [0.75, 0, -0.75]);
  });
  it("is zero for a group of one", () => {
    expect(computeAdvantages([1], "rloo")).toEqual([0]);
    expect(computeAdvantages([1], "grpo")).toEqual([0]);
  });
});

describe("judgeGroup", () => {
  it("drops a group whose rewards all tie", () => {
    expect(judgeGroup([{ reward: 1 }, { reward: 1 }, { reward: 1 }], "rloo")).toEqual({
      verdict: "dropped_tie",
      advantages: [0, 0, 0],
    });
  });
  it("masks a group with an infrastructure failure, whatever its rewards", () => {
    expect(judgeGroup([{ reward: 1 }, { reward: 0, infrastructureFailure: true }], "grpo")).toEqual(
      {
        verdict: "masked_infrastructure",
        advantages: [0, 0],
      },
    );
  });
  it("trains on a group with signal", () => {
    const outcome = judgeGroup([{ reward: 1 }, { reward: 0 }], "rloo");
    expect(outcome.verdict).toBe("train");
    close(outcome.advantages, [1, -1]);
  });
});
