/**
 * A training run's report (`RUN_DIR/report.html`): one self-contained page, built from the same
 * page kit and chart modules as eval's, of what the run's files recorded: validation score and
 * reward per step (overall and per domain), pass rate, response length and turns, stop reasons,
 * staleness, the trainer's metrics from its acks (loss, KL to the sampler, clip fraction, grad
 * norm, entropy), the sampler-trainer logprob mismatch, throughput and policy-update pauses.
 * A file the run did not write (no validation set, the file sink) is a figure saying so.
 *
 * @example
 * writeTrainingReport("runs/run-1"); // runs/run-1/report.html
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { escapeHtml as esc, htmlPage } from "../report/html-page.js";
import { type LineSeries, lineChart } from "../report/line-chart.js";
import { figure, legend, noData, PERCENT_TICKS } from "../report/svg-charts.js";
import type { StepMetrics } from "./metrics.js";

export const TRAINING_REPORT_FILE = "report.html";

const COLORS = [
  "#2563eb",
  "#ea580c",
  "#16a34a",
  "#9333ea",
  "#dc2626",
  "#0891b2",
  "#ca8a04",
  "#4b5563",
];

interface ValidationLine {
  step?: number;
  version?: number;
  scores?: Partial<Record<string, { score: number; n: number }>>;
  [mode: string]: unknown;
}

interface TrainerAckLine {
  sequence: number;
  metrics: Record<string, number>;
}

interface PolicyLine {
  type: string;
  version: number;
  pauseMs?: number;
}

/** What the report is drawn from, read from a run directory. */
export interface TrainingRunFiles {
  runId: string;
  config: Record<string, unknown>;
  steps: StepMetrics[];
  validation: { step: number; scores: Record<string, number> }[];
  acks: TrainerAckLine[];
  updates: PolicyLine[];
}

function jsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

/** The run's validation scores per mode, from `validation.jsonl` (one line per validation). */
function validationPoints(lines: readonly ValidationLine[]): TrainingRunFiles["validation"] {
  return lines.map((line) => {
    const scores: Record<string, number> = {};
    for (const mode of ["sandbox", "llm"]) {
      const entry = line[mode] as { score?: number } | undefined;
      if (typeof entry?.score === "number") scores[mode] = entry.score;
    }
    return { step: line.step ?? 0, scores };
  });
}

