/**
 * The eval report and the run comparison as one self-contained HTML page each: inline CSS,
 * charts as inline SVG drawn here, no script, nothing fetched (a Content-Security-Policy forbids
 * it too), so the file reads the same offline, attached to an issue or screenshotted for a README.
 * Every text that comes from a report (model names, task files, notes, domains, and the sample
 * rollouts' questions, tool calls and outputs, written by a model) is escaped.
 *
 * Charts are checkable: each is a `<figure data-chart=...>` whose `<svg>` states its scale
 * (`data-scale`, `data-scale-max`, `data-scale-length`, `data-scale-origin`), and each bar is an
 * SVG element carrying `data-chart`, what it shows (`data-domain`, `data-mode`,
 * `data-capability`, `data-kind`, `data-run`) and `data-value`, the report's exact number.
 *
 * @example
 * writeFileSync("runs/eval-1/report.html", renderReportHtml(report));
 * writeFileSync("compare.html", renderCompareHtml(compareReports(loaded)));
 */
import { CAPABILITIES, type Capability } from "../agent/capabilities.js";
import type { Comparison, ComparisonRow } from "./compare.js";
import { percentText, signedPoints } from "./format.js";
import type {
  EvalReport,
  ExampleRollout,
  ExampleTurn,
  Mode,
  ModeSummary,
  ModeTokens,
} from "./report.js";

/** Sandbox vs plain LLM mode, everywhere: solid for scores and completions, light for prompts. */
export const MODE_COLORS: Record<Mode, { solid: string; light: string }> = {
  sandbox: { solid: "#2563eb", light: "#93c5fd" },
  llm: { solid: "#ea580c", light: "#fdba74" },
};

/**
 * One color per compared run, in the order given: the baseline (first run) slate, then hues far
 * from the two mode colors, which the compare tables still use for modes.
 */
export const RUN_COLORS = [
  "#64748b",
  "#7c3aed",
  "#0d9488",
  "#db2777",
  "#ca8a04",
  "#0891b2",
  "#65a30d",
  "#9f1239",
] as const;

const MODE_ORDER: readonly Mode[] = ["sandbox", "llm"];
const MODE_LABELS: Record<Mode, string> = { sandbox: "Sandbox", llm: "LLM" };
const CAPABILITY_LABELS: Record<Capability, string> = {
  computation: "computation",
  external_resource: "external resource",
  file_management: "file management",
};
const OVERALL = "overall";

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!,
  );
}

const esc = escapeHtml;

// ---- number formats -------------------------------------------------------------------------

const DASH = "–";

function percent(value: number): string {
  const text = percentText(value);
  return text === null ? DASH : `${text}%`;
}

/** A score difference in percentage points: "+6.6", "−3.2", "0.0". */
function points(value: number | null): string {
  return signedPoints(value, "\u2212") ?? DASH;
}

function signClass(value: number | null): string {
  if (value === null || !Number.isFinite(value) || Number(Math.abs(value * 100).toFixed(1)) === 0)
    return "zero";
  return value > 0 ? "pos" : "neg";
}

/** Token counts with three significant digits: 450, 6.85K, 260K, 1.3M. */
function tokenCount(value: number): string {
  if (!Number.isFinite(value)) return DASH;
  const trim = (text: string) => (text.includes(".") ? text.replace(/\.?0+$/, "") : text);
  if (Math.abs(value) < 1000) return String(Math.round(value));
  if (Math.abs(value) < 1e6) return `${trim((value / 1e3).toPrecision(3))}K`;
  return `${trim((value / 1e6).toPrecision(3))}M`;
}

function ratioText(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  if (value >= 10) return `${value.toFixed(0)}×`;
  if (value >= 1) return `${value.toFixed(1)}×`;
  return `${value.toPrecision(2)}×`;
}

function decimal(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : DASH;
}

/** SVG coordinates: two decimals are sub-pixel and keep the markup short. */
function coord(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function dateText(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function attrs(data: Record<string, string | number>): string {
  return Object.entries(data)
    .map(([name, value]) => ` ${name}="${esc(String(value))}"`)
    .join("");
}

// ---- scales -----------------------------------------------------------------------------------

interface LinearScale {
  kind: "linear";
  max: number;
}

interface LogScale {
  kind: "log";
  min: number;
  max: number;
}

type Scale = LinearScale | LogScale;

/** Where a value sits on the scale, from 0 to 1 (rewards are in [0, 1]; clamped all the same). */
function fraction(scale: Scale, value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  if (scale.kind === "linear") return Math.min(1, value / scale.max);
  if (value <= scale.min) return 0;
  return Math.min(
    1,
    (Math.log10(value) - Math.log10(scale.min)) / (Math.log10(scale.max) - Math.log10(scale.min)),
  );
}

/** A log scale from a decade below the smallest positive value to the decade above the largest. */
function logScale(values: readonly number[]): LogScale {
  const positive = values.filter((value) => Number.isFinite(value) && value > 0);
  if (positive.length === 0) return { kind: "log", min: 1, max: 10 };
  const low = Math.floor(Math.log10(Math.min(...positive))) - 1;
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...positive))));
  return { kind: "log", min: 10 ** Math.max(0, low), max: 10 ** high };
}

function scaleData(scale: Scale, origin: number, length: number): Record<string, string | number> {
  return {
    "data-scale": scale.kind,
    ...(scale.kind === "log" ? { "data-scale-min": scale.min } : {}),
    "data-scale-max": scale.max,
    "data-scale-origin": origin,
    "data-scale-length": length,
  };
}

// ---- horizontal grouped bars ----------------------------------------------------------------

