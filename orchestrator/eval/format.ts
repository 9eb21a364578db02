/**
 * Number formats of the eval renderings, so a table and a chart never disagree: scores as
 * percentages with one decimal, differences as signed percentage points. `percentText` and
 * `signedPoints` are shared by the Markdown and the HTML pages; the rest is the HTML pages'
 * typography (an en dash for what is missing, a true minus sign, ×).
 *
 * @example
 * percentText(0.0625); // "6.3"
 * signedPoints(-0.0004, "-"); // "0.0": what rounds to zero carries no sign
 * percent(0.0625); // "6.3%"
 * tokenCount(6849); // "6.85K"
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

/** What the HTML pages show for a number there is none of. */
export const DASH = "–";

export function percent(value: number): string {
  const text = percentText(value);
  return text === null ? DASH : `${text}%`;
}

/** A score difference in percentage points: "+6.6", "−3.2", "0.0". */
export function points(value: number | null): string {
  return signedPoints(value, "\u2212") ?? DASH;
}

/**
 * The page's class for a difference: "zero" exactly where `points` prints no sign, so a color
 * never contradicts the number it paints.
 */
export function signClass(value: number | null): "pos" | "neg" | "zero" {
  const text = signedPoints(value, "-");
  if (text === null || text === "0.0") return "zero";
  return value! > 0 ? "pos" : "neg";
}

/** Token counts with three significant digits: 450, 6.85K, 260K, 1.3M. */
export function tokenCount(value: number): string {
  if (!Number.isFinite(value)) return DASH;
  const trim = (text: string) => (text.includes(".") ? text.replace(/\.?0+$/, "") : text);
  if (Math.abs(value) < 1000) return String(Math.round(value));
  if (Math.abs(value) < 1e6) return `${trim((value / 1e3).toPrecision(3))}K`;
  return `${trim((value / 1e6).toPrecision(3))}M`;
}

export function ratioText(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  if (value >= 10) return `${value.toFixed(0)}×`;
  if (value >= 1) return `${value.toFixed(1)}×`;
  return `${value.toPrecision(2)}×`;
}

export function decimal(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : DASH;
}

/** A reward as read: 1, 0.5, 0.333 (three decimals at most). */
export function rewardText(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toFixed(3))) : DASH;
}

/** To the minute, in UTC so that two readers of one report see one time; unparsable: as given. */
export function dateText(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
