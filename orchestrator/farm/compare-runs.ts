/**
 * `sandfarm compare RUN_A RUN_B ...` on training runs: their curves overlaid, one color a run
 * (validation score and reward per step), and a table of where each started and ended (mean of
 * the first and last five validations): the LLM-RL vs sandbox-RL ablation when the runs trained
 * the same task family in each mode.
 *
 * @example
 * const runs = ["runs/llm-rl", "runs/sandbox-rl"].map(readTrainingRun);
 * process.stdout.write(compareTrainingMarkdown(runs));
 * writeFileSync("ablation.html", compareTrainingHtml(runs));
 */
import { escapeHtml as esc, htmlPage } from "../report/html-page.js";
import { lineChart } from "../report/line-chart.js";
import { figure, legend, PERCENT_TICKS } from "../report/svg-charts.js";
import type { TrainingRunFiles } from "./report-html.js";

const RUN_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2"];

const mean = (values: readonly number[]) =>
  values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN;

/** Every validation's score of a run, whatever its mode (a run validates in one mode or several). */
function validationScores(run: TrainingRunFiles): { step: number; score: number }[] {
  return run.validation.flatMap((point) =>
    Object.values(point.scores).length
      ? [{ step: point.step, score: mean(Object.values(point.scores)) }]
      : [],
  );
}

function modeOf(run: TrainingRunFiles): string {
  return ((run.config.run ?? {}) as { mode?: string }).mode ?? "-";
}

export interface TrainingComparisonRow {
  runId: string;
  mode: string;
  steps: number;
  validationFirst: number;
  validationLast: number;
  rewardFirst: number;
  rewardLast: number;
}

export function compareTrainingRuns(runs: readonly TrainingRunFiles[]): TrainingComparisonRow[] {
  return runs.map((run) => {
    const scores = validationScores(run).map((point) => point.score);
    const rewards = run.steps.map((step) => step.reward_mean);
    return {
      runId: run.runId,
      mode: modeOf(run),
      steps: run.steps.length,
      validationFirst: mean(scores.slice(0, 5)),
      validationLast: mean(scores.slice(-5)),
      rewardFirst: mean(rewards.slice(0, 5)),
      rewardLast: mean(rewards.slice(-5)),
    };
  });
}

const cell = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : "-");

export function compareTrainingMarkdown(runs: readonly TrainingRunFiles[]): string {
  const rows = compareTrainingRuns(runs);
  return [
    "| run | mode | steps | validation, first 5 | validation, last 5 | reward, first 5 steps | reward, last 5 steps |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (row) =>
        `| ${row.runId} | ${row.mode} | ${row.steps} | ${cell(row.validationFirst)} | ${cell(row.validationLast)} | ${cell(row.rewardFirst)} | ${cell(row.rewardLast)} |`,
    ),
    "",
  ].join("\n");
}

export function compareTrainingHtml(runs: readonly TrainingRunFiles[]): string {
  const color = (index: number) => RUN_COLORS[index % RUN_COLORS.length]!;
  const label = (run: TrainingRunFiles) => `${run.runId} (${modeOf(run)})`;
  const key = legend(runs.map((run, index) => ({ color: color(index), label: label(run) })));
  const overlay = (
    chart: string,
    title: string,
    explanation: string,
    points: (run: TrainingRunFiles) => { x: number; y: number }[],
  ) =>
    figure(
      chart,
      title,
      explanation,
      lineChart({
        ariaLabel: title,
        series: runs.map((run, index) => ({
          key: run.runId,
          label: label(run),
          color: color(index),
          points: points(run),
        })),
        yMin: 0,
        yMax: 1,
        yTicks: PERCENT_TICKS,
        xLabel: "step",
      }),
      key,
    );
  const table = compareTrainingRuns(runs)
    .map(
      (row) =>
        `<tr><th>${esc(row.runId)}</th><td>${esc(row.mode)}</td><td>${row.steps}</td><td>${cell(row.validationFirst)}</td><td>${cell(row.validationLast)}</td></tr>`,
    )
    .join("");
  const body = `<h1>Training runs compared</h1>
<table class="numbers"><thead><tr><th>run</th><th>mode</th><th>steps</th><th>validation, first 5</th><th>validation, last 5</th></tr></thead><tbody>${table}</tbody></table>
${overlay("validation", "Validation score", "Each run's validation score by training step.", (run) => validationScores(run).map((point) => ({ x: point.step, y: point.score })))}
${overlay("reward", "Reward per step", "Each run's mean training reward by step.", (run) => run.steps.map((step) => ({ x: step.step, y: step.reward_mean })))}`;
  return htmlPage("Training runs compared", body);
}