const WIDTH = 900;
const LABEL_X = 8;
const PLOT_X = 190;
const PLOT_LENGTH = 540;
const ASIDE_X = WIDTH - 8;
const AXIS_HEIGHT = 30;
const BAR_HEIGHT = 18;
const BAR_GAP = 4;
const GROUP_GAP = 14;
const LABEL_CHARS = 26;

interface Segment {
  /** Fraction of the plot length, already on the chart's scale. */
  length: number;
  fill: string;
  data: Record<string, string | number>;
  title: string;
}

interface BarSpec {
  /** Empty: no bar; `missing` says why. */
  segments: Segment[];
  /** The value printed after the bar, and an optional colored remark after it. */
  label: string;
  remark?: { text: string; className: string; data: Record<string, string | number> };
  missing?: string;
  /** A small key before the bar ("sandbox", a run number), for readers without color. */
  key: string;
}

interface GroupSpec {
  label: string;
  emphasis: boolean;
  bars: BarSpec[];
  aside?: { text: string; className: string; data?: Record<string, string | number> };
}

interface BarChartSpec {
  scale: Scale;
  ticks: { value: number; label: string }[];
  groups: GroupSpec[];
  asideHeader?: string;
  ariaLabel: string;
  /** Panel titles drawn above the group of that index. */
  panels?: Map<number, string>;
}

