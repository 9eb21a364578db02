/**
 * `EvalRecord`s and reports for the eval tests: each record carries a valid `Episode` (it passes
 * `parseEpisode(serializeEpisode(...))`) whose turns, capability tags and token usage are the
 * ones asked for, so a test can predict every figure `computeReport` derives from them.
 *
 * @example
 * const record = fixtureRecord({ domain: "math", mode: "sandbox", reward: 1, turns: [["computation"]] });
 * const report = fixtureReport(); // 4 domains, both modes, pass@2 on math, one failed rollout
 */
import { CAPABILITIES, type Capability } from "../orchestrator/agent/capabilities.js";
import type { Episode, EpisodeCall, EpisodeTurn } from "../orchestrator/agent/episode-record.js";
import {
  EVAL_RECORD_SCHEMA_VERSION,
  type EvalRecord,
  type RecordedTask,
} from "../orchestrator/eval/records.js";
import { type EvalReport, type ReportMeta, computeReport } from "../orchestrator/eval/report.js";
import type { ChatMessage } from "../orchestrator/policy/client.js";
import type { StopReason } from "../rewards/route.js";

/** Token usage of one model call. */
export interface CallUsage {
  prompt: number;
  completion: number;
}

export interface RecordShape {
  /** @default "<domain>-1" */
  taskId?: string;
  /** @default "math" */
  domain?: string;
  /** @default "sandbox" */
  mode?: "sandbox" | "llm";
  /** @default 0 */
  repeat?: number;
  /** Ignored (0) when the rollout is not trainable. @default 1 */
  reward?: number;
  /** @default "scored", or "infrastructure" when not trainable */
  status?: string;
  /** False: an infrastructure failure, left out of the scores. @default true */
  trainable?: boolean;
  /** @default "submitted", or "sandbox_error" when not trainable */
  stopReason?: StopReason;
  /**
   * Sandbox mode: one tool turn per entry, tagged with these capabilities. Plain mode has no
   * turns. @default [["computation"], ["file_management"]] in sandbox mode
   */
  turns?: Capability[][];
  /**
   * Token usage per model call; turn i answers call i, so there are at least as many calls as
   * turns. @default one call per turn (prompt growing by 1500, completion 150) in sandbox mode,
   * one call of 600 + 900 in plain mode
   */
  calls?: CallUsage[];
  /** @default the ground truth when the reward is 1, else "0" */
  answer?: string | null;
}

/** Epoch milliseconds every fixture episode starts at, so fixtures are deterministic. */
export const FIXTURE_STARTED_AT = Date.UTC(2025, 0, 1);

export function fixtureTask(id: string, domain: string): RecordedTask {
  return {
    id,
    domain,
    question: `Fixture question ${id}: what is 6 * 7?`,
    groundTruth: "42",
    answerType: "numeric",
    instructions: [],
    scorerOptions: {},
    documents: {},
  };
}

/** A shell command whose capability tags are `capabilities` (per the tagging rules). */
function commandFor(capabilities: readonly Capability[]): string {
  const parts: string[] = [];
  if (capabilities.includes("external_resource")) parts.push("pip install sympy");
  if (capabilities.includes("computation")) parts.push("python3 solve.py");
  else if (parts.length === 0) parts.push("echo 42");
  const command = parts.join(" && ");
  return capabilities.includes("file_management") ? `${command} > /testbed/out.txt` : command;
}

function defaultCalls(mode: "sandbox" | "llm", turns: number): CallUsage[] {
  if (mode === "llm") return [{ prompt: 600, completion: 900 }];
  return Array.from({ length: Math.max(1, turns) }, (_, index) => ({
    prompt: 1500 * (index + 1),
    completion: 150,
  }));
}

