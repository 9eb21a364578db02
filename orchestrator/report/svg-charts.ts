/**
 * SVG charts drawn as strings, for self-contained report pages: horizontal grouped bars on a
 * linear or log scale, inside a `<figure>` with caption and legend. Nothing here knows what is
 * charted; the caller hands in fractions, colors, labels and data attributes.
 *
 * Charts are checkable: each is a `<figure data-chart=...>` whose `<svg>` states its scale
 * (`data-scale`, `data-scale-max`, `data-scale-length`, `data-scale-origin`), and each bar is an
 * SVG element carrying the `data` the caller gave it (say `data-value`, the exact number), so a
 * test can read a bar's length back against its value. The class names are styled by
 * html-page's stylesheet.
 *
 * @example
 * const scale: Scale = { kind: "linear", max: 1 };
 * const data = { "data-value": 0.4 };
 * const bar = { length: fraction(scale, 0.4), fill: "#2563eb", data, title: "a: 40%" };
 * const group = { label: "a", emphasis: false, bars: [{ key: "run", label: "40%", segments: [bar] }] };
 * const svg = barChart({ scale, ticks: PERCENT_TICKS, groups: [group], ariaLabel: "score of a" });
 * const key = legend([{ color: "#2563eb", label: "run" }]);
 * const html = figure("score", "Score", "Mean reward per task.", svg, key);
 */
import { attrs, escapeHtml as esc } from "./html-page.js";

/** SVG coordinates: two decimals are sub-pixel and keep the markup short. */
export function coord(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** A label cut to `max` characters, an ellipsis saying so (the full text goes in a `<title>`). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---- scales -----------------------------------------------------------------------------------

export interface LinearScale {
  kind: "linear";
  max: number;
}

export interface LogScale {
  kind: "log";
  min: number;
  max: number;
}

export type Scale = LinearScale | LogScale;

/** Where a value sits on the scale, from 0 to 1: clamped, so no bar runs past the plot. */
export function fraction(scale: Scale, value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  if (scale.kind === "linear") return Math.min(1, value / scale.max);
  if (value <= scale.min) return 0;
  return Math.min(
    1,
    (Math.log10(value) - Math.log10(scale.min)) / (Math.log10(scale.max) - Math.log10(scale.min)),
  );
}

/** A log scale from a decade below the smallest positive value to the decade above the largest. */
export function logScale(values: readonly number[]): LogScale {
  const positive = values.filter((value) => Number.isFinite(value) && value > 0);
  if (positive.length === 0) return { kind: "log", min: 1, max: 10 };
  const low = Math.floor(Math.log10(Math.min(...positive))) - 1;
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...positive))));
  return { kind: "log", min: 10 ** Math.max(0, low), max: 10 ** high };
}

export function scaleData(
  scale: Scale,
  origin: number,
  length: number,
): Record<string, string | number> {
  return {
    "data-scale": scale.kind,
    ...(scale.kind === "log" ? { "data-scale-min": scale.min } : {}),
    "data-scale-max": scale.max,
    "data-scale-origin": origin,
    "data-scale-length": length,
  };
}

// ---- horizontal grouped bars ----------------------------------------------------------------

// The layout: a label column, the plot, and a right-aligned aside column. Exported so that a
// chart drawn by hand lines up with the bar charts above and below it.
export const WIDTH = 900;
export const LABEL_X = 8;
export const PLOT_X = 190;
const PLOT_LENGTH = 540;
export const ASIDE_X = WIDTH - 8;
export const AXIS_HEIGHT = 30;
const BAR_HEIGHT = 18;
const BAR_GAP = 4;
const GROUP_GAP = 14;
export const LABEL_CHARS = 26;

export interface Segment {
  /** Fraction of the plot length, already on the chart's scale. */
  length: number;
  fill: string;
  data: Record<string, string | number>;
  title: string;
}

export interface BarSpec {
  /** Empty: no bar; `missing` says why. */
  segments: Segment[];
  /** The value printed after the bar, and an optional colored remark after it. */
  label: string;
  remark?: { text: string; className: string; data: Record<string, string | number> };
  missing?: string;
  /** A small key before the bar (a series name, a run number), for readers without color. */
  key: string;
}

export interface GroupSpec {
  label: string;
  emphasis: boolean;
  bars: BarSpec[];
  aside?: { text: string; className: string; data?: Record<string, string | number> };
}

export interface BarChartSpec {
  scale: Scale;
  ticks: { value: number; label: string }[];
  groups: GroupSpec[];
  asideHeader?: string;
  ariaLabel: string;
  /** Panel titles drawn above the group of that index. */
  panels?: Map<number, string>;
}

