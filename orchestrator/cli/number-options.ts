/**
 * The parsers of command-line option values: numbers, all made by `numberOption` (the text
 * becomes a number with `Number()` and a zod schema decides, so a flag can take the bounds of the
 * config key it stands for instead of restating them: `--temperature` takes `policy.sampling`'s),
 * and JSON objects (`jsonObjectOption`).
 * Commander shows a refusal as "option '--repeats <n>' argument '0' is invalid. must be a whole
 * number >= 1" and exits with the usage status.
 *
 * @example
 * command.option("--repeats <n>", "rollouts per task and mode", positiveInteger);
 * command.option("--top-p <p>", "nucleus mass", numberOption(samplingSchema.shape.top_p, "must be in (0, 1]"));
 */
import { InvalidArgumentError } from "commander";
import { z } from "zod";
import { samplingSchema } from "../config/sampling.js";

/** A commander option parser that takes what `schema` takes; `message` says what to give instead. */
export function numberOption(
  schema: z.ZodType<number | undefined, number | undefined>,
  message: string,
): (value: string) => number {
  return (value) => {
    const parsed = schema.safeParse(Number(value));
    // An optional schema passes `undefined`, which Number() never gives; the check is for types.
    if (!parsed.success || parsed.data === undefined) throw new InvalidArgumentError(message);
    return parsed.data;
  };
}

// zod's number() refuses NaN and the infinities, so every parser here does too.

/** Sizes, limits and durations: any number above zero. */
export const positiveNumber = numberOption(z.number().positive(), "must be a positive number");

/** Counts of at least one. */
export const positiveInteger = numberOption(z.number().int().min(1), "must be a whole number >= 1");

/** Counts that may be zero. */
export const nonNegativeInteger = numberOption(
  z.number().int().min(0),
  "must be a whole number >= 0",
);

/** Any finite number. */
export const finiteNumber = numberOption(z.number(), "must be a number");

const temperature = samplingSchema.shape.temperature.unwrap();

/** A sampling temperature, within the bounds a config's `policy.sampling.temperature` has. */
export const samplingTemperature = numberOption(
  temperature,
  `must be from ${temperature.minValue} to ${temperature.maxValue}`,
);

/**
 * A JSON object given on the command line, e.g. `--chat-template-kwargs '{"enable_thinking":false}'`
 * (the same value as the config key `policy.chatTemplateKwargs`).
 */
export function jsonObjectOption(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`must be a JSON object, e.g. '{"enable_thinking": false}'`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`must be a JSON object, e.g. '{"enable_thinking": false}'`);
  return parsed as Record<string, unknown>;
}
