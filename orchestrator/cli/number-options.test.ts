import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import {
  finiteNumber,
  nonNegativeInteger,
  positiveInteger,
  positiveNumber,
  samplingTemperature,
} from "./number-options.js";

describe("number options", () => {
  it("take what their schema takes", () => {
    expect(positiveNumber("0.5")).toBe(0.5);
    expect(positiveInteger("3")).toBe(3);
    expect(nonNegativeInteger("0")).toBe(0);
    expect(finiteNumber("-1.5")).toBe(-1.5);
    expect(samplingTemperature("2")).toBe(2);
  });

  it("refuse the rest with what to give instead", () => {
    const cases: [(value: string) => number, string, string][] = [
      [positiveNumber, "0", "must be a positive number"],
      [positiveNumber, "lots", "must be a positive number"],
      [positiveNumber, "Infinity", "must be a positive number"],
      [positiveInteger, "1.5", "must be a whole number >= 1"],
      [nonNegativeInteger, "-1", "must be a whole number >= 0"],
      [finiteNumber, "NaN", "must be a number"],
      [samplingTemperature, "2.5", "must be from 0 to 2"],
      [samplingTemperature, "-0.1", "must be from 0 to 2"],
    ];
    for (const [parse, value, message] of cases) {
      expect(() => parse(value)).toThrow(new InvalidArgumentError(message));
    }
  });
});