export function barChart(spec: BarChartSpec): string {
  const parts: string[] = [];
  let y = AXIS_HEIGHT;
  const rows: string[] = [];
  spec.groups.forEach((group, index) => {
    const panel = spec.panels?.get(index);
    if (panel !== undefined) {
      if (index > 0) y += 10;
      rows.push(
        `<text class="panel" x="${LABEL_X}" y="${coord(y + 14)}">${esc(panel)}</text>`,
        `<line class="rule" x1="${LABEL_X}" x2="${ASIDE_X}" y1="${coord(y + 22)}" y2="${coord(y + 22)}"/>`,
      );
      y += 30;
    } else if (group.emphasis && index > 0) {
      rows.push(
        `<line class="rule" x1="${LABEL_X}" x2="${ASIDE_X}" y1="${coord(y - GROUP_GAP / 2)}" y2="${coord(y - GROUP_GAP / 2)}"/>`,
      );
    }
    const height = group.bars.length * BAR_HEIGHT + (group.bars.length - 1) * BAR_GAP;
    const middle = y + height / 2;
    rows.push(
      `<text class="${group.emphasis ? "group strong" : "group"}" x="${LABEL_X}" y="${coord(middle + 4.5)}">${esc(clip(group.label, LABEL_CHARS))}<title>${esc(group.label)}</title></text>`,
    );
    if (group.aside)
      rows.push(
        `<text class="aside ${group.aside.className}" x="${ASIDE_X}" y="${coord(middle + 4.5)}" text-anchor="end"${attrs(group.aside.data ?? {})}>${esc(group.aside.text)}</text>`,
      );
    group.bars.forEach((bar, barIndex) => {
      const top = y + barIndex * (BAR_HEIGHT + BAR_GAP);
      const baseline = top + BAR_HEIGHT / 2 + 4.5;
      rows.push(
        `<text class="key" x="${PLOT_X - 8}" y="${coord(baseline)}" text-anchor="end">${esc(bar.key)}</text>`,
      );
      if (bar.segments.length === 0) {
        rows.push(
          `<text class="missing" x="${PLOT_X + 6}" y="${coord(baseline)}">${esc(bar.missing ?? "no data")}</text>`,
        );
        return;
      }
      let x = PLOT_X;
      for (const segment of bar.segments) {
        const width = segment.length * PLOT_LENGTH;
        rows.push(
          `<rect x="${coord(x)}" y="${coord(top)}" width="${coord(width)}" height="${BAR_HEIGHT}" fill="${segment.fill}"${attrs(segment.data)}><title>${esc(segment.title)}</title></rect>`,
        );
        x += width;
      }
      const remark = bar.remark
        ? ` <tspan class="${bar.remark.className}"${attrs(bar.remark.data)}>${esc(bar.remark.text)}</tspan>`
        : "";
      rows.push(
        `<text class="value" x="${coord(x + 6)}" y="${coord(baseline)}">${esc(bar.label)}${remark}</text>`,
      );
    });
    y += height + GROUP_GAP;
  });
  const bottom = y - GROUP_GAP + 6;
  for (const tick of spec.ticks) {
    const x = PLOT_X + fraction(spec.scale, tick.value) * PLOT_LENGTH;
    parts.push(
      `<line class="grid" x1="${coord(x)}" x2="${coord(x)}" y1="${AXIS_HEIGHT - 8}" y2="${coord(bottom)}"/>`,
      `<text class="tick" x="${coord(x)}" y="${AXIS_HEIGHT - 14}" text-anchor="middle">${esc(tick.label)}</text>`,
    );
  }
  if (spec.asideHeader)
    parts.push(
      `<text class="tick" x="${ASIDE_X}" y="${AXIS_HEIGHT - 14}" text-anchor="end">${esc(spec.asideHeader)}</text>`,
    );
  const height = Math.ceil(bottom + 8);
  return `<svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${esc(spec.ariaLabel)}"${attrs(scaleData(spec.scale, PLOT_X, PLOT_LENGTH))}>${parts.join("")}${rows.join("")}</svg>`;
}

/** Ticks of a linear scale with max 1 read as percentages. */
export const PERCENT_TICKS = [0, 0.25, 0.5, 0.75, 1].map((value) => ({
  value,
  label: `${value * 100}%`,
}));

export function figure(
  chart: string,
  title: string,
  explanation: string,
  body: string,
  legend = "",
): string {
  return `<figure data-chart="${chart}"><figcaption><span class="title">${esc(title)}</span> <span class="explain">${esc(explanation)}</span></figcaption>${legend}${body}</figure>`;
}

export function legend(entries: { color: string; label: string }[]): string {
  return `<div class="legend">${entries
    .map(
      (entry) =>
        `<span class="legend-entry"><span class="swatch" style="background:${entry.color}"></span>${esc(entry.label)}</span>`,
    )
    .join("")}</div>`;
}

/** A figure in the chart's place, so a reader learns why there is none. */
export function noData(chart: string, title: string, why: string): string {
  return figure(chart, title, why, `<p class="empty">Nothing to chart.</p>`);
}
