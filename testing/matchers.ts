/**
 * Typed wrappers of vitest's asymmetric matchers (which are typed `any`), for use inside
 * `toMatchObject` and `toEqual` without unsafe-any lint errors.
 *
 * @example
 * await expect(call).rejects.toMatchObject({ code: 9, message: matching(/begin 2/) });
 */
import { expect } from "vitest";

export function matching(pattern: RegExp): unknown {
  return expect.stringMatching(pattern) as unknown;
}
