/**
 * One episode, in either mode. Sandbox mode: acquire a sandbox, put the task's documents in
 * /testbed/documents/, then loop: call the model, execute only its first tool call, append the
 * observation (with the steps remaining, which stays in history); a turn without a valid call
 * gets a reminder and still counts. It ends on `submit`, a limit or a failure, reads
 * /testbed/answer.txt, and releases the sandbox whatever happened. Plain LLM mode: one call with
 * the documents inlined; the answer is the response. Assistant messages go back to the server
 * exactly as received.
 *
 * @example
 * const episode = await runEpisode(task, "sandbox", { policy, sandboxes: pool }, { rolloutId: "r1", groupId: "g1" });
 */
import { type PromptTemplates, SANDBOX_PATHS, buildPrompt } from "../../datasets/prompts.js";
import type { Task } from "../../datasets/task.js";
import type { StopReason } from "../../rewards/route.js";
import { InfrastructureError } from "../../common/errors.js";
import { EPISODE_DEFAULTS } from "../config/defaults.js";
import { DiskLimitError, SandboxLostError, SandboxPathError } from "../sandbox/errors.js";
import { nextTurn } from "../util/event-loop-turns.js";
import {
  type ChatMessage,
  type Completion,
  ContextSpentError,
  DeadlineExceededError,
  PolicyUnavailableError,
  type PolicyClient,
  PromptTooLongError,
  type RequestTally,
  type SamplingParams,
} from "../policy/client.js";
import type { ManagedSandbox } from "../sandbox/backend.js";
import { Toolbox, type ToolboxOptions } from "../tools/toolbox.js";
import { capabilitiesOf } from "./capabilities.js";
import { sharedPrefix } from "./token-rows.js";
import {
  EPISODE_SCHEMA_VERSION,
  type Episode,
  type EpisodeCall,
  type EpisodeTurn,
} from "./episode-record.js";

/** Where sandboxes come from: a `SandboxPool`, or anything that hands them out the same way. */
export interface SandboxSource {
  acquire(): Promise<ManagedSandbox>;
  release(sandbox: ManagedSandbox): Promise<void>;
  /** Sandboxes it can hold at once (a fleet's healthy engines); unset: no limit of its own. */
  readonly capacity?: number;
  /** Engines ejected so far: a group that failed across an ejection is not counted against the run. */
  readonly ejections?: number;
  /** Checks the engines now (after a failure), ejecting those that do not answer. */
  checkEngines?(): Promise<void>;
  /** Why the run should stop: every engine out past the outage bound. */
  outage?(): string | undefined;
  /** Each engine's state now (a fleet), for the step metrics. */
  engineStats?(): {
    name: string;
    healthy: boolean;
    inUse: number;
    warm: number;
    capacity: number;
    ejections: number;
  }[];
  /** Calls `listener` when capacity changes; returns the unsubscribe. */
  onChange?(listener: () => void): () => void;
}

export interface EpisodeOptions {
  /** Model calls at most (sandbox mode). @default EPISODE_DEFAULTS.maxTurns */
  maxTurns?: number;
  /** max_tokens of one call. @default EPISODE_DEFAULTS.maxTokensPerCall */
  maxTokensPerCall?: number;
  /** Prompt + completion tokens of the conversation at most. @default EPISODE_DEFAULTS.maxTotalTokens */
  maxTotalTokens?: number;
  /** Wall-clock limit of the whole episode. @default EPISODE_DEFAULTS.timeoutS * 1000 */
  timeoutMs?: number;
  /**
   * The model's context as served (`max_model_len`). When set, each call's prompt is measured
   * first (`PolicyClient.promptTokens`) and `max_tokens` is what the per-call cap, the budget
   * and the context leave, so the server never has to refuse a request; unset, `max_tokens` is
   * estimated from the previous call and a context overflow is retried smaller.
   */
  contextTokens?: number;
  sampling?: SamplingParams;
  templates?: PromptTemplates;
  toolbox?: ToolboxOptions;
  /** Append "[Steps remaining: N]" to each observation. @default true */
  stepsRemaining?: boolean;
  /** Aborting ends the episode with `cancelled` at the next step. */
  signal?: AbortSignal;
  /** Runs after the answer is read, before the sandbox is released (e.g. to copy outputs). */
  beforeRelease?: (sandbox: ManagedSandbox) => Promise<void>;
}

