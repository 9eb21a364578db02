/**
 * `sandfarm eval`, the run: every task of the sets, in each mode, `repeats` times (per domain if
 * configured), under the configured episode limits and concurrency, scored as it ends. Each
 * rollout is appended to `trajectories.jsonl` (one fsynced line, the run's commit point) before
 * it counts, so a crash loses at most the rollouts in flight: `--resume RUN_DIR` runs exactly the
 * task/mode/repeat keys the file lacks (and again those lost to infrastructure failures), and a
 * torn last line is cut off. The report (`report.json`, `.md`, `.html`) is computed from the
 * file's records once every key is done.
 *
 * Run directory: `config.json` (the resolved config), `task-files.json` (each task file's
 * SHA-256) and `sandbox-image.json` (the image's id; a resume refuses a changed file or image),
 * `trajectories.jsonl`, `report.json`, `report.md`, `report.html`.
 *
 * @example
 * const result = await runEvaluation({ config });
 * result.report.domains.math?.gain;
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { type BadRow, describeBadRow, readTasks } from "../../datasets/load.js";
import type { Task } from "../../datasets/task.js";
import { EVALUATION_DOMAIN_ROUTES, DEFAULT_DOMAIN_ROUTES } from "../../rewards/route.js";
import { runEpisode } from "../agent/episode.js";
import type { Episode } from "../agent/episode-record.js";
import { ConfigError } from "../../common/errors.js";
import { Semaphore } from "../util/semaphore.js";
import { MIN_CONTEXT_TOKENS } from "../config/defaults.js";
import { type FittedEpisode, fitToEndpoint } from "../launch/endpoint-limits.js";
import { episodeOptionsFor } from "../launch/episode-options.js";
import { evalSampling } from "../config/sampling.js";
import { policyClientFor, preflightPolicy } from "../launch/policy.js";
import { raisePriority } from "../launch/priority.js";
import { fingerprint, gitRevision, imageProvenance } from "../launch/provenance.js";
import { rewarderFor } from "../launch/rewarder.js";
import { startSandboxFleet } from "../launch/sandboxes.js";
import { enginesFromSelectors } from "../sandbox/engines.js";
import type { SandboxFleet } from "../sandbox/fleet.js";
import { SANDFARM_VERSION } from "../version.js";
import { type EvalConfig, modesOf, parseEvalConfig } from "../config/eval.js";
import {
  type EvalRecord,
  EVAL_RECORD_SCHEMA_VERSION,
  readLatestRecords,
  recordKey,
  recordedTask,
  serializeEvalRecord,
  DurableAppender,
  slimRecord,
} from "./records.js";
import {
  type EnginesFacts,
  type EvalReport,
  type Mode,
  type ReportMeta,
  computeReport,
} from "./report.js";
import { writeReportFiles } from "./write-report.js";

export interface EvalRunOptions {
  /** A new run's config; unset with `resumeDir`. */
  config?: EvalConfig;
  /** Continue this run directory (its config.json is the config). */
  resumeDir?: string;
  /**
   * What a resumed run may change (same model, same tasks): where the policy is served and how
   * many episodes run at once; saved into its config.json.
   */
  resumeOverrides?: { policyUrls?: string[]; concurrency?: number; engines?: string[] };
  /** Skip the policy endpoint's preflight. @default false */
  skipDoctor?: boolean;
  /** Aborting stops starting rollouts and ends running ones; the report is not written. */
  signal?: AbortSignal;
  onProgress?: (progress: EvalProgress) => void;
  /** A setting was adjusted to fit the endpoint (e.g. a budget above the served context). */
  onWarning?: (message: string) => void;
}

export interface EvalProgress {
  done: number;
  total: number;
  /** Already in the file when the run (re)started. */
  resumed: number;
  failed: number;
  /** Rollouts run again because their sandbox engine was ejected under them. */
  engineRetries?: number;
  last?: { taskId: string; mode: Mode; reward: number; stopReason: string };
}

export interface EvalRunResult {
  runDir: string;
  /** Undefined when the run was cancelled before every rollout was done. */
  report?: EvalReport;
  /**
   * The records that count, slimmed (`slimRecord`: no conversation, no token ids); the whole
   * records are in RUN_DIR/trajectories.jsonl.
   */
  records: EvalRecord[];
  cancelled: boolean;
}

interface WorkItem {
  task: Task;
  mode: Mode;
  repeat: number;
}

const TRAJECTORIES = "trajectories.jsonl";

const taskFilesSchema = z.array(z.strictObject({ file: z.string(), sha256: z.string() }));

/**
 * A new run's id (the config's, else `eval-<timestamp>`) and directory (`outputDir`, else
 * `dir/id`). A caller that fixes the id first (to log there from the start) gets the same one.
 */
