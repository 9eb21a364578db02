/**
 * The evaluation commands:
 * - `sandfarm eval [CONFIG] --tasks FILE... [--mode sandbox|llm|both] [--repeats N] [--policy-url
 *   URL --model NAME] [--output-dir DIR]` runs a policy over task sets and writes the report;
 *   `--resume RUN_DIR [--policy-url URL] [--concurrency N]` finishes an interrupted run (the
 *   policy may have moved; the model and tasks may not change). Ctrl-C or SIGTERM stops it (exit 130); what
 *   was done is kept for `--resume`. Progress shows on stderr (a status line on a TTY) and is
 *   logged, with the stop or the finish, as JSON lines in RUN_DIR/sandfarm.log.
 * - `sandfarm compare RUN RUN...` puts evaluated runs side by side (Markdown on stdout, and
 *   `--html FILE`).
 * - `sandfarm rescore RUN --scorer NAME` re-scores saved trajectories without rerunning them.
 * - `sandfarm export-sft RUN [--min-reward R]` writes successful trajectories as chat JSONL.
 *
 * @example
 * sandfarm eval --tasks datasets/samples/math.jsonl --mode both --repeats 4 --policy-url http://127.0.0.1:8000/v1 --model Qwen/Qwen3-4B
 * sandfarm compare runs/eval-base runs/eval-sandbox-rl --html compare.html
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Command, Option } from "commander";
import { BAD_ROW_POLICIES, type BadRowPolicy } from "../../datasets/load.js";
import { ConfigError, EXIT_CODES } from "../../common/errors.js";
import { applyOverride, readConfigFile } from "../config/read.js";
import {
  compareTrainingHtml,
  compareTrainingMarkdown,
  compareTrainingRuns,
} from "../farm/compare-runs.js";
import { readTrainingRun } from "../farm/report-html.js";
import { compareReports, loadReport } from "../eval/compare.js";
import { EVAL_MODES, type EvalConfig, evalConfigSchema, parseEvalConfig } from "../config/eval.js";
import { defaultOf } from "../config/parse.js";
import { MISSING_POLICY, policyEndpoint } from "../policy/endpoint-env.js";
import { exportSft } from "../eval/export-sft.js";
import { renderCompareHtml } from "../eval/compare-html.js";
import { renderCompareMarkdown, scoreTable } from "../eval/render-md.js";
import { rescoreRun } from "../eval/rescore.js";
import { type EvalProgress, newEvalRunDirectory, runEvaluation } from "../eval/run-eval.js";
import { type LogEntry, type RunLog, openRunLog } from "../log/logger.js";
import { finiteNumber, jsonObjectOption, positiveInteger } from "./number-options.js";
import { enginesFromSelectors, parseEngines } from "../sandbox/engines.js";
import { engineOption } from "./engine-flags.js";
import { createReporter } from "./reporter.js";
import { onStopSignals } from "./stop-signals.js";

interface EvalFlags {
  tasks?: string[];
  mode?: (typeof EVAL_MODES)[number];
  repeats?: number;
  policyUrl?: string[];
  model?: string;
  chatTemplateKwargs?: Record<string, unknown>;
  outputDir?: string;
  concurrency?: number;
  limit?: number;
  domains?: string[];
  onBadRow?: BadRowPolicy;
  set: string[];
  note: string[];
  resume?: string;
  engine?: string[];
  doctor: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The config a new run gets: the file's keys, then the flags, then `--set`; the policy's URLs
 * and model from the flags, else the config (with `--set`), else the environment.
 */
function evalConfigInput(configPath: string | undefined, flags: EvalFlags): unknown {
  const input: Record<string, unknown> = configPath ? readConfigFile(configPath) : {};
  const policy = (input.policy ??= {}) as Record<string, unknown>;
  if (flags.tasks) input.tasks = flags.tasks;
  if (flags.mode) input.mode = flags.mode;
  if (flags.repeats !== undefined) input.repeats = flags.repeats;
  if (flags.outputDir) input.outputDir = flags.outputDir;
  if (flags.concurrency !== undefined) input.concurrency = flags.concurrency;
  if (flags.limit !== undefined) input.limit = flags.limit;
  if (flags.domains) input.domains = flags.domains;
  if (flags.onBadRow) input.onBadRow = flags.onBadRow;
  if (flags.note.length > 0) input.notes = flags.note;
  if (flags.chatTemplateKwargs) policy.chatTemplateKwargs = flags.chatTemplateKwargs;
  if (flags.engine) {
    const sandbox = (input.sandbox ??= {}) as Record<string, unknown>;
    sandbox.engines = enginesFromSelectors(
      flags.engine,
      parseEngines(sandbox.engines ?? []),
      process.env,
    );
  }
  for (const assignment of flags.set) applyOverride(input, assignment);
  const endpoint = policyEndpoint({
    flagUrls: flags.policyUrl,
    flagModel: flags.model,
    configUrls: policy.urls as string[] | undefined,
    configModel: policy.model as string | undefined,
  });
  if (!endpoint.urls || !endpoint.model) throw new ConfigError(MISSING_POLICY);
  policy.urls = endpoint.urls.value;
  policy.model = endpoint.model.value;
  return input;
}