export interface EpisodeIdentity {
  rolloutId: string;
  groupId: string;
}

export interface EpisodeServices {
  policy: PolicyClient;
  /** Needed in sandbox mode. */
  sandboxes?: SandboxSource;
}

export const NO_TOOL_CALL_REMINDER =
  "Your last message had no valid tool call. Work with execute_bash and str_replace_editor, " +
  `write your final answer to ${SANDBOX_PATHS.answerFile}, then call submit.`;

export const EXTRA_CALL_NOTE = "Not executed: only the first tool call of a message runs.";

const ANSWER_MAX_BYTES = 1 << 20;
/**
 * A chat template's text around one message (role header, tool-response tags, end marker) and
 * the generation prompt, in tokens, for the prompt bound: ChatML wraps a message in about 10.
 */
const TEMPLATE_TOKENS_PER_MESSAGE = 64;

/** Why an episode stopped early, raised inside the loop and turned into a stop reason. */
class EpisodeStop extends Error {
  constructor(
    readonly stopReason: StopReason,
    message: string,
  ) {
    super(message);
  }
}

function stopFor(error: unknown): EpisodeStop {
  if (error instanceof EpisodeStop) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PromptTooLongError) return new EpisodeStop("prompt_too_long", message);
  if (error instanceof ContextSpentError) return new EpisodeStop("token_budget", message);
  if (error instanceof DeadlineExceededError) return new EpisodeStop("timeout", message);
  if (error instanceof PolicyUnavailableError) return new EpisodeStop("policy_error", message);
  if (error instanceof DiskLimitError) return new EpisodeStop("disk_limit", message);
  if (error instanceof SandboxLostError)
    return new EpisodeStop(error.causedByModel ? "sandbox_lost" : "sandbox_error", message);
  if (error instanceof InfrastructureError) return new EpisodeStop("sandbox_error", message);
  throw error;
}

/**
 * The call as recorded: its prompt ids as a delta against the previous call's whole sequence
 * (see `TokenCall`), so an episode holds O(tokens) ids, not a growing prompt per call.
 */
function recordCall(completion: Completion, previous: readonly number[] | undefined): EpisodeCall {
  const prompt = completion.promptTokenIds;
  const reuse = prompt && previous ? sharedPrefix(prompt, previous) : 0;
  return {
    ...(prompt ? { promptReuse: reuse, promptTokenIds: prompt.slice(reuse) } : {}),
    ...(completion.completionTokenIds ? { completionTokenIds: completion.completionTokenIds } : {}),
    ...(completion.logprobs ? { logprobs: completion.logprobs } : {}),
    version: completion.version,
    replica: completion.replica,
    finishReason: completion.finishReason,
    usage: completion.usage,
    maxTokens: completion.maxTokens,
    attempts: completion.attempts,
    ...(completion.overflowRetries > 0 ? { overflowRetries: completion.overflowRetries } : {}),
    startedAt: completion.startedAt,
    durationMs: completion.durationMs,
  };
}

class EpisodeRun {
  readonly messages: ChatMessage[] = [];
  readonly calls: EpisodeCall[] = [];
  readonly turns: EpisodeTurn[] = [];
  readonly startedAt = Date.now();
  readonly deadline: number;
  /** Prompt + completion tokens of the latest call: the conversation's size so far. */
  used = 0;
  /** The latest call's prompt and completion ids, which the next prompt is stored against. */
  private lastSequence: number[] | undefined;
  /** Messages `used` covers: those up to and including the latest call's reply. */
  private usedMessages = 0;
  /** A call was on the wire while a policy update committed. */
  private spannedUpdate = false;
  /** Every request the episode's calls sent, those of a call that failed included. */
  private readonly tally: RequestTally = { chat: 0, overflowRetries: 0, tokenize: 0 };