function barChart(spec: BarChartSpec): string {
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

const PERCENT_TICKS = [0, 0.25, 0.5, 0.75, 1].map((value) => ({
  value,
  label: `${value * 100}%`,
}));

function figure(
  chart: string,
  title: string,
  explanation: string,
  body: string,
  legend = "",
): string {
  return `<figure data-chart="${chart}"><figcaption><span class="title">${esc(title)}</span> <span class="explain">${esc(explanation)}</span></figcaption>${legend}${body}</figure>`;
}

function legend(entries: { color: string; label: string }[]): string {
  return `<div class="legend">${entries
    .map(
      (entry) =>
        `<span class="legend-entry"><span class="swatch" style="background:${entry.color}"></span>${esc(entry.label)}</span>`,
    )
    .join("")}</div>`;
}

function noData(chart: string, title: string, why: string): string {
  return figure(chart, title, why, `<p class="empty">Nothing to chart.</p>`);
}

// ---- report page ----------------------------------------------------------------------------

function reportModes(report: EvalReport): Mode[] {
  return MODE_ORDER.filter((mode) => report.modes.includes(mode));
}

/** The domains, then "overall" when there are any. */
function domainRows(report: EvalReport): {
  domain: string;
  summaries: Partial<Record<Mode, ModeSummary>>;
  gain: number | null;
}[] {
  const rows = Object.entries(report.domains).map(([domain, entry]) => ({
    domain,
    summaries: entry,
    gain: entry.gain,
  }));
  if (rows.length === 0) return [];
  return [...rows, { domain: OVERALL, summaries: report.overall, gain: report.overall.gain }];
}

function missingMode(summary: ModeSummary | undefined, mode: Mode): string {
  if (!summary) return `no ${MODE_LABELS[mode]}-mode rollouts`;
  return `no scored rollouts (${summary.failed} failed)`;
}

function scoreChart(report: EvalReport, modes: readonly Mode[]): string {
  const title = "Score by domain";
  const rows = domainRows(report);
  if (rows.length === 0 || modes.length === 0) return noData("score", title, "no rollouts");
  const scale: Scale = { kind: "linear", max: 1 };
  const groups: GroupSpec[] = rows.map((row) => ({
    label: row.domain,
    emphasis: row.domain === OVERALL,
    bars: modes.map((mode): BarSpec => {
      const summary = row.summaries[mode];
      if (!summary || summary.n === 0)
        return { segments: [], label: "", key: mode, missing: missingMode(summary, mode) };
      return {
        key: mode,
        label: percent(summary.score),
        segments: [
          {
            length: fraction(scale, summary.score),
            fill: MODE_COLORS[mode].solid,
            data: {
              "data-chart": "score",
              "data-domain": row.domain,
              "data-mode": mode,
              "data-value": summary.score,
            },
            title: `${row.domain} · ${mode}: ${percent(summary.score)} over ${summary.n} scored rollouts`,
          },
        ],
      };
    }),
    aside: {
      text: points(row.gain),
      className: signClass(row.gain),
      data: {
        "data-chart": "score",
        "data-domain": row.domain,
        ...(row.gain === null ? {} : { "data-gain": row.gain }),
      },
    },
  }));
  return figure(
    "score",
    title,
    "Mean reward of the scored rollouts per mode. Gain: sandbox − LLM, in percentage points.",
    barChart({
      scale,
      ticks: PERCENT_TICKS,
      groups,
      asideHeader: modes.length === 2 ? "gain (pts)" : undefined,
      ariaLabel: "score by domain and mode",
    }),
    legend(
      modes.map((mode) => ({ color: MODE_COLORS[mode].solid, label: `${MODE_LABELS[mode]} mode` })),
    ),
  );
}

const CAPABILITY_X = PLOT_X;
const CAPABILITY_COLUMN = 205;
const CAPABILITY_LENGTH = 140;
const CAPABILITY_ROW = 28;

function capabilityChart(report: EvalReport): string {
  const title = "Capability usage (sandbox mode)";
  const domains = Object.keys(report.capability_usage).sort((a, b) =>
    a === OVERALL ? 1 : b === OVERALL ? -1 : a.localeCompare(b),
  );
  if (domains.length === 0) return noData("capability", title, "no sandbox-mode rollouts");
  const scale: Scale = { kind: "linear", max: 1 };
  const parts: string[] = [];
  CAPABILITIES.forEach((capability, column) => {
    const x = CAPABILITY_X + column * CAPABILITY_COLUMN;
    parts.push(
      `<text class="tick" x="${x}" y="${AXIS_HEIGHT - 12}">${esc(CAPABILITY_LABELS[capability])}</text>`,
    );
  });
  parts.push(
    `<text class="tick" x="${ASIDE_X}" y="${AXIS_HEIGHT - 12}" text-anchor="end">turns</text>`,
  );
  domains.forEach((domain, row) => {
    const usage = report.capability_usage[domain]!;
    const top = AXIS_HEIGHT + row * CAPABILITY_ROW;
    const baseline = top + CAPABILITY_ROW / 2 + 4.5;
    if (domain === OVERALL && row > 0)
      parts.push(`<line class="rule" x1="${LABEL_X}" x2="${ASIDE_X}" y1="${top}" y2="${top}"/>`);
    parts.push(
      `<text class="${domain === OVERALL ? "group strong" : "group"}" x="${LABEL_X}" y="${coord(baseline)}">${esc(clip(domain, LABEL_CHARS))}<title>${esc(domain)}</title></text>`,
      `<text class="aside" x="${ASIDE_X}" y="${coord(baseline)}" text-anchor="end" data-chart="capability" data-domain="${esc(domain)}" data-turns="${usage.turns}">${usage.turns}</text>`,
    );
    CAPABILITIES.forEach((capability, column) => {
      const x = CAPABILITY_X + column * CAPABILITY_COLUMN;
      const rate = usage[capability];
      const barTop = top + (CAPABILITY_ROW - 14) / 2;
      parts.push(
        `<rect class="track" x="${x}" y="${coord(barTop)}" width="${CAPABILITY_LENGTH}" height="14"/>`,
        `<rect x="${x}" y="${coord(barTop)}" width="${coord(fraction(scale, rate) * CAPABILITY_LENGTH)}" height="14" fill="${MODE_COLORS.sandbox.solid}" fill-opacity="${coord(0.35 + 0.65 * fraction(scale, rate))}"${attrs(
          {
            "data-chart": "capability",
            "data-domain": domain,
            "data-mode": "sandbox",
            "data-capability": capability,
            "data-value": rate,
          },
        )}><title>${esc(`${domain} · ${CAPABILITY_LABELS[capability]}: ${percent(rate)} of ${usage.turns} turns`)}</title></rect>`,
        `<text class="value" x="${x + CAPABILITY_LENGTH + 6}" y="${coord(baseline)}">${percent(rate)}</text>`,
      );
    });
  });
  const height = AXIS_HEIGHT + domains.length * CAPABILITY_ROW + 8;
  return figure(
    "capability",
    title,
    "Share of each domain's sandbox-mode turns whose tool call used the capability (a turn may use several).",
    `<svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="capability usage by domain"${attrs(scaleData(scale, CAPABILITY_X, CAPABILITY_LENGTH))}>${parts.join("")}</svg>`,
  );
}

function tokenChart(report: EvalReport, modes: readonly Mode[]): string {
  const title = "Tokens per rollout";
  const rows: { domain: string; tokens: ModeTokens }[] = Object.entries(report.tokens.byDomain).map(
    ([domain, tokens]) => ({ domain, tokens }),
  );
  if (rows.length === 0 || modes.length === 0) return noData("tokens", title, "no rollouts");
  rows.push({ domain: OVERALL, tokens: report.tokens });
  const totals = rows.flatMap((row) =>
    modes.map((mode) => row.tokens[mode]?.perRollout.total ?? 0),
  );
  const scale = logScale(totals);
  const ticks: { value: number; label: string }[] = [];
  for (let value = scale.min; value <= scale.max; value *= 10)
    ticks.push({ value, label: tokenCount(value) });
  const both = modes.length === 2;
  const groups: GroupSpec[] = rows.map((row) => {
    const ratio = row.tokens.ratio?.total ?? null;
    return {
      label: row.domain,
      emphasis: row.domain === OVERALL,
      bars: modes.map((mode): BarSpec => {
        const summary = row.tokens[mode];
        if (!summary)
          return { segments: [], label: "", key: mode, missing: missingMode(undefined, mode) };
        const { prompt, completion, total } = summary.perRollout;
        const length = fraction(scale, total);
        const segment = (kind: "prompt" | "completion", value: number): Segment => ({
          length: total > 0 ? (length * value) / total : 0,
          fill: kind === "prompt" ? MODE_COLORS[mode].light : MODE_COLORS[mode].solid,
          data: {
            "data-chart": "tokens",
            "data-domain": row.domain,
            "data-mode": mode,
            "data-kind": kind,
            "data-value": value,
          },
          title: `${row.domain} · ${mode}: ${tokenCount(value)} ${kind} tokens per rollout (${summary.rollouts} rollouts)`,
        });
        return {
          key: mode,
          label: `${tokenCount(total)}  (${tokenCount(prompt)} + ${tokenCount(completion)})`,
          segments: [segment("prompt", prompt), segment("completion", completion)],
        };
      }),
      ...(both
        ? {
            aside: {
              text: ratioText(ratio),
              className: "ratio",
              data: {
                "data-chart": "tokens",
                "data-domain": row.domain,
                ...(ratio === null ? {} : { "data-ratio": ratio }),
              },
            },
          }
        : {}),
    };
  });
  return figure(
    "tokens",
    title,
    "Prompt + completion tokens per rollout (what the server prefilled and sampled, summed over calls). Bar length: the total on a log scale, split by the prompt/completion shares; ratio: sandbox / LLM total.",
    barChart({
      scale,
      ticks,
      groups,
      asideHeader: both ? "sandbox / LLM" : undefined,
      ariaLabel: "tokens per rollout by domain and mode",
    }),
    legend(
      modes.flatMap((mode) => [
        { color: MODE_COLORS[mode].light, label: `${MODE_LABELS[mode]} prompt` },
        { color: MODE_COLORS[mode].solid, label: `${MODE_LABELS[mode]} completion` },
      ]),
    ),
  );
}

/** Rows of (domain, mode, summary) in report order, overall last. */
function summaryRows(
  report: EvalReport,
  modes: readonly Mode[],
): { domain: string; mode: Mode; summary: ModeSummary | undefined }[] {
  return domainRows(report).flatMap((row) =>
    modes.map((mode) => ({ domain: row.domain, mode, summary: row.summaries[mode] })),
  );
}

function modeCell(mode: Mode): string {
  return `<td class="mode"><span class="swatch" style="background:${MODE_COLORS[mode].solid}"></span>${mode}</td>`;
}

function domainCell(domain: string): string {
  return `<td class="${domain === OVERALL ? "strong" : ""}">${esc(domain)}</td>`;
}

function passAtKTable(report: EvalReport, modes: readonly Mode[]): string {
  const rows = summaryRows(report, modes);
  const ks = [...new Set(rows.flatMap((row) => Object.keys(row.summary?.passAtK ?? {})))].sort(
    (a, b) => Number(a) - Number(b),
  );
  if (!ks.some((k) => Number(k) > 1)) return "";
  const body = rows
    .map(
      (row) =>
        `<tr>${domainCell(row.domain)}${modeCell(row.mode)}${ks
          .map((k) => {
            const value = row.summary?.passAtK[k];
            return `<td class="num">${value === undefined ? DASH : percent(value)}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("");
  return `<section class="half"><h3>pass@k</h3><table class="numbers"><thead><tr><th>domain</th><th>mode</th>${ks
    .map((k) => `<th class="num">pass@${esc(k)}</th>`)
    .join("")}</tr></thead><tbody>${body}</tbody></table></section>`;
}

function turnsTable(report: EvalReport, modes: readonly Mode[]): string {
  const present = modes.filter((mode) => report.overall[mode]);
  if (present.length === 0) return "";
  const body = present
    .map((mode) => {
      const summary = report.overall[mode]!;
      const reasons = Object.entries(summary.stopReasons)
        .map(
          ([reason, count]) =>
            `<span class="pill${reason === "submitted" ? "" : " warn"}">${esc(reason)} ${count}</span>`,
        )
        .join(" ");
      return `<tr>${modeCell(mode)}<td class="num">${decimal(summary.turns.mean)}</td><td class="num">${summary.turns.max}</td><td>${reasons}</td></tr>`;
    })
    .join("");
  return `<section class="half"><h3>Turns and stop reasons</h3><table class="numbers"><thead><tr><th>mode</th><th class="num">turns mean</th><th class="num">max</th><th>stop reasons</th></tr></thead><tbody>${body}</tbody></table></section>`;
}

function numbersTable(report: EvalReport, modes: readonly Mode[]): string {
  const rows = summaryRows(report, modes);
  if (rows.length === 0) return "";
  const body = rows
    .map(({ domain, mode, summary }) => {
      if (!summary)
        return `<tr class="gap">${domainCell(domain)}${modeCell(mode)}<td colspan="8">not evaluated in this mode</td></tr>`;
      const passes = Object.entries(summary.passAtK)
        .map(([k, value]) => `<div>@${esc(k)} ${percent(value)}</div>`)
        .join("");
      const macro =
        "macroScore" in summary && typeof summary.macroScore === "number"
          ? `<div class="sub">macro ${percent(summary.macroScore)}</div>`
          : "";
      const { perRollout } = summary.tokens;
      return `<tr>${domainCell(domain)}${modeCell(mode)}<td class="num">${summary.n > 0 ? percent(summary.score) : DASH}${macro}</td><td class="num">${summary.n}</td><td class="num">${summary.tasks}</td><td class="num${summary.failed > 0 ? " warn" : ""}">${summary.failed}</td><td class="num">${passes || DASH}</td><td class="num">${decimal(summary.turns.mean)} / ${summary.turns.max}</td><td class="num">${tokenCount(perRollout.total)}<div class="sub">${tokenCount(perRollout.prompt)} + ${tokenCount(perRollout.completion)}</div></td><td class="num">${tokenCount(summary.tokens.total)}</td></tr>`;
    })
    .join("");
  return `<section><h2>All numbers</h2><div class="scroll"><table class="numbers wide"><thead><tr><th>domain</th><th>mode</th><th class="num">score</th><th class="num">n</th><th class="num">tasks</th><th class="num">failed</th><th class="num">pass@k</th><th class="num">turns<div class="sub">mean / max</div></th><th class="num">tokens / rollout<div class="sub">prompt + completion</div></th><th class="num">tokens<div class="sub">all rollouts</div></th></tr></thead><tbody>${body}</tbody></table></div></section>`;
}

/** A reward as read: 1, 0.5, 0.333 (three decimals at most). */
function rewardText(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toFixed(3))) : DASH;
}

