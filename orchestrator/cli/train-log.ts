/**
 * What `sandfarm train` logs: the start, the farm's events, the wait for the trainer and the
 * finish, each as one log entry whose message is the line the person reads and whose fields are
 * the same facts for the JSON log. Group and batch events are not logged: the journal and the
 * spool hold them.
 *
 * @example
 * const entry = farmEventEntry(event);
 * if (entry) log.write(entry);
 */
import type { FarmEvent, FarmOutcome } from "../farm/farm.js";
import type { TrainingRun } from "../farm/training-run.js";
import type { LogEntry } from "../log/logger.js";

/** A setting adjusted to fit the endpoint. */
export function warningEntry(message: string): LogEntry {
  return { event: "warning", message: `warning: ${message}`, level: "warn" };
}

export function startEntry(run: TrainingRun): LogEntry {
  const sink = run.config.sink.kind;
  return {
    event: "start",
    message:
      `${run.resumed ? "resuming" : "starting"} ${run.runId} in ${run.runDir} (${run.config.run.mode} mode, ` +
      `${sink === "bridge" ? `bridge on port ${run.bridgePort}` : "Arrow files in batches/"}` +
      `${run.metricsPort !== undefined ? `, metrics on http://127.0.0.1:${run.metricsPort}/metrics` : ""})`,
    fields: {
      runId: run.runId,
      runDir: run.runDir,
      resumed: run.resumed,
      mode: run.config.run.mode,
      sink,
      ...(run.bridgePort !== undefined ? { bridgePort: run.bridgePort } : {}),
      ...(run.metricsPort !== undefined ? { metricsPort: run.metricsPort } : {}),
    },
  };
}

export function farmEventEntry(event: FarmEvent): LogEntry | undefined {
  switch (event.kind) {
    case "step": {
      const m = event.metrics;
      const domains = Object.entries(m.domains)
        .map(([domain, values]) => `${domain} ${values.reward_mean.toFixed(3)}`)
        .join(", ");
      return {
        event: "step",
        message:
          `step ${m.step}: reward ${m.reward_mean.toFixed(3)} (${domains}), accuracy ${m.accuracy.toFixed(3)}, ` +
          `${m.rollouts} rollouts, groups ${m.groups.batched} batched / ${m.groups.dropped_tie} tie / ` +
          `${m.groups.dropped_stale} stale / ${m.groups.masked_infrastructure} masked, ` +
          `${m.turns_mean.toFixed(1)} turns, v${m.version}, ${m.rollouts_per_s.toFixed(2)} rollouts/s`,
        fields: { ...m },
      };
    }
    case "validation": {
      const parts = Object.entries(event.report.scores).map(
        ([mode, scores]) => `${mode} ${scores.score.toFixed(3)} (n=${scores.n})`,
      );
      return {
        event: "validation",
        message: `validation at step ${event.report.step ?? "?"}, v${event.report.version ?? "?"}: ${parts.join(", ")}`,
        fields: { ...event.report },
      };
    }
    case "untrained":
      return {
        event: "untrained",
        message:
          `warning: step ${event.step} trained nothing: ${event.groups.dropped_tie} group(s) tied, ` +
          `${event.groups.dropped_stale} stale, ${event.groups.masked_infrastructure} masked, ` +
          `${event.groups.dropped_no_tokens} without token ids; no batch went to the trainer`,
        fields: { step: event.step, groups: event.groups },
        level: "warn",
      };
    case "waiting":
      return {
        event: "waiting",
        message: `waiting: ${event.reason}`,
        fields: { reason: event.reason },
      };
    case "stopping":
      return {
        event: "stopping",
        message:
          event.how === "drain"
            ? "draining: no new groups; running ones finish and are committed (Ctrl-C again to cancel them)"
            : event.how === "cancel"
              ? "cancelling: running episodes stop; their groups re-run on --resume"
              : `halting: ${event.message ?? ""}`,
        fields: {
          how: event.how,
          ...(event.message !== undefined ? { message: event.message } : {}),
        },
        ...(event.how === "halt" ? { level: "warn" as const } : {}),
      };
    case "batch":
    case "group":
      return undefined;
  }
}

export function awaitingTrainerEntry(runDir: string, batches: number): LogEntry {
  return {
    event: "awaiting_trainer",
    message:
      `waiting for the trainer to acknowledge ${batches} batch(es); Ctrl-C leaves them in ` +
      `${runDir}/batches for --resume or \`sandfarm bridge serve\``,
    fields: { batches },
  };
}

export function finishEntry(runDir: string, outcome: FarmOutcome): LogEntry {
  return {
    event: "finish",
    message:
      `${outcome.status}: ${outcome.steps} step(s) in all, ${outcome.rollouts} rollout(s) and ${outcome.batches} batch(es) this session; ` +
      `${runDir}` +
      (outcome.stepsWithoutBatch > 0
        ? `\n  ${outcome.stepsWithoutBatch} step(s) trained nothing: every group tied, went stale or was masked`
        : "") +
      (outcome.message ? `\n  ${outcome.message}` : ""),
    fields: { runDir, ...outcome },
    ...(outcome.status === "halted" ? { level: "error" as const } : {}),
  };
}