  constructor(
    readonly task: Task,
    readonly services: EpisodeServices,
    readonly identity: EpisodeIdentity,
    readonly options: EpisodeOptions,
  ) {
    this.deadline = this.startedAt + (options.timeoutMs ?? EPISODE_DEFAULTS.timeoutS * 1000);
  }

  /** The conversation's budget: the configured one, within the model's context when known. */
  get maxTotalTokens(): number {
    return Math.min(
      this.options.maxTotalTokens ?? EPISODE_DEFAULTS.maxTotalTokens,
      this.options.contextTokens ?? Infinity,
    );
  }

  checkContinue(): void {
    if (this.options.signal?.aborted)
      throw new EpisodeStop("cancelled", "the episode was cancelled");
    if (Date.now() >= this.deadline) throw new EpisodeStop("timeout", "the episode's time ran out");
  }

  async call(tools?: readonly unknown[]): Promise<Completion> {
    const request = {
      rolloutId: this.identity.rolloutId,
      messages: this.messages,
      ...(tools ? { tools } : {}),
      deadline: this.deadline,
      ...(this.options.sampling ? { sampling: this.options.sampling } : {}),
      tally: this.tally,
    };
    const counted = await this.countPrompt(request);
    const completion = await this.services.policy.complete({
      ...request,
      maxTokens: this.maxTokensFor(counted),
    });
    this.calls.push({
      ...recordCall(completion, this.lastSequence),
      ...(counted !== undefined ? { countedPromptTokens: counted } : {}),
    });
    this.messages.push(completion.message);
    this.usedMessages = this.messages.length;
    if (completion.spannedUpdate) this.spannedUpdate = true;
    this.lastSequence =
      completion.promptTokenIds && completion.completionTokenIds
        ? [...completion.promptTokenIds, ...completion.completionTokenIds]
        : undefined;
    this.used = completion.usage.promptTokens + completion.usage.completionTokens;
    return completion;
  }

  /**
   * The next prompt's exact length, when the context is known, the server can count it and the
   * count could change the call: a prompt whose upper bound leaves the per-call cap within the
   * context and the budget gets the cap whatever its length, so it is not counted (a
   * `/tokenize` request saved per call, measured: about half the requests of a sandbox episode).
   */
  private async countPrompt(
    request: Parameters<PolicyClient["promptTokens"]>[0],
  ): Promise<number | undefined> {
    if (this.options.contextTokens === undefined) return undefined;
    const cap = this.options.maxTokensPerCall ?? EPISODE_DEFAULTS.maxTokensPerCall;
    const needed = Math.max(cap, this.services.policy.options.minCompletionTokens);
    if (this.promptBound(request.tools) + needed <= this.maxTotalTokens) return undefined;
    return this.services.policy.promptTokens(request);
  }

  /**
   * At least as many tokens as the next prompt can render to: what the server counted for the
   * latest call (prompt + completion), plus every UTF-8 byte of the messages since (and of the
   * tools before the first call) as JSON, plus the template's wrapping of each. A token covers
   * at least one byte of the text it encodes (byte-level BPE, SentencePiece with byte
   * fallback), so bytes bound tokens. A template that renders far more than that (an exotic
   * one) only costs the overflow retry the client already makes.
   */
  private promptBound(tools: readonly unknown[] | undefined): number {
    const added = this.messages.slice(this.usedMessages);
    const text =
      JSON.stringify(added) + (this.usedMessages === 0 ? JSON.stringify(tools ?? []) : "");
    return (
      this.used + Buffer.byteLength(text, "utf8") + TEMPLATE_TOKENS_PER_MESSAGE * (added.length + 1)
    );
  }