function rewardClass(value: number): string {
  if (value >= 1 - 1e-9) return "pos";
  return value > 0 ? "partial" : "neg";
}

function stopPill(reason: string): string {
  return `<span class="pill${reason === "submitted" ? "" : " warn"}">${esc(reason)}</span>`;
}

/** A chip per capability tag; its color class only for tags we know (a report is just JSON). */
function capabilityChips(capabilities: readonly string[]): string {
  if (capabilities.length === 0) return `<span class="untagged">no capability</span>`;
  return capabilities
    .map((capability) => {
      const known = (CAPABILITIES as readonly string[]).includes(capability);
      const label = known ? CAPABILITY_LABELS[capability as Capability] : capability;
      return `<span class="chip${known ? ` cap-${capability}` : ""}"${attrs({ "data-capability": capability })}>${esc(label)}</span>`;
    })
    .join("");
}

function exampleTurn(turn: ExampleTurn, index: number): string {
  const tool =
    turn.tool === null
      ? `<span class="tool none">no tool call</span>`
      : `<span class="tool">${esc(turn.tool)}</span>`;
  const error = turn.isError ? `<span class="error-tag">error</span>` : "";
  const data = { "data-turn": index, ...(turn.tool === null ? {} : { "data-tool": turn.tool }) };
  return `<li class="turn${turn.isError ? " is-error" : ""}"${attrs(data)}><div class="turn-head">${tool}${capabilityChips(turn.capabilities)}${error}</div><pre class="input${turn.tool === "execute_bash" ? " shell" : ""}">${esc(turn.input)}</pre><pre class="observation">${esc(turn.observation)}</pre></li>`;
}