export function fixtureRecord(shape: RecordShape = {}): EvalRecord {
  const domain = shape.domain ?? "math";
  const mode = shape.mode ?? "sandbox";
  const repeat = shape.repeat ?? 0;
  const reward = shape.reward ?? 1;
  const trainable = shape.trainable ?? true;
  const task = fixtureTask(shape.taskId ?? `${domain}-1`, domain);
  const tags = mode === "sandbox" ? (shape.turns ?? [["computation"], ["file_management"]]) : [];
  if (mode === "llm" && shape.turns && shape.turns.length > 0)
    throw new Error("fixtureRecord: plain LLM mode has no tool turns; drop `turns`");
  const usage = shape.calls ?? defaultCalls(mode, tags.length);
  if (usage.length < tags.length)
    throw new Error(
      `fixtureRecord: ${tags.length} turns need at least ${tags.length} calls, got ${usage.length}`,
    );
  const answer = shape.answer !== undefined ? shape.answer : reward === 1 ? task.groundTruth : "0";

  const messages: ChatMessage[] = [
    { role: "system", content: "You are a fixture agent." },
    { role: "user", content: task.question },
  ];
  const turns: EpisodeTurn[] = tags.map((capabilities, index) => {
    const toolCall = {
      id: `call-${index}`,
      name: "execute_bash",
      arguments: JSON.stringify({ command: commandFor(capabilities) }),
    };
    messages.push(
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: toolCall.id,
            type: "function",
            function: { name: toolCall.name, arguments: toolCall.arguments },
          },
        ],
      },
      { role: "tool", content: "ok", tool_call_id: toolCall.id },
    );
    return {
      call: index,
      toolCall,
      observation: "ok",
      isError: false,
      capabilities: CAPABILITIES.filter((capability) => capabilities.includes(capability)),
      exec: { exitCode: 0, timedOut: false, oomKilled: false, durationMs: 40 },
      durationMs: 50,
    };
  });
  messages.push({ role: "assistant", content: answer });
  const calls: EpisodeCall[] = usage.map((call, index) => ({
    version: 0,
    replica: "fixture-0",
    finishReason: index < tags.length ? "tool_calls" : "stop",
    usage: { promptTokens: call.prompt, completionTokens: call.completion },
    maxTokens: 4096,
    attempts: 1,
    startedAt: FIXTURE_STARTED_AT + index * 1000,
    durationMs: 900,
  }));
  const stopReason = shape.stopReason ?? (trainable ? "submitted" : "sandbox_error");
  const episode: Episode = {
    schemaVersion: 1,
    rolloutId: `${task.id}-${mode}-${repeat}`,
    groupId: `${task.id}-${mode}`,
    taskId: task.id,
    domain,
    mode,
    messages,
    calls,
    turns,
    answer,
    stopReason,
    ...(trainable ? {} : { error: "fixture: the sandbox engine went away" }),
    tokenIdsAvailable: false,
    spannedUpdate: false,
    startedAt: FIXTURE_STARTED_AT,
    durationMs: usage.length * 1000,
  };
  return {
    schemaVersion: EVAL_RECORD_SCHEMA_VERSION,
    task,
    mode,
    repeat,
    reward: trainable ? reward : 0,
    status: shape.status ?? (trainable ? "scored" : "infrastructure"),
    trainable,
    episode,
  };
}

/**
 * A small, varied run: math (both modes, 2 repeats: pass@2), chemistry (both modes, one failed
 * sandbox rollout, a partial reward), long_context (both modes, LLM prompts of 260K tokens, the
 * LLM ahead: a negative gain), software (sandbox mode only).
 */
export function fixtureRecords(): EvalRecord[] {
  const records: EvalRecord[] = [];
  const add = (shape: RecordShape) => records.push(fixtureRecord(shape));
  const mathRewards = {
    sandbox: [
      [1, 1],
      [1, 0],
    ],
    llm: [
      [1, 0],
      [0, 0],
    ],
  } as const;
  for (const mode of ["sandbox", "llm"] as const)
    mathRewards[mode].forEach((rewards, task) =>
      rewards.forEach((reward, repeat) =>
        add({
          taskId: `math-${task + 1}`,
          domain: "math",
          mode,
          repeat,
          reward,
          ...(mode === "sandbox"
            ? { turns: [["computation"], ["computation", "file_management"]] }
            : {}),
        }),
      ),
    );
  const chemistryTurns: Capability[][] = [
    ["computation", "external_resource"],
    ["computation"],
    ["file_management"],
  ];
  add({ taskId: "chem-1", domain: "chemistry", reward: 1, turns: chemistryTurns });
  add({ taskId: "chem-2", domain: "chemistry", reward: 0.5, turns: chemistryTurns });
  add({
    taskId: "chem-3",
    domain: "chemistry",
    trainable: false,
    turns: chemistryTurns.slice(0, 1),
  });
  [0, 1, 0].forEach((reward, index) =>
    add({ taskId: `chem-${index + 1}`, domain: "chemistry", mode: "llm", reward }),
  );
  const longTurns: Capability[][] = [["file_management"], ["file_management"], ["computation"]];
  [1, 0].forEach((reward, index) =>
    add({ taskId: `long-${index + 1}`, domain: "long_context", reward, turns: longTurns }),
  );
  [1, 1].forEach((reward, index) =>
    add({
      taskId: `long-${index + 1}`,
      domain: "long_context",
      mode: "llm",
      reward,
      calls: [{ prompt: 260_000, completion: 450 }],
    }),
  );
  add({
    taskId: "swe-1",
    domain: "software",
    reward: 1,
    turns: [["file_management"], ["computation"], []],
  });
  add({
    taskId: "swe-2",
    domain: "software",
    reward: 0,
    stopReason: "max_turns",
    turns: [["computation"]],
  });
  return records;
}

export const FIXTURE_META: ReportMeta = {
  runId: "eval-fixture",
  modes: ["sandbox", "llm"],
  createdAt: "2025-01-01T12:00:00.000Z",
  policy: { model: "Qwen/Qwen3-4B-Instruct-2507", urls: ["http://127.0.0.1:8000/v1"] },
  sandfarm: { version: "0.1.0", git: "0a5b026" },
  taskFiles: [{ file: "datasets/fixture/tasks.jsonl", sha256: "ab".repeat(32), tasks: 9 }],
  scoring: { judge: null, routes: { math: "math", chemistry: "numeric" } },
  notes: ["The policy is the stub server: these scores show the pipeline, not a model."],
};

/** `computeReport` over `records` (the fixture run by default), with `meta` over FIXTURE_META. */
export function fixtureReport(
  meta: Partial<ReportMeta> = {},
  records: readonly EvalRecord[] = fixtureRecords(),
): EvalReport {
  return computeReport(records, { ...FIXTURE_META, ...meta });
}