  /**
   * max_tokens for the next call: the per-call cap, the budget left and, with the prompt
   * measured, the context left. Without a measure the previous call's size stands in (the new
   * tool result is not in it, so the server may refuse and the client retries smaller).
   */
  private maxTokensFor(counted: number | undefined): number {
    const cap = this.options.maxTokensPerCall ?? EPISODE_DEFAULTS.maxTokensPerCall;
    if (counted === undefined) {
      const left = this.maxTotalTokens - this.used;
      if (left <= 0)
        throw new EpisodeStop("token_budget", "the conversation's token budget is spent");
      return Math.min(cap, left);
    }
    const context = this.options.contextTokens!;
    if (counted >= context)
      throw new EpisodeStop(
        "prompt_too_long",
        `the prompt alone is ${counted} tokens; the model's context is ${context}`,
      );
    const left = this.maxTotalTokens - counted;
    if (left < this.services.policy.options.minCompletionTokens)
      throw new EpisodeStop(
        "token_budget",
        `${Math.max(0, left)} tokens of the conversation's budget are left after a ${counted}-token prompt`,
      );
    return Math.min(cap, left);
  }

  finish(stop: EpisodeStop | undefined, mode: "sandbox" | "llm", answer: string | null): Episode {
    const versions = new Set(this.calls.map((call) => call.version));
    return {
      schemaVersion: EPISODE_SCHEMA_VERSION,
      rolloutId: this.identity.rolloutId,
      groupId: this.identity.groupId,
      taskId: this.task.id,
      domain: this.task.domain,
      mode,
      messages: this.messages,
      calls: this.calls,
      turns: this.turns,
      answer,
      stopReason: stop?.stopReason ?? "submitted",
      ...(stop && stop.stopReason !== "submitted" ? { error: stop.message } : {}),
      tokenIdsAvailable:
        this.calls.length > 0 &&
        this.calls.every((call) => call.promptTokenIds && call.completionTokenIds && call.logprobs),
      spannedUpdate: this.spannedUpdate || versions.size > 1,
      requests: {
        calls: this.calls.length,
        ...this.tally,
      },
      startedAt: this.startedAt,
      durationMs: Date.now() - this.startedAt,
    };
  }
}

export async function runEpisode(
  task: Task,
  mode: "sandbox" | "llm",
  services: EpisodeServices,
  identity: EpisodeIdentity,
  options: EpisodeOptions = {},
): Promise<Episode> {
  const run = new EpisodeRun(task, services, identity, options);
  try {
    return mode === "sandbox" ? await sandboxEpisode(run) : await llmEpisode(run);
  } finally {
    services.policy.finishRollout(identity.rolloutId);
  }
}

async function llmEpisode(run: EpisodeRun): Promise<Episode> {
  const prompt = buildPrompt(run.task, "llm", run.options.templates);
  run.messages.push(
    { role: "system", content: prompt.system },
    { role: "user", content: prompt.user },
  );
  let stop: EpisodeStop | undefined;
  let answer: string | null = null;
  try {
    run.checkContinue();
    const completion = await run.call();
    answer = completion.message.content;
    if (completion.finishReason === "length")
      stop = new EpisodeStop("length", "the response hit max_tokens");
  } catch (error) {
    stop = stopFor(error);
  }
  return run.finish(stop, "llm", answer);
}

