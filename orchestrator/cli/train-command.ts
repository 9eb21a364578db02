/**
 * `sandfarm train CONFIG [--set KEY=VALUE]...` starts an RL rollout run; `sandfarm train --resume
 * RUN_DIR` continues one after a crash or a stop, without losing or duplicating a rollout. Each
 * event (start, step, validation, waiting, stopping, finish) is a line on stderr and a JSON line
 * in RUN_DIR/sandfarm.log; on a TTY a status line under them shows progress. Ctrl-C once drains
 * (no new groups; running ones finish and are committed), twice cancels (running episodes stop;
 * their groups re-run on resume); SIGTERM cancels. Exit status: 0 finished, 1 halted, 130
 * stopped by a signal; an error exits with its fault's status (`EXIT_CODES`).
 *
 * @example
 * sandfarm train examples/sandbox-rl.yaml --set rollout.groupSize=4
 * sandfarm train --resume runs/run-2026-11-25T10-00-00-000Z
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { BAD_ROW_POLICIES, type BadRowPolicy, describeBadRow } from "../../datasets/load.js";
import { ConfigError, EXIT_CODES } from "../../common/errors.js";
import { readConfigFile } from "../config/read.js";
import { type FarmConfig, parseFarmConfig } from "../config/train.js";
import { policyEndpoint } from "../policy/endpoint-env.js";
import type { FarmOutcome, FarmProgress } from "../farm/farm.js";
import { writeTrainingReport } from "../farm/report-html.js";
import { launchTraining } from "../farm/training-run.js";
import { type LogEntry, type RunLog, openRunLog } from "../log/logger.js";
import { engineOption } from "./engine-flags.js";
import { createReporter } from "./reporter.js";
import { onStopSignals } from "./stop-signals.js";
import {
  awaitingTrainerEntry,
  farmEventEntry,
  finishEntry,
  startEntry,
  warningEntry,
} from "./train-log.js";

interface TrainFlags {
  set: string[];
  engine?: string[];
  onBadRow?: BadRowPolicy;
  resume?: string;
  doctor: boolean;
}

const EXIT_CODE_OF: Record<FarmOutcome["status"], number> = {
  finished: EXIT_CODES.ok,
  halted: EXIT_CODES.failed,
  drained: EXIT_CODES.interrupted,
  cancelled: EXIT_CODES.interrupted,
};

function statusLine(progress: FarmProgress): string {
  const steps =
    progress.stepsTotal === undefined
      ? `${progress.step}`
      : `${progress.step}/${progress.stepsTotal}`;
  return (
    `step ${steps} | v${progress.version} | ${progress.episodesRunning} episodes, ${progress.groupsRunning} groups running | ` +
    `${progress.rollouts} rollouts, ${progress.batches} batches` +
    (progress.waiting ? ` | waiting: ${progress.waiting}` : "")
  );
}

/** Where a run lists the task rows it skipped. */
const SKIPPED_ROWS_FILE = "skipped-rows.txt";

/** The file with `--set` applied; a policy the file does not name comes from the environment. */
function trainConfig(path: string, overrides: readonly string[]): FarmConfig {
  const input = readConfigFile(path, overrides);
  const policy = (input.policy ??= {}) as Record<string, unknown>;
  const endpoint = policyEndpoint({
    configUrls: policy.urls as string[] | undefined,
    configModel: policy.model as string | undefined,
  });
  if (endpoint.urls) policy.urls = endpoint.urls.value;
  if (endpoint.model) policy.model = endpoint.model.value;
  return parseFarmConfig(input, path);
}

