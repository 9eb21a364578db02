/**
 * `sandfarm train CONFIG [--set KEY=VALUE]...` starts an RL rollout run; `sandfarm train --resume
 * RUN_DIR` continues one after a crash or a stop, without losing or duplicating a rollout. On a
 * TTY a status line shows progress; otherwise each event is a plain log line on stderr.
 * Ctrl-C once drains (no new groups; running ones finish and are committed), twice cancels
 * (running episodes stop; their groups re-run on resume); SIGTERM cancels. Exit status: 0
 * finished, 1 halted or failed, 130 stopped by a signal.
 *
 * @example
 * sandfarm train examples/sandbox-rl.yaml --set rollout.groupSize=4
 * sandfarm train --resume runs/run-2026-11-25T10-00-00-000Z
 */
import { Command } from "commander";
import { ConfigError } from "../../common/errors.js";
import { loadFarmConfig } from "../farm/config.js";
import type { FarmEvent, FarmProgress } from "../farm/farm.js";
import { launchTraining } from "../farm/launch.js";

interface TrainFlags {
  set: string[];
  resume?: string;
  doctor: boolean;
}

function describe(event: FarmEvent): string | undefined {
  switch (event.kind) {
    case "step": {
      const m = event.metrics;
      const domains = Object.entries(m.domains)
        .map(([domain, values]) => `${domain} ${values.reward_mean.toFixed(3)}`)
        .join(", ");
      return (
        `step ${m.step}: reward ${m.reward_mean.toFixed(3)} (${domains}), accuracy ${m.accuracy.toFixed(3)}, ` +
        `${m.rollouts} rollouts, groups ${m.groups.batched} batched / ${m.groups.dropped_tie} tie / ` +
        `${m.groups.dropped_stale} stale / ${m.groups.masked_infrastructure} masked, ` +
        `${m.turns_mean.toFixed(1)} turns, v${m.version}, ${m.rollouts_per_s.toFixed(2)} rollouts/s`
      );
    }
    case "validation": {
      const parts = Object.entries(event.report.scores).map(
        ([mode, scores]) => `${mode} ${scores.score.toFixed(3)} (n=${scores.n})`,
      );
      return `validation at step ${event.report.step ?? "?"}, v${event.report.version ?? "?"}: ${parts.join(", ")}`;
    }
    case "waiting":
      return `waiting: ${event.reason}`;
    case "stopping":
      return event.how === "drain"
        ? "draining: no new groups; running ones finish and are committed (Ctrl-C again to cancel them)"
        : event.how === "cancel"
          ? "cancelling: running episodes stop; their groups re-run on --resume"
          : `halting: ${event.message ?? ""}`;
    case "batch":
    case "group":
      return undefined;
  }
}

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

async function train(configPath: string | undefined, flags: TrainFlags): Promise<void> {
  if (flags.resume && configPath)
    throw new ConfigError(
      "give a config file or --resume RUN_DIR, not both (a resumed run keeps its config)",
    );
  if (!flags.resume && !configPath)
    throw new ConfigError("give a config file (e.g. examples/sandbox-rl.yaml) or --resume RUN_DIR");
  if (flags.resume && flags.set.length > 0)
    throw new ConfigError(
      "--set cannot change a resumed run: its config is fixed in RUN_DIR/config.json",
    );
  const tty = process.stderr.isTTY === true;
  let lastStatus = "";
  const print = (line: string) => {
    if (tty && lastStatus) process.stderr.write("\r\x1b[2K");
    process.stderr.write(`sandfarm train: ${line}\n`);
    if (tty && lastStatus) process.stderr.write(lastStatus);
  };
  const run = await launchTraining({
    ...(configPath ? { config: loadFarmConfig(configPath, flags.set) } : {}),
    ...(flags.resume ? { resumeDir: flags.resume } : {}),
    skipDoctor: !flags.doctor,
    onEvent: (event) => {
      const line = describe(event);
      if (line) print(line);
    },
  });
  let interrupted = false;
  let waitForTrainer: (() => void) | undefined;
  const onInterrupt = () => {
    interrupted = true;
    if (waitForTrainer) return waitForTrainer();
    if (run.farm.progress().groupsRunning === 0) run.farm.cancel();
    else run.farm.drain();
    process.once("SIGINT", () => run.farm.cancel());
  };
  const onTerminate = () => {
    interrupted = true;
    waitForTrainer?.();
    run.farm.cancel();
  };
  process.once("SIGINT", onInterrupt);
  process.once("SIGTERM", onTerminate);
  const ticker = tty
    ? setInterval(() => {
        lastStatus = statusLine(run.farm.progress());
        process.stderr.write(`\r\x1b[2K${lastStatus}`);
      }, 500)
    : undefined;
  try {
    print(
      `${run.resumed ? "resuming" : "starting"} ${run.runId} in ${run.runDir} (${run.config.run.mode} mode, ` +
        `${run.config.sink.kind === "bridge" ? `bridge on port ${run.bridgePort}` : "Arrow files in batches/"}` +
        `${run.metricsPort !== undefined ? `, metrics on http://127.0.0.1:${run.metricsPort}/metrics` : ""})`,
    );
    const outcome = await run.farm.run();
    if (ticker) clearInterval(ticker);
    if (tty) process.stderr.write("\r\x1b[2K");
    lastStatus = "";
    if (run.bridge && outcome.status === "finished" && !interrupted) {
      const queued = run.bridge.queued();
      if (queued.batches > 0) {
        print(
          `waiting for the trainer to acknowledge ${queued.batches} batch(es); Ctrl-C leaves them in ` +
            `${run.runDir}/batches for --resume or \`sandfarm bridge serve\``,
        );
        await Promise.race([
          run.bridge.drained(),
          new Promise<void>((resolve) => (waitForTrainer = resolve)),
        ]);
      }
    }
    print(
      `${outcome.status}: ${outcome.steps} step(s) in all, ${outcome.rollouts} rollout(s) and ${outcome.batches} batch(es) this session; ` +
        `${run.runDir}` +
        (outcome.message ? `\n  ${outcome.message}` : ""),
    );
    process.stdout.write(`${JSON.stringify({ runDir: run.runDir, ...outcome })}\n`);
    process.exitCode = outcome.status === "halted" ? 1 : outcome.status === "finished" ? 0 : 130;
  } finally {
    if (ticker) clearInterval(ticker);
    process.removeListener("SIGINT", onInterrupt);
    process.removeListener("SIGTERM", onTerminate);
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
    .option("--no-doctor", "skip the policy endpoint's preflight")
    .action(train);
}