async function sandboxEpisode(run: EpisodeRun): Promise<Episode> {
  const { sandboxes } = run.services;
  if (!sandboxes) throw new TypeError("a sandbox-mode episode needs a sandbox source");
  const prompt = buildPrompt(run.task, "sandbox", run.options.templates);
  run.messages.push(
    { role: "system", content: prompt.system },
    { role: "user", content: prompt.user },
  );
  let sandbox: ManagedSandbox | undefined;
  let stop: EpisodeStop | undefined;
  let answer: string | null = null;
  try {
    sandbox = await sandboxes.acquire();
    const documents = Object.entries(run.task.documents);
    if (documents.length > 0) {
      await sandbox.writeFiles(
        SANDBOX_PATHS.documentsDir,
        documents.map(([path, content]) => ({ path, content })),
      );
    }
    stop = await turnLoop(run, new Toolbox(sandbox, run.options.toolbox));
  } catch (error) {
    stop = stopFor(error);
  }
  try {
    if (
      sandbox &&
      stop?.stopReason !== "sandbox_lost" &&
      stop?.stopReason !== "sandbox_error" &&
      stop?.stopReason !== "disk_limit"
    ) {
      answer = await readAnswer(sandbox);
      await run.options.beforeRelease?.(sandbox);
    }
  } catch (error) {
    stop = stopFor(error);
  } finally {
    if (sandbox) await sandboxes.release(sandbox);
  }
  return run.finish(stop, "sandbox", answer);
}

/** The loop proper; returns why it stopped (undefined = submitted). */
async function turnLoop(run: EpisodeRun, toolbox: Toolbox): Promise<EpisodeStop | undefined> {
  const maxTurns = run.options.maxTurns ?? EPISODE_DEFAULTS.maxTurns;
  for (let turn = 0; turn < maxTurns; turn++) {
    run.checkContinue();
    const completion = await run.call(toolbox.definitions);
    const started = Date.now();
    const note =
      run.options.stepsRemaining === false ? "" : `\n\n[Steps remaining: ${maxTurns - turn - 1}]`;
    const [first, ...extra] = completion.message.tool_calls ?? [];
    const budgetSpent = run.used >= run.maxTotalTokens;
    if (!first) {
      if (completion.finishReason === "length" && budgetSpent)
        return new EpisodeStop("length", "a call hit max_tokens without a tool call");
      run.messages.push({ role: "user", content: `${NO_TOOL_CALL_REMINDER}${note}` });
      run.turns.push({
        call: run.calls.length - 1,
        observation: NO_TOOL_CALL_REMINDER,
        isError: true,
        capabilities: [],
        durationMs: Date.now() - started,
      });
    } else {
      const outcome = await toolbox.execute({
        name: first.function.name,
        arguments: first.function.arguments,
      });
      // The rest of the step (recording it, sending the next request) takes its own loop turn.
      await nextTurn();
      run.messages.push({
        role: "tool",
        tool_call_id: first.id,
        content: `${outcome.observation}${note}`,
      });
      for (const call of extra)
        run.messages.push({ role: "tool", tool_call_id: call.id, content: EXTRA_CALL_NOTE });
      run.turns.push({
        call: run.calls.length - 1,
        toolCall: { id: first.id, name: first.function.name, arguments: first.function.arguments },
        observation: outcome.observation,
        isError: outcome.isError,
        capabilities: outcome.isError
          ? []
          : capabilitiesOf(first.function.name, parseArguments(first.function.arguments)),
        ...(outcome.exec
          ? {
              exec: {
                exitCode: outcome.exec.exitCode,
                timedOut: outcome.exec.timedOut,
                oomKilled: outcome.exec.oomKilled,
                durationMs: outcome.exec.durationMs,
              },
            }
          : {}),
        durationMs: Date.now() - started,
      });
      if (outcome.submitted) return undefined;
    }
    if (budgetSpent)
      return new EpisodeStop("token_budget", "the conversation's token budget is spent");
  }
  return new EpisodeStop("max_turns", `the model used all ${maxTurns} turns without submitting`);
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

async function readAnswer(sandbox: ManagedSandbox): Promise<string | null> {
  try {
    const file = await sandbox.readFile(SANDBOX_PATHS.answerFile, ANSWER_MAX_BYTES);
    return file.content.toString("utf8");
  } catch (error) {
    // No answer file (or a directory, or an oversized one): the model gave no answer.
    if (error instanceof SandboxPathError) return null;
    throw error;
  }
}