export function readTrainingRun(runDir: string): TrainingRunFiles {
  const config = existsSync(join(runDir, "config.json"))
    ? (JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")) as Record<string, unknown>)
    : {};
  const run = (config.run ?? {}) as { id?: string };
  return {
    runId: run.id ?? runDir,
    config,
    steps: jsonLines<StepMetrics>(join(runDir, "metrics.jsonl")),
    validation: validationPoints(jsonLines<ValidationLine>(join(runDir, "validation.jsonl"))),
    acks: jsonLines<TrainerAckLine>(join(runDir, "trainer.jsonl")),
    updates: jsonLines<PolicyLine>(join(runDir, "journal.jsonl")).filter(
      (line) => line.type === "policy",
    ),
  };
}

const series = (
  key: string,
  label: string,
  index: number,
  points: LineSeries["points"],
  dashed = false,
): LineSeries => ({ key, label, color: COLORS[index % COLORS.length]!, points, dashed });

/** A line chart in a figure, or a figure saying why there is no data. */
function curves(
  chart: string,
  title: string,
  explanation: string,
  lines: LineSeries[],
  axes: { percent?: boolean; xLabel: string },
): string {
  const drawn = lines.filter((line) => line.points.length > 0);
  if (drawn.length === 0) return noData(chart, title, `${explanation} Not recorded in this run.`);
  const svg = lineChart({
    ariaLabel: title,
    series: drawn,
    ...(axes.percent ? { yMin: 0, yMax: 1, yTicks: PERCENT_TICKS } : {}),
    xLabel: axes.xLabel,
  });
  const key =
    drawn.length > 1 ? legend(drawn.map((line) => ({ color: line.color, label: line.label }))) : "";
  return figure(chart, title, explanation, svg, key);
}

const perStep = (steps: readonly StepMetrics[], pick: (step: StepMetrics) => number) =>
  steps
    .map((step) => ({ x: step.step, y: pick(step) }))
    .filter((point) => Number.isFinite(point.y));

function summaryTable(files: TrainingRunFiles): string {
  const run = (files.config.run ?? {}) as { mode?: string };
  const policy = (files.config.policy ?? {}) as { model?: string };
  const last = files.validation.at(-1);
  const first = files.validation[0];
  const rows: [string, string][] = [
    ["mode", run.mode ?? "-"],
    ["policy", policy.model ?? "-"],
    ["steps", String(files.steps.length)],
    ["rollouts", String(files.steps.reduce((sum, step) => sum + step.rollouts, 0))],
    ["policy versions committed", String(files.updates.length)],
    ["batches acked by the trainer", String(files.acks.length)],
    [
      "validation, first -> last",
      first && last
        ? Object.keys(last.scores)
            .map(
              (mode) =>
                `${mode} ${(first.scores[mode] ?? 0).toFixed(3)} -> ${last.scores[mode]!.toFixed(3)}`,
            )
            .join("; ")
        : "no validation set",
    ],
  ];
  return `<table class="numbers"><tbody>${rows
    .map(([label, value]) => `<tr><th>${esc(label)}</th><td>${esc(value)}</td></tr>`)
    .join("")}</tbody></table>`;
}

/**
 * The sandbox engines at the last step that recorded them: health, ejections, sandboxes in use
 * and warm against capacity; nothing when the run had no fleet (plain mode, older runs).
 */
function enginesTable(steps: readonly StepMetrics[]): string {
  const last = steps.findLast((step) => step.engines && step.engines.length > 0);
  if (!last?.engines) return "";
  const rows = last.engines
    .map(
      (engine) =>
        `<tr><th>${esc(engine.name)}</th><td>${engine.healthy ? "yes" : "no (ejected)"}</td><td>${engine.ejections}</td><td>${engine.in_use}</td><td>${engine.warm}</td><td>${engine.capacity}</td></tr>`,
    )
    .join("");
  return `<section data-table="engines"><h2>Sandbox engines</h2><p>At step ${last.step}. Ejections count this session's; their groups ran again elsewhere.</p><table class="numbers"><thead><tr><th>engine</th><th>healthy</th><th>ejections</th><th>in use</th><th>warm</th><th>capacity</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function trainingReportHtml(files: TrainingRunFiles): string {
  const { steps, acks } = files;
  const domains = [...new Set(steps.flatMap((step) => Object.keys(step.domains)))].sort();
  const modes = [...new Set(files.validation.flatMap((point) => Object.keys(point.scores)))];
  const reasons = [...new Set(steps.flatMap((step) => Object.keys(step.stop_reasons)))].sort();
  const ackMetric = (name: string) =>
    acks
      .filter((ack) => Number.isFinite(ack.metrics[name]))
      .map((ack) => ({ x: ack.sequence, y: ack.metrics[name]! }));
  const perRollout = (step: StepMetrics, value: number) =>
    step.rollouts ? value / step.rollouts : Number.NaN;
  const charts = [
    curves(
      "validation",
      "Validation score",
      "Mean score on the validation set at each validation, per mode.",
      modes.map((mode, index) =>
        series(
          mode,
          mode,
          index,
          files.validation
            .filter((point) => mode in point.scores)
            .map((point) => ({ x: point.step, y: point.scores[mode]! })),
        ),
      ),
      { percent: true, xLabel: "step" },
    ),
    curves(
      "reward",
      "Reward per step",
      "Mean reward of the step's rollouts, overall and per domain.",
      [
        series(
          "mean",
          "mean",
          0,
          perStep(steps, (step) => step.reward_mean),
        ),
        ...(domains.length > 1
          ? domains.map((domain, index) =>
              series(
                domain,
                domain,
                index + 1,
                perStep(steps, (step) => step.domains[domain]?.reward_mean ?? Number.NaN),
                true,
              ),
            )
          : []),
      ],
      { percent: true, xLabel: "step" },
    ),
    curves(
      "pass-rate",
      "Pass rate",
      "Share of the step's rollouts with reward 1.",
      [
        series(
          "accuracy",
          "pass rate",
          0,
          perStep(steps, (step) => step.accuracy),
        ),
      ],
      { percent: true, xLabel: "step" },
    ),
    curves(
      "length",
      "Response length and turns",
      "Completion tokens per rollout, and model calls per rollout.",
      [
        series(
          "tokens",
          "completion tokens / rollout",
          0,
          perStep(steps, (step) => perRollout(step, step.completion_tokens)),
        ),
        series(
          "turns",
          "calls / rollout",
          1,
          perStep(steps, (step) => step.calls_mean),
        ),
      ],
      { xLabel: "step" },
    ),
    curves(
      "stop-reasons",
      "Stop reasons",
      "Share of the step's rollouts ending each way.",
      reasons.map((reason, index) =>
        series(
          reason,
          reason,
          index,
          perStep(steps, (step) => perRollout(step, step.stop_reasons[reason] ?? 0)),
        ),
      ),
      { percent: true, xLabel: "step" },
    ),
    curves(
      "staleness",
      "Staleness",
      "Policy versions between a batched group's oldest token and the committed version.",
      [
        series(
          "mean",
          "mean",
          0,
          perStep(steps, (step) => step.staleness_mean),
        ),
        series(
          "max",
          "max",
          1,
          perStep(steps, (step) => step.staleness_max),
          true,
        ),
      ],
      { xLabel: "step" },
    ),
    curves(
      "loss",
      "Trainer loss",
      "The policy-gradient loss of each trained batch (from the trainer's acks).",
      [series("loss", "loss", 0, ackMetric("loss"))],
      { xLabel: "batch" },
    ),
    curves(
      "trainer",
      "KL to the sampler, clip fraction, entropy",
      "From the trainer's acks: how far each update moved from the sampling policy.",
      [
        series("kl", "KL to the sampler", 0, ackMetric("kl_sampler")),
        series("clip", "clip fraction", 1, ackMetric("clip_fraction")),
        series("entropy", "entropy", 2, ackMetric("entropy")),
      ],
      { xLabel: "batch" },
    ),
    curves(
      "grad-norm",
      "Gradient norm",
      "Before clipping, per trained batch.",
      [series("grad", "grad norm", 0, ackMetric("grad_norm"))],
      { xLabel: "batch" },
    ),
    curves(
      "mismatch",
      "Logprob mismatch",
      "|trainer logprob - sampler logprob| over trained tokens, under the weights of the version that sampled them.",
      [
        series("max", "max", 0, ackMetric("logprob_abs_diff_max")),
        series("mean", "mean", 1, ackMetric("logprob_abs_diff_mean")),
      ],
      { xLabel: "batch" },
    ),
    curves(
      "throughput",
      "Throughput",
      "Rollouts and tokens per second, per step.",
      [
        series(
          "rollouts",
          "rollouts/s",
          0,
          perStep(steps, (step) => step.rollouts_per_s),
        ),
        series(
          "tokens",
          "tokens/s / 100",
          1,
          perStep(steps, (step) => step.tokens_per_s / 100),
        ),
      ],
      { xLabel: "step" },
    ),
    curves(
      "pauses",
      "Policy-update pauses",
      "Milliseconds from an update's begin to its commit: how long model calls were held.",
      [
        series(
          "pause",
          "pause ms",
          0,
          files.updates
            .filter((line) => line.pauseMs !== undefined)
            .map((line) => ({ x: line.version, y: line.pauseMs! })),
        ),
      ],
      { xLabel: "policy version" },
    ),
  ];
  const body = `<h1>Training run ${esc(files.runId)}</h1>
${summaryTable(files)}
${enginesTable(steps)}
${charts.join("\n")}`;
  return htmlPage(`Training report ${files.runId}`, body);
}

/** Writes RUN_DIR/report.html from the run's files; returns its path. */
export function writeTrainingReport(runDir: string): string {
  const path = join(runDir, TRAINING_REPORT_FILE);
  writeFileSync(path, trainingReportHtml(readTrainingRun(runDir)));
  return path;
}