/** A new run's config with its id fixed, and its directory: the log goes there from the start. */
function newRun(
  configPath: string | undefined,
  flags: EvalFlags,
): { config: EvalConfig; runDir: string } {
  const parsed = parseEvalConfig(evalConfigInput(configPath, flags), configPath ?? "the flags");
  const { id, runDir } = newEvalRunDirectory(parsed);
  return { config: { ...parsed, id }, runDir };
}

function progressLine(progress: EvalProgress): string {
  const last = progress.last
    ? ` | last: ${progress.last.taskId} (${progress.last.mode}) reward ${progress.last.reward.toFixed(2)}, ${progress.last.stopReason}`
    : "";
  return `${progress.done}/${progress.total} rollouts${progress.failed ? `, ${progress.failed} failed` : ""}${last}`;
}

function progressEntry(progress: EvalProgress): LogEntry {
  return { event: "progress", message: progressLine(progress), fields: { ...progress } };
}

async function evaluate(configPath: string | undefined, flags: EvalFlags): Promise<void> {
  if (flags.resume) {
    const given = [
      configPath ? "a config file" : "",
      ...(
        [
          ["--tasks", flags.tasks],
          ["--mode", flags.mode],
          ["--repeats", flags.repeats],
          ["--model", flags.model],
          ["--output-dir", flags.outputDir],
          ["--limit", flags.limit],
          ["--domains", flags.domains],
          ["--on-bad-row", flags.onBadRow],
        ] as const
      ).map(([flag, value]) => (value === undefined ? "" : flag)),
      flags.set.length > 0 ? "--set" : "",
      flags.note.length > 0 ? "--note" : "",
    ].filter(Boolean);
    if (given.length > 0)
      throw new ConfigError(
        `--resume continues a run with its own config (RUN_DIR/config.json); drop ${given.join(", ")} ` +
          "(a different model or set of tasks is a new run; --policy-url, --concurrency and --engine may change)",
      );
  }
  const { config, runDir } = flags.resume
    ? { config: undefined, runDir: resolve(flags.resume) }
    : newRun(configPath, flags);
  const controller = new AbortController();
  const stop = () => controller.abort();
  const releaseSignals = onStopSignals({ interrupt: stop, terminate: stop });
  const reporter = createReporter();
  // Opened at the first progress, when the run directory exists: a run refused before it
  // starts leaves no directory behind.
  let log: RunLog | undefined;
  // Warnings (a budget fitted to the endpoint) come before the directory exists: shown at once,
  // logged with the first progress.
  const warnings: LogEntry[] = [];
  const runLog = () => {
    if (!log) {
      log = openRunLog({ runDir, command: "eval", show: (line) => reporter.line(line) });
      for (const entry of warnings.splice(0)) log.write(entry, { show: false });
    }
    return log;
  };
  let printedAt = 0;
  try {
    const result = await runEvaluation({
      ...(config ? { config } : {}),
      ...(flags.resume
        ? {
            resumeDir: flags.resume,
            ...(flags.policyUrl || flags.concurrency || flags.engine
              ? {
                  resumeOverrides: {
                    ...(flags.policyUrl ? { policyUrls: flags.policyUrl } : {}),
                    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
                    ...(flags.engine ? { engines: flags.engine } : {}),
                  },
                }
              : {}),
          }
        : {}),
      skipDoctor: !flags.doctor,
      signal: controller.signal,
      onWarning: (message) => {
        const entry: LogEntry = { event: "warning", message: `warning: ${message}`, level: "warn" };
        if (log) log.write(entry);
        else {
          reporter.line(`sandfarm eval: ${entry.message}`);
          warnings.push(entry);
        }
      },
      onProgress: (progress) => {
        reporter.status(`sandfarm eval: ${progressLine(progress)}`);
        // Logged: the start, then about every tenth of the run, and the end; shown as lines
        // only where no status line shows every one.
        const step = Math.max(1, Math.ceil(progress.total / 10));
        if (
          progress.done === progress.resumed ||
          progress.done === progress.total ||
          progress.done - printedAt >= step
        ) {
          printedAt = progress.done;
          runLog().write(progressEntry(progress), { show: !reporter.tty });
        }
      },
    });
    reporter.keep();
    if (result.cancelled || !result.report) {
      runLog().write({
        event: "stopped",
        message: `stopped; ${result.records.length} rollout(s) are kept in ${result.runDir}; finish with \`sandfarm eval --resume ${result.runDir}\``,
        fields: { runDir: result.runDir, rollouts: result.records.length },
        level: "warn",
      });
      process.exitCode = EXIT_CODES.interrupted;
      return;
    }
    runLog().write(
      {
        event: "finish",
        message: `finished: ${result.records.length} rollout(s); the report is in ${result.runDir}`,
        fields: { runDir: result.runDir, rollouts: result.records.length },
      },
      { show: false },
    );
    // Relative when under the working directory, else absolute.
    const inside = relative(process.cwd(), result.runDir);
    const where = inside === "" ? "." : inside.startsWith("..") ? result.runDir : inside;
    process.stdout.write(`${scoreTable(result.report)}\n`);
    process.stdout.write(
      ["report.json", "report.md", "report.html", "trajectories.jsonl"]
        .map((name) => `${name.padEnd(20)} ${join(where, name)}`)
        .join("\n") + "\n",
    );
  } finally {
    reporter.keep();
    releaseSignals();
    log?.close();
  }
}