function exampleDetails(domain: string, example: ExampleRollout, open: boolean): string {
  const turns = example.turns.length;
  const data = {
    "data-example": domain,
    "data-task": example.taskId,
    "data-reward": example.reward,
    "data-turns": turns,
  };
  const summary = `<summary><span class="domain">${esc(domain)}</span><span class="file">${esc(example.taskId)}</span><span class="reward ${rewardClass(example.reward)}">reward ${rewardText(example.reward)}</span><span class="sub">${turns} turn${turns === 1 ? "" : "s"}</span></summary>`;
  const steps =
    turns === 0
      ? `<p class="empty">No tool calls: the model answered straight away.</p>`
      : `<ol class="turns">${example.turns.map(exampleTurn).join("")}</ol>`;
  const answer =
    example.answer === null
      ? `<p class="empty">no answer</p>`
      : `<pre class="answer ${rewardClass(example.reward)}">${esc(example.answer)}</pre>`;
  return `<details${attrs(data)}${open ? " open" : ""}>${summary}<div class="example"><div class="label">Question</div><div class="question">${esc(example.question)}</div>${steps}<div class="outcome"><div class="answer-box"><div class="label">Answer</div>${answer}</div><div><div class="label">Stop reason</div>${stopPill(example.stopReason)}</div></div></div></details>`;
}

function examplesSection(report: EvalReport): string {
  // Reports written before samples were kept have no `examples`.
  const examples = Object.entries(report.examples ?? {});
  if (examples.length === 0) return "";
  return `<section class="examples"><h2>Sample rollouts (sandbox mode)</h2><p class="explain">Per domain, its best-rewarded sandbox-mode rollout: each tool call's input and the start of what it returned, shortened.</p>${examples
    .map(([domain, example], index) => exampleDetails(domain, example, index === 0))
    .join("")}</section>`;
}

function notesBanner(notes: readonly string[]): string {
  if (notes.length === 0) return "";
  return `<aside class="notes" role="note"><strong>Note</strong><ul>${notes
    .map((note) => `<li>${esc(note)}</li>`)
    .join("")}</ul></aside>`;
}

function headline(report: EvalReport, modes: readonly Mode[]): string {
  const cards = modes
    .filter((mode) => report.overall[mode])
    .map((mode) => {
      const summary = report.overall[mode]!;
      return `<div class="card" style="border-top-color:${MODE_COLORS[mode].solid}"><div class="label">${MODE_LABELS[mode]} score</div><div class="big">${summary.n > 0 ? percent(summary.score) : DASH}</div><div class="sub">${summary.n} scored · ${summary.failed} failed</div></div>`;
    });
  if (modes.length === 2) {
    const gain = report.overall.gain;
    cards.push(
      `<div class="card"><div class="label">Sandbox gain</div><div class="big ${signClass(gain)}">${points(gain)}<span class="unit"> pts</span></div><div class="sub">sandbox − LLM, all rollouts</div></div>`,
      `<div class="card"><div class="label">Tokens sandbox / LLM</div><div class="big">${ratioText(report.tokens.ratio?.total ?? null)}</div><div class="sub">per rollout, prompt + completion</div></div>`,
    );
  }
  return cards.length === 0 ? "" : `<div class="cards">${cards.join("")}</div>`;
}

function reportHeader(report: EvalReport, modes: readonly Mode[]): string {
  const facts: [string, string][] = [
    ["model", report.policy ? esc(report.policy.model) : DASH],
    ["modes", modes.length > 0 ? modes.map((mode) => esc(mode)).join(", ") : DASH],
    [
      "rollouts",
      modes.map((mode) => `${esc(mode)} ${report.rollouts[mode] ?? 0}`).join(" · ") || DASH,
    ],
    ["created", esc(dateText(report.createdAt))],
  ];
  if (report.sandfarm)
    facts.push(["sandfarm", `${esc(report.sandfarm.version)} (${esc(report.sandfarm.git)})`]);
  // Reports written before the field existed have no `sandbox`.
  const sandbox = (report as Partial<EvalReport>).sandbox;
  if (sandbox)
    facts.push([
      "sandbox",
      `${esc(sandbox.image ?? sandbox.backend ?? "")}${sandbox.id ? ` <span class="sub">${esc(sandbox.id.slice(0, 19))}</span>` : ""}`,
    ]);
  if (report.scoring)
    facts.push(["judge", report.scoring.judge === null ? "none" : esc(report.scoring.judge)]);
  if (report.taskFiles.length > 0)
    facts.push([
      "task files",
      report.taskFiles
        .map(
          (file) =>
            `<span class="file">${esc(file.file)}</span> <span class="sub">${file.tasks} tasks · sha256 ${esc(file.sha256.slice(0, 12))}</span>`,
        )
        .join("<br>"),
    ]);
  return `<header><div class="kicker">sandfarm eval report</div><h1>${esc(report.runId)}</h1><dl class="facts">${facts
    .map(([name, value]) => `<div><dt>${name}</dt><dd>${value}</dd></div>`)
    .join("")}</dl></header>`;
}