export function newEvalRunDirectory(config: Pick<EvalConfig, "id" | "dir" | "outputDir">): {
  id: string;
  runDir: string;
} {
  const id = config.id ?? `eval-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  return { id, runDir: resolve(config.outputDir ?? join(config.dir, id)) };
}

function runDirectory(options: EvalRunOptions): { runDir: string; config: EvalConfig } {
  if (options.resumeDir) {
    const runDir = resolve(options.resumeDir);
    const path = join(runDir, "config.json");
    if (!existsSync(path))
      throw new ConfigError(
        `--resume ${options.resumeDir}: no config.json there; give a directory \`sandfarm eval\` created`,
      );
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new ConfigError(
        `${path}: not JSON (${(error as Error).message}); the run's config is damaged, start a new run`,
      );
    }
    const config = parseEvalConfig(value, path);
    const overrides = options.resumeOverrides;
    return {
      runDir,
      config: {
        ...config,
        ...(overrides?.concurrency ? { concurrency: overrides.concurrency } : {}),
        ...(overrides?.policyUrls
          ? { policy: { ...config.policy, urls: overrides.policyUrls } }
          : {}),
        ...(overrides?.engines
          ? {
              sandbox: {
                ...config.sandbox,
                engines: enginesFromSelectors(
                  overrides.engines,
                  config.sandbox.engines,
                  process.env,
                ),
              },
            }
          : {}),
      },
    };
  }
  if (!options.config)
    throw new ConfigError("give task files (--tasks) or a config, or --resume RUN_DIR");
  const { id, runDir } = newEvalRunDirectory(options.config);
  if (existsSync(join(runDir, TRAJECTORIES)))
    throw new ConfigError(
      `${runDir} already holds an eval run; continue it with \`sandfarm eval --resume ${runDir}\` or give another --output-dir`,
    );
  // Task files by absolute path, so `--resume` works from any directory.
  return {
    runDir,
    config: { ...options.config, id, tasks: options.config.tasks.map((file) => resolve(file)) },
  };
}

interface LoadedTasks {
  tasks: Task[];
  /** Tasks kept per file, in config order. */
  perFile: number[];
  /** Each file's SHA-256 when the run (re)started. */
  sha256: string[];
  /** Rows passed over with `onBadRow: skip`, each as `FILE:LINE: field: problem`. */
  skipped: string[];
}

async function loadTasks(config: EvalConfig): Promise<LoadedTasks> {
  config.tasks.forEach((file, index) => {
    if (!existsSync(file))
      throw new ConfigError(
        `tasks[${index}]: no such file ${file}; give a JSONL, Parquet or Arrow task file`,
      );
  });
  const tasks: Task[] = [];
  const perFile: number[] = [];
  const sha256 = await Promise.all(
    config.tasks.map(async (file) => (await fingerprint(file)).sha256),
  );
  const perDomain = new Map<string, number>();
  const skipped: BadRow[] = [];
  // One id space across the files: a duplicate id names both places.
  const knownIds = new Map<string, { file: string; where: string }>();
  for (const file of config.tasks) {
    let kept = 0;
    for await (const task of readTasks(file, {
      mapping: config.mapping,
      knownIds,
      onBadRow: config.onBadRow,
      skipped,
      ...(config.domains.length > 0 ? { domains: config.domains } : {}),
    })) {
      const count = perDomain.get(task.domain) ?? 0;
      if (config.limit !== undefined && count >= config.limit) continue;
      perDomain.set(task.domain, count + 1);
      tasks.push(task);
      kept++;
    }
    perFile.push(kept);
  }
  if (tasks.length === 0)
    throw new ConfigError(
      `no tasks in ${config.tasks.join(", ")}${config.domains.length > 0 ? ` for domains ${config.domains.join(", ")}` : ""}`,
    );
  return { tasks, perFile, sha256, skipped: skipped.map(describeBadRow) };
}

