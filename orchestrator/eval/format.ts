/**
 * Number formats the Markdown and HTML renderings share, so a table and a chart never disagree:
 * scores as percentages with one decimal, differences as signed percentage points.
 *
 * @example
 * percentText(0.0625); // "6.3"
 * signedPoints(-0.0004, "-"); // "0.0": what rounds to zero carries no sign
 */

/** A score in [0, 1] as a percentage with one decimal, without the sign; null when not finite. */
export function percentText(value: number | null | undefined): string | null {
  return value === null || value === undefined || !Number.isFinite(value)
    ? null
    : (value * 100).toFixed(1);
}

/**
 * A difference of scores in percentage points: "+6.6", "-3.2" (with `minus` as the sign), or
 * "0.0" for what rounds to zero; null when not finite.
 */
export function signedPoints(value: number | null | undefined, minus: string): string | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const text = Math.abs(value * 100).toFixed(1);
  if (Number(text) === 0) return "0.0";
  return value > 0 ? `+${text}` : `${minus}${text}`;
}
