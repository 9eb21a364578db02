/**
 * The eval report as one self-contained HTML page: the run's facts, headline scores, charts of
 * score, capability usage and tokens by domain and mode, pass@k and turns, sample rollouts and
 * every number in a table. Every text that comes from a report (model names, task files, notes,
 * domains, and the sample rollouts' questions, tool calls and outputs, written by a model) is
 * escaped. Each chart bar carries what it shows (`data-domain`, `data-mode`, `data-capability`,
 * `data-kind`) and `data-value`, the report's exact number.
 *
 * @example
 * writeFileSync("runs/eval-1/report.html", renderReportHtml(report));
 */
import { CAPABILITIES, type Capability } from "../agent/capabilities.js";
import { attrs, escapeHtml as esc, htmlPage } from "../report/html-page.js";
import {
  ASIDE_X,
  AXIS_HEIGHT,
  type BarSpec,
  type GroupSpec,
  LABEL_CHARS,
  LABEL_X,
  PERCENT_TICKS,
  PLOT_X,
  type Scale,
  type Segment,
  WIDTH,
  barChart,
  clip,
  coord,
  figure,
  fraction,
  legend,
  logScale,
  noData,
  scaleData,
} from "../report/svg-charts.js";
import {
  DASH,
  dateText,
  decimal,
  percent,
  points,
  ratioText,
  rewardText,
  signClass,
  tokenCount,
} from "./format.js";
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

export const MODE_ORDER: readonly Mode[] = ["sandbox", "llm"];
export const MODE_LABELS: Record<Mode, string> = { sandbox: "Sandbox", llm: "LLM" };
const CAPABILITY_LABELS: Record<Capability, string> = {
  computation: "computation",
  external_resource: "external resource",
  file_management: "file management",
};
export const OVERALL = "overall";

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

export function modeCell(mode: Mode): string {
  return `<td class="mode"><span class="swatch" style="background:${MODE_COLORS[mode].solid}"></span>${mode}</td>`;
}

export function domainCell(domain: string): string {
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
  // Reports written before the field existed have no `engines`.
  const engines = (report as Partial<EvalReport>).engines;
  if (engines)
    facts.push([
      "sandbox engines",
      `${engines.engines
        .map(
          (engine) =>
            `${esc(engine.name)} (${engine.healthy ? "healthy" : "ejected"}, ${engine.ejections} ejection(s), capacity ${engine.capacity})`,
        )
        .join(", ")}; ${engines.rerun} rollout(s) run again after an engine loss`,
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
  return htmlPage(`Eval report ${report.runId}`, body, EVAL_CSS);
}

/**
 * Rules of the eval pages beyond the kit's: the sample rollouts and the definitions. The compare
 * page carries them too, so that both pages keep one stylesheet.
 */
export const EVAL_CSS = `.examples > .explain { color: var(--muted); font-size: 12.5px; margin: -4px 0 10px; }
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
`;