/** The report's header facts; the same on a resumed run (they come from the files). */
function reportMeta(
  config: EvalConfig,
  loaded: LoadedTasks,
  sandbox: Record<string, string> | undefined,
  fitted: FittedEpisode,
): ReportMeta {
  return {
    ...(sandbox ? { sandbox } : {}),
    runId: config.id!,
    modes: modesOf(config),
    policy: { model: config.policy.model, urls: config.policy.urls },
    sandfarm: { version: SANDFARM_VERSION, git: gitRevision() },
    taskFiles: config.tasks.map((file, index) => ({
      file,
      sha256: loaded.sha256[index]!,
      tasks: loaded.perFile[index]!,
    })),
    scoring: {
      judge: config.rewards.judge?.model ?? null,
      routes: config.rewards.judge ? EVALUATION_DOMAIN_ROUTES : DEFAULT_DOMAIN_ROUTES,
    },
    notes: config.notes,
    skippedRows: loaded.skipped,
    generation: {
      sampling: Object.fromEntries(
        modesOf(config).map((mode) => [mode, evalSampling(config.policy.sampling, mode)]),
      ),
      ...(config.policy.chatTemplateKwargs
        ? { chatTemplateKwargs: config.policy.chatTemplateKwargs }
        : {}),
      endpoint: {
        contextTokens: fitted.contextTokens,
        contextSource: fitted.contextSource,
        maxTotalTokens: fitted.episode.maxTotalTokens,
        maxTokensPerCall: fitted.episode.maxTokensPerCall,
      },
    },
  };
}

export function repeatsFor(config: EvalConfig, domain: string): number {
  return config.repeatsByDomain[domain] ?? config.repeats;
}

/** Reads a JSON file the run wrote, validated; damage names the file. */
function readRunFile<T>(path: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`${path}: not JSON (${(error as Error).message}); start a new run`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ConfigError(`${path}: damaged (${parsed.error.issues[0]!.message}); start a new run`);
  return parsed.data;
}

