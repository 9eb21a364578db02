/**
 * Line charts drawn as SVG strings, for curves over training steps: one or more series on shared
 * linear axes, each a polyline with a dot per point. Like the bar charts, a chart is checkable:
 * the `<svg>` states its axes (`data-x-min`, `data-x-max`, `data-y-min`, `data-y-max` and the
 * plot's pixel box), and each dot carries its exact `data-x` and `data-y`, so a test can read a
 * point's position back against its value.
 *
 * @example
 * const svg = lineChart({
 *   ariaLabel: "validation score by step",
 *   series: [{ key: "llm", label: "llm", color: "#2563eb", points: [{ x: 0, y: 0.1 }, { x: 25, y: 0.4 }] }],
 *   yMin: 0, yMax: 1, yTicks: PERCENT_TICKS,
 * });
 */
import { attrs, escapeHtml as esc } from "./html-page.js";
import { coord, WIDTH } from "./svg-charts.js";

export interface LinePoint {
  x: number;
  y: number;
}

export interface LineSeries {
  key: string;
  label: string;
  color: string;
  points: readonly LinePoint[];
  /** Drawn dashed: a baseline or a control beside the measured curve. */
  dashed?: boolean;
}

export interface LineChartSpec {
  ariaLabel: string;
  series: readonly LineSeries[];
  /** The y axis; unset: from the data (0 to the largest value, or the data's range if negative). */
  yMin?: number;
  yMax?: number;
  yTicks?: readonly { value: number; label: string }[];
  xLabel?: string;
}

const HEIGHT = 240;
const LEFT = 64;
const RIGHT = WIDTH - 16;
const TOP = 12;
const BOTTOM = HEIGHT - 34;

/** Round tick values over a range: 1, 2 or 5 times a power of ten apart, about five of them. */
export function niceTicks(min: number, max: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw)!;
  const ticks: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step / 1e6; value += step)
    ticks.push(Math.round(value / step) * step);
  return ticks;
}

function formatTick(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1000 || magnitude < 0.001) return value.toExponential(0);
  return String(Math.round(value * 1000) / 1000);
}

export function lineChart(spec: LineChartSpec): string {
  const points = spec.series
    .flatMap((series) => series.points)
    .filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y));
  const xs = points.map((point) => point.x);
  const ys = points.map((point) => point.y);
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs, xMin + 1) : 1;
  const yMin = spec.yMin ?? Math.min(0, ...ys);
  let yMax = spec.yMax ?? Math.max(...ys, yMin);
  if (!(yMax > yMin)) yMax = yMin + 1;
  const x = (value: number) => LEFT + ((value - xMin) / (xMax - xMin)) * (RIGHT - LEFT);
  const y = (value: number) => BOTTOM - ((value - yMin) / (yMax - yMin)) * (BOTTOM - TOP);
  const parts: string[] = [];
  const yTicks =
    spec.yTicks ?? niceTicks(yMin, yMax).map((value) => ({ value, label: formatTick(value) }));
  for (const tick of yTicks) {
    parts.push(
      `<line class="grid" x1="${LEFT}" x2="${RIGHT}" y1="${coord(y(tick.value))}" y2="${coord(y(tick.value))}"/>`,
      `<text class="tick" x="${LEFT - 6}" y="${coord(y(tick.value) + 4)}" text-anchor="end">${esc(tick.label)}</text>`,
    );
  }
  for (const value of niceTicks(xMin, xMax))
    parts.push(
      `<text class="tick" x="${coord(x(value))}" y="${BOTTOM + 16}" text-anchor="middle">${esc(formatTick(value))}</text>`,
    );
  if (spec.xLabel)
    parts.push(
      `<text class="tick" x="${(LEFT + RIGHT) / 2}" y="${HEIGHT - 4}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    );
  for (const series of spec.series) {
    const drawn = series.points.filter(
      (point) => Number.isFinite(point.x) && Number.isFinite(point.y),
    );
    if (drawn.length === 0) continue;
    const path = drawn.map((point) => `${coord(x(point.x))},${coord(y(point.y))}`).join(" ");
    parts.push(
      `<g data-series="${esc(series.key)}"><polyline fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ""} points="${path}"/>${drawn
        .map(
          (point) =>
            `<circle r="2.5" fill="${series.color}" cx="${coord(x(point.x))}" cy="${coord(y(point.y))}"${attrs({ "data-x": point.x, "data-y": point.y })}><title>${esc(`${series.label}: ${formatTick(point.y)} at ${formatTick(point.x)}`)}</title></circle>`,
        )
        .join("")}</g>`,
    );
  }
  const box = attrs({
    "data-x-min": xMin,
    "data-x-max": xMax,
    "data-y-min": yMin,
    "data-y-max": yMax,
    "data-plot": `${LEFT} ${TOP} ${RIGHT} ${BOTTOM}`,
  });
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${esc(spec.ariaLabel)}"${box}><line class="axis" x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${BOTTOM}"/><line class="axis" x1="${LEFT}" x2="${RIGHT}" y1="${BOTTOM}" y2="${BOTTOM}"/>${parts.join("")}</svg>`;
}