const DEFINITIONS = `<section class="definitions"><h2>Definitions</h2><ul>
<li><b>score</b>: mean reward of the scored rollouts; rollouts lost to infrastructure failures are counted as failed and left out.</li>
<li><b>gain</b>: sandbox score − LLM score, in percentage points.</li>
<li><b>pass@k</b>: the unbiased estimator 1 − C(n−c, k) / C(n, k) per task, averaged over tasks.</li>
<li><b>capability usage</b>: share of a domain's sandbox-mode turns whose tool call used the capability.</li>
<li><b>tokens</b>: the server's usage summed over every call (a conversation's prefix counts again on each call), over every rollout including failed ones.</li>
<li><b>overall</b>: the same over all rollouts; macro: the mean of the domain scores.</li>
</ul></section>`;

export function renderReportHtml(report: EvalReport): string {
  const modes = reportModes(report);
  const body = [
    reportHeader(report, modes),
    notesBanner(report.notes),
    headline(report, modes),
    scoreChart(report, modes),
    modes.includes("sandbox") ? capabilityChart(report) : "",
    tokenChart(report, modes),
    `<div class="pair">${passAtKTable(report, modes)}${turnsTable(report, modes)}</div>`,
    examplesSection(report),
    numbersTable(report, modes),
    DEFINITIONS,
  ].join("\n");
  return page(`Eval report ${report.runId}`, body);
}

// ---- compare page ---------------------------------------------------------------------------

function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length]!;
}

function runLabel(comparison: Comparison, index: number): string {
  const run = comparison.runs[index]!;
  return `#${index + 1} ${run.runId}`;
}

const COMPARE_SCALE: Scale = { kind: "linear", max: 1 };

function compareBar(comparison: Comparison, row: ComparisonRow, index: number): BarSpec {
  const run = comparison.runs[index]!;
  const score = row.scores[index] ?? null;
  const n = row.n[index] ?? null;
  const key = `#${index + 1}`;
  if (score === null)
    return {
      segments: [],
      label: "",
      key,
      missing: n === 0 ? "no scored rollouts" : "not evaluated in this run",
    };
  const delta = row.deltas[index] ?? null;
  const shows = { "data-chart": "compare", "data-domain": row.domain, "data-mode": row.mode };
  return {
    key,
    label: percent(score),
    ...(index > 0 && delta !== null
      ? {
          remark: {
            text: points(delta),
            className: signClass(delta),
            data: { ...shows, "data-run": index, "data-delta": delta },
          },
        }
      : {}),
    segments: [
      {
        length: fraction(COMPARE_SCALE, score),
        fill: runColor(index),
        data: { ...shows, "data-run": index, "data-run-id": run.runId, "data-value": score },
        title: `${runLabel(comparison, index)} · ${row.domain} · ${row.mode}: ${percent(score)} (n=${n ?? 0})`,
      },
    ],
  };
}

function compareChart(comparison: Comparison): string {
  const title = "Score by domain, per run";
  const groups: GroupSpec[] = [];
  const panels = new Map<number, string>();
  for (const mode of MODE_ORDER) {
    const scored = comparison.rows.filter(
      (row) => row.mode === mode && row.scores.some((score) => score !== null),
    );
    if (scored.length === 0) continue;
    panels.set(groups.length, `${MODE_LABELS[mode]} mode`);
    for (const row of scored)
      groups.push({
        label: row.domain,
        emphasis: row.domain === OVERALL,
        bars: comparison.runs.map((_, index) => compareBar(comparison, row, index)),
      });
  }
  if (groups.length === 0) return noData("compare", title, "no run has scored rollouts");
  return figure(
    "compare",
    title,
    "Mean reward of the scored rollouts; after each later run's score, its difference from run #1 in percentage points.",
    barChart({
      scale: COMPARE_SCALE,
      ticks: PERCENT_TICKS,
      groups,
      panels,
      ariaLabel: "scores per run",
    }),
    legend(
      comparison.runs.map((_, index) => ({
        color: runColor(index),
        label: runLabel(comparison, index) + (index === 0 ? " (baseline)" : ""),
      })),
    ),
  );
}

function deltaCell(row: ComparisonRow, index: number): string {
  if (index === 0) return "";
  const delta = row.deltas[index] ?? null;
  const data = {
    "data-domain": row.domain,
    "data-mode": row.mode,
    "data-run": index,
    ...(delta === null ? {} : { "data-delta": delta }),
  };
  return `<td class="num delta ${signClass(delta)}"${attrs(data)}>${points(delta)}</td>`;
}

function sideBySideTable(comparison: Comparison): string {
  const runs = comparison.runs;
  const header = runs
    .map(
      (_, index) =>
        `<th class="${index > 0 ? "run" : "num"}"${index > 0 ? ' colspan="2"' : ""}><span class="swatch" style="background:${runColor(index)}"></span>#${index + 1}</th>`,
    )
    .join("");
  const sub = runs
    .map((_, index) => `<th class="num">score</th>${index > 0 ? `<th class="num">Δ</th>` : ""}`)
    .join("");
  const body = comparison.rows
    .map((row: ComparisonRow) => {
      const cells = runs
        .map((_, index) => {
          const score = row.scores[index] ?? null;
          const n = row.n[index] ?? null;
          const scoreCell =
            score === null
              ? `<td class="num gap">${n === 0 ? "0 scored" : DASH}</td>`
              : `<td class="num">${percent(score)}<span class="sub"> n=${n ?? 0}</span></td>`;
          return scoreCell + deltaCell(row, index);
        })
        .join("");
      return `<tr>${domainCell(row.domain)}${modeCell(row.mode)}${cells}</tr>`;
    })
    .join("");
  return `<section><h2>Scores side by side</h2><table class="numbers wide"><thead><tr><th rowspan="2">domain</th><th rowspan="2">mode</th>${header}</tr><tr>${sub}</tr></thead><tbody>${body}</tbody></table></section>`;
}