export async function runEvaluation(options: EvalRunOptions): Promise<EvalRunResult> {
  const { runDir, config } = runDirectory(options);
  const loaded = await loadTasks(config);
  const { tasks } = loaded;
  const modes = modesOf(config);
  // A resumed run must see the task files and the image it started on, or its records would
  // mix two versions of a task or two sandboxes. Checked first: nothing runs on a mismatch.
  const filesPath = join(runDir, "task-files.json");
  const imagePath = join(runDir, "sandbox-image.json");
  const files = config.tasks.map((file, index) => ({ file, sha256: loaded.sha256[index]! }));
  const sandbox = modes.includes("sandbox") ? await imageProvenance(config) : undefined;
  if (options.resumeDir && existsSync(filesPath)) {
    for (const entry of readRunFile(filesPath, taskFilesSchema)) {
      const now = files.find((candidate) => candidate.file === entry.file);
      if (now?.sha256 !== entry.sha256)
        throw new ConfigError(
          `${entry.file} changed since the eval run started (sha256 ${entry.sha256.slice(0, 12)}... is now ` +
            `${now?.sha256.slice(0, 12) ?? "missing"}...); restore the file or start a new run`,
        );
    }
  }
  if (options.resumeDir && sandbox && existsSync(imagePath)) {
    const before = readRunFile(imagePath, z.record(z.string(), z.string()));
    if (before.id !== sandbox.id)
      throw new ConfigError(
        `the sandbox image ${sandbox.image} changed since the eval run started (id ${before.id?.slice(7, 19) ?? "?"} is now ` +
          `${sandbox.id?.slice(7, 19) ?? "?"}); rebuild the old one or start a new run`,
      );
  }
  if (!options.skipDoctor)
    await preflightPolicy(config.policy, MIN_CONTEXT_TOKENS, modes.includes("sandbox"));
  const fitted = await fitToEndpoint(config.policy, config.episode);
  for (const warning of fitted.warnings) options.onWarning?.(warning);
  mkdirSync(runDir, { recursive: true });
  const configPath = join(runDir, "config.json");
  if (!options.resumeDir || options.resumeOverrides)
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  if (!options.resumeDir) {
    writeFileSync(filesPath, `${JSON.stringify(files, null, 2)}\n`);
    if (sandbox) writeFileSync(imagePath, `${JSON.stringify(sandbox, null, 2)}\n`);
  }

  // What the file already holds: the last record of a key wins; keys lost to infrastructure
  // failures run again.
  const trajectoriesPath = join(runDir, TRAJECTORIES);
  const existing = await readLatestRecords(trajectoriesPath, slimRecord);
  if (existing.tornBytes > 0) truncateSync(trajectoriesPath, existing.goodBytes);
  const done = new Map<string, EvalRecord>();
  for (const record of existing.records)
    done.set(
      recordKey({ taskId: record.task.id, mode: record.mode, repeat: record.repeat }),
      record,
    );

  // Modes interleaved, so plain-mode rollouts (no sandbox) run while sandboxes start.
  const work: WorkItem[] = [];
  for (const task of tasks)
    for (let repeat = 0; repeat < repeatsFor(config, task.domain); repeat++)
      for (const mode of modes) {
        const previous = done.get(recordKey({ taskId: task.id, mode, repeat }));
        if (previous?.trainable) continue;
        work.push({ task, mode, repeat });
      }
  const total = work.length + [...done.values()].filter((record) => record.trainable).length;
  const progress: EvalProgress = {
    done: total - work.length,
    total,
    resumed: total - work.length,
    failed: 0,
  };
  options.onProgress?.({ ...progress });

  const closers: (() => Promise<void> | void)[] = [];
  const file = openSync(trajectoriesPath, "a");
  closers.push(() => closeSync(file));
  const appender = new DurableAppender(file);
  let cancelled = false;
  let engines: EnginesFacts["engines"] | undefined;
  try {
    closers.push(raisePriority(config.nice));
    // One policy version throughout: no cache salt per version.
    const policy = policyClientFor(config.policy, { cacheSaltPerVersion: false });
    closers.push(() => policy.close());
    // With a judge, paper-style routes: physics and long context are judged.
    const rewarder = await rewarderFor(
      config.rewards,
      config.scoring,
      config.rewards.judge ? { byDomain: EVALUATION_DOMAIN_ROUTES } : {},
    );
    closers.push(() => rewarder.close());
    let pool: SandboxFleet | undefined;
    if (work.some((item) => item.mode === "sandbox")) {
      const started = await startSandboxFleet(config.sandbox, config.id!, {
        warmSize: Math.min(config.concurrency, 8),
        maxConcurrentStarts: config.sandboxStarts,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
      closers.push(() => started.close());
      pool = started;
    }

    const slots = new Semaphore(config.concurrency);
    // One failure (a full disk, an unexpected error) stops the rest before anything closes.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const settled = await Promise.allSettled(
      work.map(async (item) => {
        await slots.acquire();
        try {
          if (signal.aborted) return;
          const id = `${config.id}-${item.mode}-${item.task.id}-${item.repeat}`;
          let episode: Episode;
          for (let attempt = 0; ; attempt++) {
            const ejections = pool?.ejections ?? 0;
            episode = await runEpisode(
              item.task,
              item.mode,
              { policy, ...(pool ? { sandboxes: pool } : {}) },
              { rolloutId: id, groupId: `${config.id}-${item.mode}-${item.task.id}` },
              {
                ...episodeOptionsFor(config.episode, {
                  fitted,
                  sampling: evalSampling(config.policy.sampling, item.mode),
                }),
                signal,
              },
            );
            if (episode.stopReason !== "sandbox_error" || !pool) break;
            // Lost with its engine (checked now, so a killed engine is known): run it again on
            // another, within the budget; any other infrastructure failure counts as failed.
            await pool.checkEngines();
            if (pool.ejections === ejections || attempt >= config.engineLossRetries) break;
            progress.engineRetries = (progress.engineRetries ?? 0) + 1;
          }
          if (episode.stopReason === "cancelled") return;
          const outcome = await rewarder.reward({
            task: item.task,
            answer: episode.answer,
            mode: item.mode,
            stopReason: episode.stopReason,
          });
          const record: EvalRecord = {
            schemaVersion: EVAL_RECORD_SCHEMA_VERSION,
            task: recordedTask(item.task),
            mode: item.mode,
            repeat: item.repeat,
            reward: outcome.reward,
            status: outcome.status,
            trainable: outcome.trainable,
            ...(outcome.scorer ? { scorer: outcome.scorer } : {}),
            episode,
          };
          // The commit point: the whole line, then fsync (this blocks the loop for the fsync,
          // a few milliseconds, far below an episode's length).
          appender.append(`${serializeEvalRecord(record)}\n`);
          // Re-inserted, so the map's order is the order lines were last written (as a read
          // of the file gives it).
          const key = recordKey({ taskId: item.task.id, mode: item.mode, repeat: item.repeat });
          done.delete(key);
          done.set(key, slimRecord(record));
          progress.done++;
          if (!outcome.trainable) progress.failed++;
          progress.last = {
            taskId: item.task.id,
            mode: item.mode,
            reward: outcome.reward,
            stopReason: episode.stopReason,
          };
          options.onProgress?.({ ...progress, last: { ...progress.last } });
        } catch (error) {
          stop.abort();
          throw error;
        } finally {
          slots.release();
        }
      }),
    );
    const failure = settled.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    cancelled = options.signal?.aborted ?? false;
    engines = pool?.engineStats().map(({ name, healthy, ejections, capacity }) => ({
      name,
      healthy,
      ejections,
      capacity,
    }));
  } finally {
    for (const closer of closers.reverse()) await closer();
  }
  const records = [...done.values()];
  if (cancelled) return { runDir, records, cancelled };
  const meta = reportMeta(config, loaded, sandbox, fitted);
  if (engines) meta.engines = { engines, rerun: progress.engineRetries ?? 0 };
  const report = computeReport(records, meta);
  writeReportFiles(runDir, report);
  return { runDir, report, records, cancelled };
}
