/**
 * `sandfarm compare`: runs evaluated on the same task sets side by side (checkpoints of LLM-RL
 * and sandbox-RL, or two models), per domain and mode, with each run's difference from the
 * first (the baseline). A domain or mode a run lacks is a gap, not a zero.
 *
 * @example
 * const comparison = compareReports([{ dir: "runs/base", report: a }, { dir: "runs/rl", report: b }]);
 * comparison.rows.find((row) => row.domain === "math" && row.mode === "sandbox")?.deltas[1];
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../common/errors.js";
import { type EvalReport, type Mode, REPORT_SCHEMA_VERSION } from "./report.js";

export interface ComparedRun {
  /** The run directory as given. */
  dir: string;
  runId: string;
  model: string | null;
  modes: Mode[];
  /** The run's report notes (e.g. that its policy was the stub). */
  notes: string[];
}

export interface ComparisonRow {
  /** A domain, or "overall" (the mean over all rollouts). */
  domain: string;
  mode: Mode;
  /** Per run, in the order given; null where the run has no such rollouts. */
  scores: (number | null)[];
  n: (number | null)[];
  /** Per run, rollouts lost to infrastructure failures (not scored); null for a gap. */
  failed: (number | null)[];
  /** Per run, its score minus the first run's; null for the first run or a gap. */
  deltas: (number | null)[];
}

export interface GainRow {
  domain: string;
  /** Per run, sandbox score - LLM score; null without both modes. */
  gains: (number | null)[];
}

export interface Comparison {
  runs: ComparedRun[];
  domains: string[];
  rows: ComparisonRow[];
  gains: GainRow[];
  /** Domains not every run evaluated (the comparison is partial there). */
  partial: string[];
  /**
   * Runs whose task files (by SHA-256) differ from the first run's: their scores are not over the
   * same tasks. One line per such run.
   */
  differentTasks: string[];
}

export interface LoadedReport {
  dir: string;
  report: EvalReport;
}

const summarySchema = z.looseObject({
  score: z.number().min(0).max(1),
  n: z.number().int().min(0),
  failed: z.number().int().min(0),
});
const modesSchema = {
  sandbox: summarySchema.optional(),
  llm: summarySchema.optional(),
  gain: z.number().nullable(),
};

/** What compare and the renderings read of a report, checked before use. */
const reportSchema = z.looseObject({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  kind: z.literal("sandfarm-eval-report"),
  runId: z.string(),
  modes: z.array(z.enum(["sandbox", "llm"])),
  policy: z.looseObject({ model: z.string() }).nullable(),
  notes: z.array(z.string()),
  taskFiles: z.array(z.looseObject({ file: z.string(), sha256: z.string() })),
  domains: z.record(z.string(), z.looseObject(modesSchema)),
  overall: z.looseObject(modesSchema),
});

/** Reads RUN/report.json; a directory without one, or a damaged one, is named with the fix. */
export function loadReport(dir: string): LoadedReport {
  const path = join(dir, "report.json");
  if (!existsSync(path))
    throw new ConfigError(
      `${dir}: no report.json; give a directory \`sandfarm eval\` wrote (or run \`sandfarm eval --resume ${dir}\` to finish it)`,
    );
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`${path}: not JSON (${(error as Error).message})`);
  }
  const parsed = reportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `${path}: not a sandfarm eval report this version reads (${issue.path.join(".") || "(report)"}: ${issue.message})`,
    );
  }
  return { dir, report: value as EvalReport };
}

function differentTasks(loaded: readonly LoadedReport[]): string[] {
  const hashes = (report: EvalReport) =>
    new Set(report.taskFiles.map((entry) => entry.sha256).filter((hash) => hash !== ""));
  const base = hashes(loaded[0]!.report);
  return loaded.slice(1).flatMap(({ report }, index) => {
    const mine = hashes(report);
    const missing = [...base].filter((hash) => !mine.has(hash)).length;
    const extra = [...mine].filter((hash) => !base.has(hash)).length;
    if (missing === 0 && extra === 0) return [];
    return [
      `run ${index + 2} was evaluated on other task files than run 1 (${missing} of run 1's not used, ${extra} others)`,
    ];
  });
}

export function compareReports(loaded: readonly LoadedReport[]): Comparison {
  if (loaded.length < 2)
    throw new ConfigError("compare needs at least two runs: sandfarm compare RUN RUN...");
  const reports = loaded.map((entry) => entry.report);
  const domains = [...new Set(reports.flatMap((report) => Object.keys(report.domains)))].sort();
  const modes: Mode[] = (["sandbox", "llm"] as const).filter((mode) =>
    reports.some((report) => report.modes.includes(mode)),
  );
  const rows: ComparisonRow[] = [];
  const rowFor = (
    domain: string,
    mode: Mode,
    pick: (report: EvalReport) => { score: number; n: number; failed: number } | undefined,
  ) => {
    const picked = reports.map(pick);
    const scores = picked.map((summary) => (summary && summary.n > 0 ? summary.score : null));
    const base = scores[0];
    rows.push({
      domain,
      mode,
      scores,
      n: picked.map((summary) => summary?.n ?? null),
      failed: picked.map((summary) => summary?.failed ?? null),
      deltas: scores.map((score, index) =>
        index === 0 || score === null || base === null || base === undefined ? null : score - base,
      ),
    });
  };
  for (const domain of domains)
    for (const mode of modes) rowFor(domain, mode, (report) => report.domains[domain]?.[mode]);
  for (const mode of modes) rowFor("overall", mode, (report) => report.overall[mode]);
  const gains: GainRow[] = [...domains, "overall"].map((domain) => ({
    domain,
    gains: reports.map((report) =>
      domain === "overall" ? report.overall.gain : (report.domains[domain]?.gain ?? null),
    ),
  }));
  return {
    runs: loaded.map(({ dir, report }) => ({
      dir,
      runId: report.runId,
      model: report.policy?.model ?? null,
      modes: report.modes,
      notes: report.notes,
    })),
    domains,
    rows,
    gains,
    partial: domains.filter((domain) => reports.some((report) => !report.domains[domain])),
    differentTasks: differentTasks(loaded),
  };
}
