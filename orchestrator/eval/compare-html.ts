/**
 * The comparison of eval runs as one self-contained HTML page: the runs, a chart of each
 * domain's score per run with its difference from the first run, the scores side by side and the
 * sandbox gains. Run ids, models, directories, domains and notes are escaped. Each chart bar
 * carries `data-run`, `data-domain`, `data-mode` and `data-value`, the report's exact number.
 *
 * @example
 * writeFileSync("compare.html", renderCompareHtml(compareReports(loaded)));
 */
import { attrs, escapeHtml as esc, htmlPage } from "../report/html-page.js";
import {
  type BarSpec,
  type GroupSpec,
  PERCENT_TICKS,
  type Scale,
  barChart,
  figure,
  fraction,
  legend,
  noData,
} from "../report/svg-charts.js";
import type { Comparison, ComparisonRow } from "./compare.js";
import { DASH, percent, points, signClass } from "./format.js";
import { EVAL_CSS, MODE_LABELS, MODE_ORDER, OVERALL, domainCell, modeCell } from "./report-html.js";

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
  return htmlPage(
    `Compare ${comparison.runs.map((run) => run.runId).join(" vs ")}`,
    body,
    EVAL_CSS,
  );
}