async function train(configPath: string | undefined, flags: TrainFlags): Promise<void> {
  if (flags.resume && configPath)
    throw new ConfigError(
      "give a config file or --resume RUN_DIR, not both (a resumed run keeps its config)",
    );
  if (!flags.resume && !configPath)
    throw new ConfigError("give a config file (e.g. examples/sandbox-rl.yaml) or --resume RUN_DIR");
  if (flags.resume && (flags.set.length > 0 || flags.onBadRow))
    throw new ConfigError(
      "--set cannot change a resumed run: its config is fixed in RUN_DIR/config.json",
    );
  const reporter = createReporter();
  // Opened once the run directory exists; the farm emits only from `run()` on, by which time
  // it is open.
  let log: RunLog | undefined;
  // Fitting the endpoint happens before the run directory exists: shown now, logged once it does.
  const warnings: LogEntry[] = [];
  const run = await launchTraining({
    ...(configPath
      ? {
          config: trainConfig(configPath, [
            ...(flags.onBadRow ? [`data.onBadRow=${flags.onBadRow}`] : []),
            ...flags.set,
          ]),
        }
      : {}),
    ...(flags.resume ? { resumeDir: flags.resume } : {}),
    ...(flags.engine ? { engines: flags.engine } : {}),
    skipDoctor: !flags.doctor,
    onEvent: (event) => {
      const entry = farmEventEntry(event);
      if (entry) log?.write(entry);
    },
    onWarning: (message) => {
      const entry = warningEntry(message);
      // Before the run directory exists: shown now, logged once it does; later (an engine
      // ejected mid-run): logged and shown at once.
      if (log) log.write(entry);
      else {
        reporter.line(`sandfarm train: ${entry.message}`);
        warnings.push(entry);
      }
    },
  });
  let interrupted = false;
  let waitForTrainer: (() => void) | undefined;
  const releaseSignals = onStopSignals({
    interrupt: () => {
      interrupted = true;
      if (waitForTrainer) {
        waitForTrainer();
        return false;
      }
      if (run.farm.progress().groupsRunning === 0) run.farm.cancel();
      else run.farm.drain();
    },
    interruptAgain: () => run.farm.cancel(),
    terminate: () => {
      interrupted = true;
      waitForTrainer?.();
      run.farm.cancel();
    },
  });
  reporter.tick(() => statusLine(run.farm.progress()));
  try {
    log = openRunLog({ runDir: run.runDir, command: "train", show: (line) => reporter.line(line) });
    for (const entry of warnings) log.write(entry, { show: false });
    log.write(startEntry(run));
    const outcome = await run.farm.run();
    reporter.clear();
    if (run.bridge && outcome.status === "finished" && !interrupted) {
      const queued = run.bridge.queued();
      if (queued.batches > 0) {
        log.write(awaitingTrainerEntry(run.runDir, queued.batches));
        await Promise.race([
          run.bridge.drained(),
          new Promise<void>((resolve) => (waitForTrainer = resolve)),
        ]);
      }
    }
    if (run.skippedRows.length > 0) {
      const listed = join(run.runDir, SKIPPED_ROWS_FILE);
      writeFileSync(listed, `${run.skippedRows.map(describeBadRow).join("\n")}\n`);
      log.write({
        event: "skipped_rows",
        message: `warning: ${run.skippedRows.length} task row(s) skipped (data.onBadRow: skip); listed in ${listed}`,
        fields: { count: run.skippedRows.length, file: listed },
        level: "warn",
      });
    }
    const report = writeTrainingReport(run.runDir);
    log.write({
      event: "report",
      message: `report: ${report}`,
      fields: { file: report },
    });
    log.write(finishEntry(run.runDir, outcome));
    process.stdout.write(`${JSON.stringify({ runDir: run.runDir, ...outcome })}\n`);
    process.exitCode = EXIT_CODE_OF[outcome.status];
  } finally {
    reporter.clear();
    releaseSignals();
    log?.close();
    await run.close();
  }
}

export function trainCommand(): Command {
  return new Command("train")
    .description(
      "run RL rollouts: groups of episodes, rewards, advantages, batches to a trainer or files",
    )
    .argument("[config]", "the run's YAML config (see docs/config.md)")
    .option(
      "--set <key=value>",
      "override a config key, e.g. --set rollout.groupSize=4 (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--resume <run-dir>", "continue the run in this directory")
    .addOption(
      new Option(
        "--on-bad-row <policy>",
        "a task row that is not valid: fail (stop with its file:line:field) or skip it (data.onBadRow)",
      ).choices(BAD_ROW_POLICIES),
    )
    .addOption(engineOption())
    .option("--no-doctor", "skip the policy endpoint's preflight")
    .action(train);
}