export function evalCommand(): Command {
  return new Command("eval")
    .description(
      "evaluate a policy on task sets in sandbox mode, plain LLM mode or both; writes report.json/.md/.html",
    )
    .argument("[config]", "an eval YAML config (the same keys as the flags; see docs/config.md)")
    .option("--tasks <files...>", "task files (JSONL, Parquet, Arrow IPC)")
    .addOption(
      new Option(
        "--mode <mode>",
        `sandbox, llm or both (default ${String(defaultOf(evalConfigSchema.shape.mode))})`,
      ).choices(EVAL_MODES),
    )
    .option(
      "--repeats <n>",
      `rollouts per task and mode (default ${String(defaultOf(evalConfigSchema.shape.repeats))})`,
      positiveInteger,
    )
    .option(
      "--policy-url <url>",
      "the policy's base URL, e.g. http://127.0.0.1:8000/v1 (repeat for replicas; env SANDFARM_POLICY_URL, else OPENAI_BASE_URL)",
      collect,
    )
    .option("--model <name>", "the served model name (env SANDFARM_POLICY_MODEL)")
    .option(
      "--chat-template-kwargs <json>",
      `the chat template's switches, e.g. '{"enable_thinking": false}' (policy.chatTemplateKwargs)`,
      jsonObjectOption,
    )
    .option("--output-dir <dir>", "the run directory (default runs/eval-<timestamp>)")
    .option(
      "--concurrency <n>",
      `episodes at once (default ${String(defaultOf(evalConfigSchema.shape.concurrency))})`,
      positiveInteger,
    )
    .option("--limit <n>", "at most this many tasks per domain", positiveInteger)
    .option("--domains <names...>", "keep only these domains")
    .addOption(
      new Option(
        "--on-bad-row <policy>",
        "a task row that is not valid: fail (stop with its file:line:field) or skip it and list it in the report",
      ).choices(BAD_ROW_POLICIES),
    )
    .option(
      "--set <key=value>",
      "override a config key, e.g. --set episode.maxTurns=50",
      collect,
      [],
    )
    .option("--note <text>", "a note shown at the top of the report (repeatable)", collect, [])
    .option("--resume <run-dir>", "finish an interrupted eval run")
    .addOption(engineOption())
    .option("--no-doctor", "skip the policy endpoint's preflight")
    .action(evaluate);
}

