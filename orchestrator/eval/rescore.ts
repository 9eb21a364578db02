/**
 * `sandfarm rescore`: scores an eval run's saved trajectories again with another scorer (a
 * built-in one, the LLM judge, or a custom module), without rerunning a single episode. The
 * stop-reason rules apply as in the run (an episode that hit a limit still scores 0; an
 * infrastructure failure stays unscored). Writes a new run directory (default
 * `RUN/rescored-<scorer>`) with the re-scored trajectories and their report, and returns the old
 * and new scores side by side.
 *
 * @example
 * const result = await rescoreRun("runs/eval-1", { scorer: "rouge_l" });
 * result.report.domains.general?.sandbox?.score;
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Rewarder, RewarderConfigError } from "../../rewards/rewarder.js";
import { ConfigError } from "../../common/errors.js";
import { type LoadedReport, compareReports, loadReport } from "./compare.js";
import {
  type EvalRecord,
  scanLatestRecords,
  serializeEvalRecord,
  slimRecord,
  taskOfRecord,
  writeAll,
} from "./records.js";
import { type EvalReport, computeReport } from "./report.js";
import { writeReportFiles } from "./write-report.js";

export interface RescoreOptions {
  scorer: string;
  /** A custom scorer module (JS/TS exporting `score`), registered under `scorer`. */
  module?: string;
  /** The LLM judge, for `--scorer judge`. */
  judge?: { url: string; model: string };
  /** @default RUN/rescored-<scorer> */
  outputDir?: string;
  /** Scorer worker threads. @default 2 */
  workers?: number;
}

export interface RescoreResult {
  outputDir: string;
  report: EvalReport;
  /** The re-scored records that count, slimmed (`slimRecord`); the file has them whole. */
  records: EvalRecord[];
  /** The run's own report and the re-scored one, compared (first = original). */
  comparison: ReturnType<typeof compareReports>;
  /** Rollouts whose reward changed. */
  changed: number;
}

export async function rescoreRun(runDir: string, options: RescoreOptions): Promise<RescoreResult> {
  const path = join(runDir, "trajectories.jsonl");
  if (!existsSync(path))
    throw new ConfigError(
      `${runDir}: no trajectories.jsonl; give a directory \`sandfarm eval\` wrote`,
    );
  if (existsSync(join(runDir, "journal.jsonl")))
    throw new ConfigError(
      `${runDir} is a training run; rescore reads eval runs (their records keep each task's ground truth)`,
    );
  let rewarder: Rewarder;
  try {
    rewarder = await Rewarder.create({
      pool: { workers: options.workers ?? 2 },
      ...(options.module ? { custom: { [options.scorer]: { module: options.module } } } : {}),
      ...(options.judge
        ? { judge: { baseURL: options.judge.url, model: options.judge.model } }
        : {}),
    });
  } catch (error) {
    if (!(error instanceof RewarderConfigError)) throw error;
    throw new ConfigError(`--module ${options.module ?? ""}: ${error.message}`, { cause: error });
  }
  const outputDir = resolve(options.outputDir ?? join(runDir, `rescored-${options.scorer}`));
  if (outputDir === resolve(runDir))
    throw new ConfigError(
      `--output-dir ${options.outputDir ?? outputDir}: that is the run itself; give another directory (default RUN/rescored-<scorer>)`,
    );
  // Streamed: the records that count are scored RESCORE_BATCH at a time and written as they
  // go; memory keeps slim copies for the reports.
  const before: EvalRecord[] = [];
  const after: EvalRecord[] = [];
  let changed = 0;
  let output: number | undefined;
  const partial = join(outputDir, `trajectories.jsonl.partial-${process.pid}`);
  try {
    if (!rewarder.has(options.scorer))
      throw new ConfigError(
        `--scorer ${options.scorer}: no such scorer; known: ${rewarder.names().join(", ")}` +
          (options.scorer === "judge" ? " (the judge needs --judge-url and --judge-model)" : "") +
          " (or give --module PATH for a custom one)",
      );
    mkdirSync(outputDir, { recursive: true });
    // Written beside, renamed into place once complete: a failure leaves no half file.
    output = openSync(partial, "w");
    const fd = output;
    let batch: EvalRecord[] = [];
    const flush = async () => {
      const rescored = await Promise.all(
        batch.map((record) => rescoreRecord(rewarder, record, options.scorer)),
      );
      writeAll(fd, rescored.map((record) => `${serializeEvalRecord(record)}\n`).join(""));
      rescored.forEach((record, index) => {
        if (record.reward !== batch[index]!.reward) changed++;
        before.push(slimRecord(batch[index]!));
        after.push(slimRecord(record));
      });
      batch = [];
    };
    await scanLatestRecords(path, async (record) => {
      batch.push(record);
      if (batch.length >= RESCORE_BATCH) await flush();
    });
    await flush();
    closeSync(output);
    output = undefined;
    renameSync(partial, join(outputDir, "trajectories.jsonl"));
  } finally {
    if (output !== undefined) {
      closeSync(output);
      rmSync(partial, { force: true });
    }
    await rewarder.close();
  }
  const original = loadOriginal(runDir);
  const report = computeReport(after, {
    runId: `${original?.runId ?? runDir}-rescored-${options.scorer}`,
    modes: original?.modes ?? [...new Set(before.map((record) => record.mode))],
    ...(original?.policy ? { policy: original.policy } : {}),
    ...(original?.sandfarm ? { sandfarm: original.sandfarm } : {}),
    ...(original?.sandbox ? { sandbox: original.sandbox } : {}),
    taskFiles: original?.taskFiles ?? [],
    scoring: { judge: options.judge?.model ?? null, routes: { "*": options.scorer } },
    notes: [
      ...(original?.notes ?? []),
      `Re-scored from ${runDir} with the ${options.scorer} scorer for every task; no episode was rerun.`,
    ],
  });
  writeReportFiles(outputDir, report);
  const loaded: LoadedReport[] = [
    {
      dir: runDir,
      report: original ?? computeReport(before, { runId: runDir, modes: report.modes }),
    },
    { dir: outputDir, report },
  ];
  return {
    outputDir,
    report,
    records: after,
    comparison: compareReports(loaded),
    changed,
  };
}

/** Rollouts scored at once: enough to keep a judge's connections busy, few enough in memory. */
const RESCORE_BATCH = 32;

async function rescoreRecord(
  rewarder: Rewarder,
  record: EvalRecord,
  scorer: string,
): Promise<EvalRecord> {
  const outcome = await rewarder.reward({
    task: { ...taskOfRecord(record), scorer },
    answer: record.episode.answer,
    mode: record.mode,
    stopReason: record.episode.stopReason,
  });
  // An infrastructure failure of the episode stays one; the new scorer's outage is new.
  const { scorer: _previous, ...rest } = record;
  return {
    ...rest,
    reward: outcome.reward,
    status: outcome.status,
    trainable: outcome.trainable,
    ...(outcome.scorer ? { scorer: outcome.scorer } : {}),
  };
}

/** The run's own report, validated; none when the run never finished. */
function loadOriginal(runDir: string): EvalReport | undefined {
  return existsSync(join(runDir, "report.json")) ? loadReport(runDir).report : undefined;
}
