/**
 * `sandfarm export-sft`: the successful trajectories of a run as chat-format JSONL for supervised
 * fine-tuning. One line per rollout: `messages` in OpenAI chat format (assistant turns with their
 * `tool_calls`, tool results with `tool_call_id`, the reasoning as `reasoning_content` unless
 * dropped), `tools` (the tool definitions the model was offered, sandbox mode) and `metadata`
 * (task, domain, mode, reward, rollout, run). Reads eval runs and training runs alike
 * (`trajectories.jsonl` of either). A rollout qualifies when it was scored (no infrastructure
 * failure), ended normally (submitted), and its reward is at least `minReward`.
 *
 * @example
 * const summary = await exportSft("runs/eval-1", { minReward: 1, output: "sft.jsonl" });
 */
import { closeSync, existsSync, openSync, renameSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { type Episode, episodeFromValue } from "../agent/episode-record.js";
import { ConfigError } from "../../common/errors.js";
import { toolDefinitions } from "../tools/definitions.js";
import { scanJsonLines, scanLatestRecords, writeAll } from "./records.js";

export interface SftOptions {
  /** @default 1 */
  minReward?: number;
  /** Only this mode's rollouts. */
  mode?: "sandbox" | "llm";
  /** At most this many rollouts per task (the first ones). */
  perTask?: number;
  /** Drop the reasoning (`reasoning_content`). @default false */
  dropReasoning?: boolean;
  /** @default RUN/sft.jsonl */
  output?: string;
}

export interface SftMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  reasoning_content?: string;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface SftExample {
  messages: SftMessage[];
  tools?: unknown[];
  metadata: {
    taskId: string;
    domain: string;
    mode: "sandbox" | "llm";
    reward: number;
    rolloutId: string;
    run: string;
  };
}

export interface SftSummary {
  output: string;
  /** Rollouts read. */
  read: number;
  written: number;
  /** Why the others were left out, by reason. */
  skipped: Record<string, number>;
}

const trainingLineSchema = z.looseObject({
  reward: z.number(),
  status: z.string(),
  episode: z.unknown(),
});

interface Candidate {
  episode: Episode;
  reward: number;
  scored: boolean;
}

/**
 * Streams the rollouts of an eval run (the records that count) or a training run (each rollout
 * once) to `onCandidate`.
 */
async function scanCandidates(
  runDir: string,
  onCandidate: (candidate: Candidate) => void,
): Promise<void> {
  const path = join(runDir, "trajectories.jsonl");
  if (!existsSync(path))
    throw new ConfigError(
      `${runDir}: no trajectories.jsonl; give a directory \`sandfarm eval\` or \`sandfarm train\` wrote`,
    );
  if (existsSync(join(runDir, "journal.jsonl"))) {
    // A training run: lines of {groupId, step, slot, verdict, reward, advantage, status, episode}.
    await scanJsonLines(
      path,
      (line) => {
        const value = trainingLineSchema.parse(JSON.parse(line));
        return {
          episode: episodeFromValue(value.episode),
          reward: value.reward,
          scored: value.status === "scored",
        };
      },
      "a training trajectory record",
      onCandidate,
    );
    return;
  }
  await scanLatestRecords(path, (record) =>
    onCandidate({
      episode: record.episode,
      reward: record.reward,
      scored: record.trainable && record.status === "scored",
    }),
  );
}

/** The conversation up to its last assistant message, in plain chat format. */
export function sftMessages(episode: Episode, dropReasoning = false): SftMessage[] {
  const last = episode.messages.findLastIndex((message) => message.role === "assistant");
  return episode.messages.slice(0, last + 1).map((message): SftMessage => {
    const reasoning = message.reasoning_content ?? message.reasoning ?? "";
    return {
      role: message.role,
      content: message.content ?? "",
      ...(message.role === "assistant" && reasoning && !dropReasoning
        ? { reasoning_content: reasoning }
        : {}),
      ...(message.tool_calls && message.tool_calls.length > 0
        ? {
            tool_calls: message.tool_calls.map((call) => ({
              id: call.id,
              type: "function" as const,
              function: { name: call.function.name, arguments: call.function.arguments },
            })),
          }
        : {}),
      ...(message.tool_call_id !== undefined ? { tool_call_id: message.tool_call_id } : {}),
    };
  });
}

export async function exportSft(runDir: string, options: SftOptions = {}): Promise<SftSummary> {
  const minReward = options.minReward ?? 1;
  const output = options.output ?? join(runDir, "sft.jsonl");
  const run = basename(runDir);
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const perTask = new Map<string, number>();
  const tools = toolDefinitions();
  let read = 0;
  let written = 0;
  if (resolve(output) === resolve(join(runDir, "trajectories.jsonl")))
    throw new ConfigError(
      `--output ${output}: that is the run's own trajectories; give another file`,
    );
  // Streamed in and out, one conversation in memory at a time; written beside and renamed into
  // place once complete, so a failure leaves no half file.
  const partial = `${output}.partial-${process.pid}`;
  const fd = openSync(partial, "w");
  let complete = false;
  try {
    await scanCandidates(runDir, ({ episode, reward, scored }) => {
      read++;
      if (options.mode && episode.mode !== options.mode) skip("other mode");
      else if (!scored) skip("not scored (failure or penalty)");
      else if (episode.stopReason !== "submitted") skip(`stopped: ${episode.stopReason}`);
      else if (reward < minReward) skip(`reward below ${minReward}`);
      else if ((perTask.get(episode.taskId) ?? 0) >= (options.perTask ?? Infinity))
        skip("per-task cap");
      else {
        perTask.set(episode.taskId, (perTask.get(episode.taskId) ?? 0) + 1);
        const example: SftExample = {
          messages: sftMessages(episode, options.dropReasoning),
          ...(episode.mode === "sandbox" ? { tools } : {}),
          metadata: {
            taskId: episode.taskId,
            domain: episode.domain,
            mode: episode.mode,
            reward,
            rolloutId: episode.rolloutId,
            run,
          },
        };
        writeAll(fd, `${JSON.stringify(example)}\n`);
        written++;
      }
    });
    complete = true;
  } finally {
    closeSync(fd);
    if (complete) renameSync(partial, output);
    else rmSync(partial, { force: true });
  }
  return { output, read, written, skipped };
}