export function compareCommand(): Command {
  return new Command("compare")
    .description(
      "eval runs side by side with per-domain differences, or training runs' curves overlaid (the LLM-RL vs sandbox-RL ablation)",
    )
    .argument(
      "<runs...>",
      "eval run directories (the first is the baseline), or training run directories",
    )
    .option("--html <file>", "also write the comparison as a self-contained HTML page")
    .option("--json <file>", "also write the comparison as JSON")
    .action((runs: string[], flags: { html?: string; json?: string }) => {
      const training = runs.filter((dir) => isTrainingRun(dir));
      if (training.length > 0) {
        if (training.length !== runs.length)
          throw new ConfigError(
            `compare eval runs with eval runs and training runs with training runs; these are training runs: ${training.join(", ")}`,
          );
        const loaded = runs.map((dir) => readTrainingRun(dir));
        process.stdout.write(compareTrainingMarkdown(loaded));
        if (flags.html) writeFileSync(flags.html, compareTrainingHtml(loaded));
        if (flags.json)
          writeFileSync(flags.json, `${JSON.stringify(compareTrainingRuns(loaded), null, 2)}\n`);
        return;
      }
      const comparison = compareReports(runs.map((dir) => loadReport(dir)));
      process.stdout.write(renderCompareMarkdown(comparison));
      if (flags.html) writeFileSync(flags.html, renderCompareHtml(comparison));
      if (flags.json) writeFileSync(flags.json, `${JSON.stringify(comparison, null, 2)}\n`);
    });
}

export function rescoreCommand(): Command {
  return new Command("rescore")
    .description("score an eval run's saved trajectories again with another scorer (no rerun)")
    .argument("<run>", "an eval run directory")
    .requiredOption("--scorer <name>", "a scorer name (sandfarm reward --list), judge, or custom")
    .option("--module <file>", "a custom scorer module exporting score(), registered as --scorer")
    .option("--judge-url <url>", "the LLM judge's base URL (for --scorer judge)")
    .option("--judge-model <name>", "the judge's model")
    .option("--output-dir <dir>", "where the re-scored run goes (default RUN/rescored-<scorer>)")
    .action(
      async (
        run: string,
        flags: {
          scorer: string;
          module?: string;
          judgeUrl?: string;
          judgeModel?: string;
          outputDir?: string;
        },
      ) => {
        if (!existsSync(run)) throw new ConfigError(`${run}: no such run directory`);
        if ((flags.judgeUrl === undefined) !== (flags.judgeModel === undefined))
          throw new ConfigError("give both --judge-url and --judge-model, or neither");
        const result = await rescoreRun(run, {
          scorer: flags.scorer,
          ...(flags.module ? { module: flags.module } : {}),
          ...(flags.judgeUrl && flags.judgeModel
            ? { judge: { url: flags.judgeUrl, model: flags.judgeModel } }
            : {}),
          ...(flags.outputDir ? { outputDir: flags.outputDir } : {}),
        });
        process.stdout.write(renderCompareMarkdown(result.comparison));
        process.stdout.write(
          `\n${result.changed} of ${result.records.length} reward(s) changed; ${join(result.outputDir, "report.md")}\n`,
        );
      },
    );
}

export function exportSftCommand(): Command {
  return new Command("export-sft")
    .description("write a run's successful trajectories as chat-format JSONL for fine-tuning")
    .argument("<run>", "an eval or training run directory")
    .option("--min-reward <r>", "keep rollouts with at least this reward (default 1)", finiteNumber)
    .addOption(new Option("--mode <mode>", "only this mode's rollouts").choices(["sandbox", "llm"]))
    .option("--per-task <n>", "at most this many rollouts per task", positiveInteger)
    .option("--no-reasoning", "leave out the reasoning (reasoning_content)")
    .option("--output <file>", "the JSONL file (default RUN/sft.jsonl)")
    .action(
      async (
        run: string,
        flags: {
          minReward?: number;
          mode?: "sandbox" | "llm";
          perTask?: number;
          reasoning: boolean;
          output?: string;
        },
      ) => {
        if (!existsSync(run)) throw new ConfigError(`${run}: no such run directory`);
        const summary = await exportSft(run, {
          ...(flags.minReward !== undefined ? { minReward: flags.minReward } : {}),
          ...(flags.mode ? { mode: flags.mode } : {}),
          ...(flags.perTask ? { perTask: flags.perTask } : {}),
          dropReasoning: !flags.reasoning,
          ...(flags.output ? { output: flags.output } : {}),
        });
        const skipped = Object.entries(summary.skipped)
          .map(([reason, count]) => `${count} ${reason}`)
          .join(", ");
        process.stderr.write(
          `sandfarm export-sft: ${summary.written} of ${summary.read} rollout(s) written to ${summary.output}` +
            (skipped ? ` (left out: ${skipped})` : "") +
            "\n",
        );
      },
    );
}

/** A directory `sandfarm train` wrote (its journal and metrics), not an eval run. */
function isTrainingRun(dir: string): boolean {
  return existsSync(join(dir, "journal.jsonl")) && existsSync(join(dir, "metrics.jsonl"));
}