function gainsTable(comparison: Comparison): string {
  if (comparison.gains.length === 0) return "";
  const header = comparison.runs
    .map(
      (_, index) =>
        `<th class="num"><span class="swatch" style="background:${runColor(index)}"></span>#${index + 1}</th>`,
    )
    .join("");
  const body = comparison.gains
    .map(
      (row) =>
        `<tr>${domainCell(row.domain)}${comparison.runs
          .map((_, index) => {
            const gain = row.gains[index] ?? null;
            const data = {
              "data-domain": row.domain,
              "data-run": index,
              ...(gain === null ? {} : { "data-gain": gain }),
            };
            return `<td class="num delta ${signClass(gain)}"${attrs(data)}>${points(gain)}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("");
  return `<section><h2>Sandbox gain (sandbox − LLM, points)</h2><table class="numbers"><thead><tr><th>domain</th>${header}</tr></thead><tbody>${body}</tbody></table></section>`;
}

function compareHeader(comparison: Comparison): string {
  const rows = comparison.runs
    .map(
      (run, index) =>
        `<tr><td><span class="swatch" style="background:${runColor(index)}"></span>#${index + 1}${index === 0 ? ' <span class="sub">baseline</span>' : ""}</td><td>${esc(run.runId)}</td><td>${run.model === null ? DASH : esc(run.model)}</td><td>${run.modes.map((mode) => esc(mode)).join(", ")}</td><td class="file">${esc(run.dir)}</td></tr>`,
    )
    .join("");
  const partial =
    comparison.partial.length === 0
      ? ""
      : `<aside class="notes" role="note"><strong>Partial</strong><ul><li>Not every run evaluated ${comparison.partial
          .map((domain) => `<b>${esc(domain)}</b>`)
          .join(", ")}; those rows have gaps.</li></ul></aside>`;
  const different =
    comparison.differentTasks.length === 0
      ? ""
      : `<aside class="notes" role="note"><strong>Not the same tasks</strong><ul>${comparison.differentTasks
          .map((line) => `<li>${esc(line)}; compare per-domain figures with care.</li>`)
          .join("")}</ul></aside>`;
  const runNotes = comparison.runs.flatMap((run, index) =>
    run.notes.map((note) => `<li><b>#${index + 1}</b> ${esc(note)}</li>`),
  );
  const notes =
    runNotes.length === 0
      ? ""
      : `<aside class="notes" role="note"><strong>Notes of the runs</strong><ul>${runNotes.join("")}</ul></aside>`;
  return `${notes}<header><div class="kicker">sandfarm compare</div><h1>${comparison.runs.length} runs</h1><table class="numbers runs"><thead><tr><th>run</th><th>run id</th><th>model</th><th>modes</th><th>directory</th></tr></thead><tbody>${rows}</tbody></table></header>${partial}${different}`;
}

export function renderCompareHtml(comparison: Comparison): string {
  const body = [
    compareHeader(comparison),
    compareChart(comparison),
    sideBySideTable(comparison),
    gainsTable(comparison),
  ].join("\n");
  return page(`Compare ${comparison.runs.map((run) => run.runId).join(" vs ")}`, body);
}

// ---- page -----------------------------------------------------------------------------------

const CSS = `
:root { color-scheme: light; --text: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 48px; }
header { margin-bottom: 16px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 11px; color: var(--muted); font-weight: 600; }
h1 { font-size: 26px; margin: 2px 0 12px; word-break: break-all; }
h2 { font-size: 17px; margin: 28px 0 10px; }
h3 { font-size: 14px; margin: 0 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; }
.facts div { min-width: 0; }
.facts dt { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
.facts dd { margin: 0; font-weight: 500; word-break: break-word; }
.file { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.sub { color: var(--muted); font-size: 12px; font-weight: 400; }
.notes { background: #fffbeb; border: 1px solid #fcd34d; border-left: 5px solid #f59e0b; border-radius: 8px;
  padding: 10px 14px; margin: 14px 0; color: #78350f; }
.notes ul { margin: 4px 0 0; padding-left: 20px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin: 16px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-top: 4px solid #cbd5e1; border-radius: 10px; padding: 12px 16px; }
.card .label { font-size: 12px; color: var(--muted); font-weight: 600; }
.card .big { font-size: 28px; font-weight: 700; letter-spacing: -.01em; }
.card .unit { font-size: 14px; font-weight: 500; color: var(--muted); }
figure { background: #fff; border: 1px solid var(--line); border-radius: 10px; margin: 18px 0; padding: 16px 18px 10px; break-inside: avoid; }
figcaption { margin-bottom: 6px; }
figcaption .title { font-weight: 700; font-size: 16px; display: block; }
figcaption .explain { color: var(--muted); font-size: 12.5px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12.5px; margin: 4px 0 8px; }
.legend-entry { display: inline-flex; align-items: center; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 6px; vertical-align: -1px; }
svg { display: block; width: 100%; height: auto; overflow: visible; }
svg text { font-size: 13px; fill: var(--text); }
svg .tick { font-size: 11.5px; fill: var(--muted); }
svg .key { font-size: 11px; fill: var(--muted); }
svg .group { font-size: 13.5px; }
svg .strong, td.strong { font-weight: 700; }
svg .panel { font-size: 14px; font-weight: 700; }
svg .value { font-size: 12.5px; font-variant-numeric: tabular-nums; }
svg .missing { font-size: 12px; font-style: italic; fill: #9ca3af; }
svg .aside { font-size: 13.5px; font-weight: 700; font-variant-numeric: tabular-nums; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .rule { stroke: #d1d5db; stroke-width: 1; stroke-dasharray: 3 3; }
svg .track { fill: #f1f5f9; }
svg .pos, .pos { fill: #15803d; color: #15803d; }
svg .neg, .neg { fill: #b91c1c; color: #b91c1c; }
svg .zero, .zero, svg .ratio { fill: var(--muted); color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.pair { display: flex; flex-wrap: wrap; gap: 18px; margin-top: 18px; }
.half { flex: 1 1 360px; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
table.numbers { border-collapse: collapse; width: 100%; font-size: 13px; background: #fff; }
table.wide { border: 1px solid var(--line); }
table.numbers th, table.numbers td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.numbers th { font-size: 11.5px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; background: #f9fafb; }
table.numbers .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.numbers td.delta { font-weight: 600; }
table.numbers td.mode { white-space: nowrap; }
table.numbers th.num { white-space: normal; }
table.numbers th.run { text-align: center; }
table.numbers th .sub { text-transform: none; letter-spacing: 0; }
.scroll { overflow-x: auto; }
table.numbers tr.gap td, table.numbers td.gap { color: #9ca3af; font-style: italic; }
table.numbers td.warn { color: #b45309; font-weight: 600; }
table.runs { margin-top: 6px; }
.pill { display: inline-block; background: #ecfdf5; color: #065f46; border-radius: 999px; padding: 0 8px; font-size: 12px; margin: 1px 0; }
.pill.warn { background: #fef3c7; color: #92400e; }
.examples > .explain { color: var(--muted); font-size: 12.5px; margin: -4px 0 10px; }
details { background: #fff; border: 1px solid var(--line); border-radius: 10px; margin: 10px 0; min-width: 0; }
details > summary { cursor: pointer; list-style: none; padding: 10px 16px; display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; }
details > summary::before { content: "▸"; color: var(--muted); width: 10px; }
details[open] > summary::before { content: "▾"; }
details > summary::-webkit-details-marker { display: none; }
details[open] > summary { border-bottom: 1px solid var(--line); }
summary .domain { font-weight: 700; font-size: 15px; overflow-wrap: anywhere; }
summary .file { color: #374151; overflow-wrap: anywhere; }
.reward { border-radius: 999px; padding: 0 8px; font-size: 12px; font-weight: 600; font-variant-numeric: tabular-nums; }
.reward.pos { background: #dcfce7; }
.reward.partial { background: #fef3c7; color: #92400e; }
.reward.neg { background: #fee2e2; }
.example { padding: 12px 16px 14px; min-width: 0; }
.example .label { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; font-weight: 600; margin-bottom: 2px; }
.question { white-space: pre-wrap; overflow-wrap: anywhere; margin-bottom: 12px; }
ol.turns { margin: 0; padding-left: 28px; }
ol.turns > li { margin: 0 0 12px; padding-left: 4px; min-width: 0; }
ol.turns > li::marker { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.turn-head { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; margin-bottom: 4px; }
.tool { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; font-weight: 600;
  background: #1e293b; color: #f8fafc; border-radius: 5px; padding: 1px 7px; overflow-wrap: anywhere; }
.tool.none { background: #e5e7eb; color: #4b5563; font-style: italic; }
.chip { font-size: 11.5px; border-radius: 999px; padding: 0 8px; background: #f1f5f9; color: #334155; border: 1px solid #e2e8f0; overflow-wrap: anywhere; }
.chip.cap-computation { background: #f3e8ff; color: #6b21a8; border-color: #e9d5ff; }
.chip.cap-external_resource { background: #ccfbf1; color: #115e59; border-color: #99f6e4; }
.chip.cap-file_management { background: #e0f2fe; color: #075985; border-color: #bae6fd; }
.untagged { font-size: 11.5px; color: #9ca3af; font-style: italic; }
.error-tag { font-size: 11.5px; font-weight: 700; color: #b91c1c; text-transform: uppercase; letter-spacing: .04em; }
.example pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; line-height: 1.4;
  margin: 0; padding: 6px 10px; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 18em; overflow: auto; max-width: 100%; }
.example pre:empty::before { color: #9ca3af; font-style: italic; }
pre.input { background: #f8fafc; border: 1px solid var(--line); color: var(--text); }
pre.input.shell::before { content: "$ "; color: #9ca3af; }
pre.input:empty::before { content: "(no arguments)"; }
pre.observation { margin-top: 4px; color: var(--muted); background: #fff; border-left: 3px solid #e5e7eb; border-radius: 0 6px 6px 0; }
pre.observation:empty::before { content: "(no output)"; }
li.is-error pre.observation { color: #991b1b; background: #fef2f2; border-left-color: #ef4444; }
.outcome { display: flex; flex-wrap: wrap; gap: 8px 24px; margin-top: 4px; padding-top: 10px; border-top: 1px dashed var(--line); }
.answer-box { flex: 1 1 300px; min-width: 0; }
pre.answer { background: #f8fafc; border: 1px solid var(--line); color: var(--text); }
pre.answer.pos { background: #f0fdf4; border-color: #bbf7d0; color: #14532d; }
pre.answer.partial { background: #fffbeb; border-color: #fde68a; color: #78350f; }
pre.answer.neg { background: #fef2f2; border-color: #fecaca; color: #7f1d1d; }
.definitions { color: var(--muted); font-size: 12.5px; }
.definitions ul { padding-left: 18px; }
@media print { body { background: #fff; } main { padding: 0; } figure, .half, details { border-color: #d1d5db; } }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
