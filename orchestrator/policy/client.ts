/**
 * The policy: any OpenAI-compatible chat endpoint, vLLM first. Calls go over keep-alive HTTP
 * with plain JSON rather than through the openai SDK, which cost 2.8x the CPU per call (see
 * `http.ts`); the wire format is the same. Every call is non-streaming and
 * asks for the exact token ids (`return_token_ids`) and the sampled logprobs, since training
 * data must be what the policy sampled, never a re-tokenization. Calls are retried on connection
 * errors, 429 and 5xx with jittered backoff, never past the episode's deadline (the SDK's own
 * retries are off). A context overflow lowers `max_tokens` and retries; a prompt that alone is
 * too long throws `PromptTooLongError`. Several replicas: a rollout sticks to one, new rollouts
 * go to the least loaded, a failing replica is ejected and probed back.
 *
 * @example
 * const policy = new PolicyClient({ urls: ["http://127.0.0.1:8000/v1"], model: "Qwen/Qwen3-4B" });
 * const completion = await policy.complete({ rolloutId: "r1", messages, tools, maxTokens: 8192 });
 */
import { z } from "zod";
import { POLICY_DEFAULTS } from "../config/defaults.js";
import {
  ConfigError,
  InfrastructureError,
  ModelError,
  SandfarmError,
} from "../../common/errors.js";
import { policyApiKey } from "./endpoint-env.js";
import { HttpConnectionError, HttpStatusError, JsonHttp } from "./http.js";
import { parseContextOverflow } from "./overflow.js";
import { type Replica, ReplicaRouter } from "./replicas.js";
import { type SamplingParams, samplingSchema } from "../config/sampling.js";

export type { SamplingParams } from "../config/sampling.js";

/** One tool call exactly as the server returned it; `arguments` is never re-serialized. */
export interface ToolCallMessage {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | null;
  /** vLLM's reasoning parser output, sent back as received. */
  reasoning_content?: string | null;
  /** Newer vLLM versions name it `reasoning`; kept as received too. */
  reasoning?: string | null;
  tool_calls?: ToolCallMessage[];
  tool_call_id?: string;
}

const optionsSchema = z
  .object({
    urls: z.array(z.url()).min(1),
    model: z.string().min(1),
    apiKey: z.string().optional(),
    sampling: samplingSchema.optional(),
    chatTemplateKwargs: z.record(z.string(), z.unknown()).optional(),
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(POLICY_DEFAULTS.requestTimeoutS * 1000),
    retries: z.number().int().min(0).default(POLICY_DEFAULTS.retries),
    backoffBaseMs: z.number().int().positive().default(POLICY_DEFAULTS.backoffBaseMs),
    backoffMaxMs: z.number().int().positive().default(POLICY_DEFAULTS.backoffMaxMs),
    minCompletionTokens: z.number().int().positive().default(POLICY_DEFAULTS.minCompletionTokens),
    cacheSaltPerVersion: z.boolean().default(POLICY_DEFAULTS.cacheSaltPerVersion),
    probeIntervalMs: z.number().int().positive().default(POLICY_DEFAULTS.probeIntervalMs),
  })
  .strict();

export interface PolicyClientOptions {
  /** OpenAI-style base URLs of the replicas, each ending in `/v1`. */
  urls: string[];
  /** The served model name. */
  model: string;
  /** Bearer token. @default `policyApiKey()`: SANDFARM_POLICY_API_KEY, else OPENAI_API_KEY, else "EMPTY" */
  apiKey?: string;
  /** Defaults for every call; a request's own sampling overrides them key by key. */
  sampling?: SamplingParams;
  /**
   * `chat_template_kwargs` of every call and every `/tokenize` (e.g. `{enable_thinking: false}`),
   * so the counted prompt is the one the server renders. @default none sent
   */
  chatTemplateKwargs?: Record<string, unknown>;
  /** Time limit of one HTTP request. @default POLICY_DEFAULTS.requestTimeoutS * 1000 */
  requestTimeoutMs?: number;
  /** Extra attempts after a connection error, 408, 429 or 5xx. @default POLICY_DEFAULTS.retries */
  retries?: number;
  /** @default POLICY_DEFAULTS.backoffBaseMs */
  backoffBaseMs?: number;
  /** @default POLICY_DEFAULTS.backoffMaxMs */
  backoffMaxMs?: number;
  /**
   * The fewest completion tokens worth asking for: after a context overflow, max_tokens is
   * lowered to what the context has left, but not below this (or the request's own max_tokens,
   * if smaller); below it the context counts as spent (`ContextSpentError`).
   * @default POLICY_DEFAULTS.minCompletionTokens
   */
  minCompletionTokens?: number;
  /**
   * Send `cache_salt: "v<version>"`: prefix-cache reuse within a policy version only.
   * @default POLICY_DEFAULTS.cacheSaltPerVersion
   */
  cacheSaltPerVersion?: boolean;
  /** Time between probes of an ejected replica. @default POLICY_DEFAULTS.probeIntervalMs */
  probeIntervalMs?: number;
}

/**
 * Requests sent on a caller's behalf, failed ones included: the client adds to it as it sends
 * (an episode passes one for all its calls, so a call that finally fails still counts).
 */
export interface RequestTally {
  /** Chat-completion requests. */
  chat: number;
  /** Of those, repeats with a lower max_tokens after a context overflow. */
  overflowRetries: number;
  /** `/tokenize` requests. */
  tokenize: number;
}

export interface CompletionRequest {
  rolloutId: string;
  messages: readonly ChatMessage[];
  tools?: readonly unknown[];
  maxTokens: number;
  /** Epoch milliseconds after which no attempt starts and none is waited for. */
  deadline?: number;
  sampling?: SamplingParams;
  /** Counts every request sent for this call, whatever its outcome. */
  tally?: RequestTally;
}

export interface Completion {
  /** The assistant message, with exactly the fields that go back into history. */
  message: ChatMessage;
  finishReason: string;
  /** Undefined when the server did not return them: the episode is then not trainable. */
  promptTokenIds?: number[];
  completionTokenIds?: number[];
  /** The sampled token's logprob, one per completion token. */
  logprobs?: number[];
  usage: { promptTokens: number; completionTokens: number };
  /** The policy version when the call started. */
  version: number;
  /** The model name the answered request carried (an adapter after a LoRA update). */
  model: string;
  /** A policy update committed while this call was on the wire (a `keep` pause froze it). */
  spannedUpdate: boolean;
  replica: string;
  /** Chat-completion requests sent for this call (1 unless retried). */
  attempts: number;
  /** Of those, requests repeated with a lower max_tokens after a context overflow. */
  overflowRetries: number;
  /** The max_tokens the answered request carried (lower than asked after an overflow). */
  maxTokens: number;
  startedAt: number;
  durationMs: number;
}

/**
 * The prompt alone does not fit the model's context: the episode ends with `prompt_too_long`
 * (the model's own long trajectory; trainable under the overlong penalty).
 */
export class PromptTooLongError extends ModelError {
  constructor(
    message: string,
    readonly promptTokens: number | undefined,
  ) {
    super(message);
  }
}

/**
 * The prompt fits the model's context, but fewer than `minCompletionTokens` are left for the
 * answer: the episode's context is spent (`token_budget`, not `prompt_too_long`).
 */
export class ContextSpentError extends ModelError {}

/** No replica answered within the retries: an infrastructure failure (`policy_error`). */
export class PolicyUnavailableError extends InfrastructureError {}

/** The episode's deadline passed before the call could finish (`timeout`, overlong penalty). */
export class DeadlineExceededError extends ModelError {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `released`, or until `remaining` ms pass (the deadline check then ends the call). */
async function waitOrDeadline(released: Promise<void>, remaining: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    released,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.min(remaining, 2 ** 31 - 1));
    }),
  ]);
  clearTimeout(timer);
}

/** vLLM serves /tokenize beside /v1, not under it. */
function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/v1\/?$/, "");
}

function statusOf(error: unknown): number | undefined {
  return error instanceof HttpStatusError ? error.status : undefined;
}

function isTransportError(error: unknown): boolean {
  return error instanceof HttpStatusError || error instanceof HttpConnectionError;
}

/** Connection-level failures: the replica itself is in doubt. */
function isConnectionFailure(error: unknown): boolean {
  return error instanceof HttpConnectionError && !error.timedOut;
}

function isRetryable(error: unknown): boolean {
  if (error instanceof HttpConnectionError) return true;
  const status = statusOf(error);
  return status === 408 || status === 429 || (status !== undefined && status >= 500);
}

interface RawChoice {
  message?: Record<string, unknown>;
  finish_reason?: string;
  token_ids?: number[] | null;
  logprobs?: { content?: { token: string; logprob: number }[] | null } | null;
}

interface RawCompletion {
  choices?: RawChoice[];
  prompt_token_ids?: number[] | null;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** The assistant message with the fields a chat template reads, as received. */
function historyMessage(raw: Record<string, unknown>): ChatMessage {
  const message: ChatMessage = {
    role: "assistant",
    content: typeof raw.content === "string" ? raw.content : null,
  };
  if (typeof raw.reasoning_content === "string") message.reasoning_content = raw.reasoning_content;
  if (typeof raw.reasoning === "string") message.reasoning = raw.reasoning;
  if (Array.isArray(raw.tool_calls) && raw.tool_calls.length > 0)
    message.tool_calls = raw.tool_calls as ToolCallMessage[];
  return message;
}

/** Completion ids from `token_ids`, or from `token_id:<id>` logprob tokens. */
function completionIds(choice: RawChoice): number[] | undefined {
  if (Array.isArray(choice.token_ids)) return choice.token_ids;
  const content = choice.logprobs?.content;
  if (!content || content.length === 0) return undefined;
  const ids: number[] = [];
  for (const entry of content) {
    const match = /^token_id:(\d+)$/.exec(entry.token);
    if (!match) return undefined;
    ids.push(Number(match[1]));
  }
  return ids;
}

export class PolicyClient {
  /** The policy version stamped on each call; the farm bumps it after a weight update. */
  version = 0;
  /** While set, new model calls (and retries) wait: a policy update is under way. */
  private held?: { released: Promise<void>; release: () => void };
  /** The options in force, every default filled in. */
  readonly options: z.output<typeof optionsSchema>;
  private readonly router: ReplicaRouter;
  private readonly http: JsonHttp;
  /** The server answered /tokenize with 404 (not vLLM?): prompt lengths are not counted. */
  private tokenizeUnsupported = false;
  /** The model name calls carry: `options.model`, then the adapter of each LoRA update. */
  private served: string;
  /** Chat requests on the wire per model name, and who waits for a name to go idle. */
  private readonly onWire = new Map<string, { count: number; idle: (() => void)[] }>();

  constructor(options: PolicyClientOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(
        `policy.${issue.path.join(".") || "(options)"}: ${issue.message}; ` +
          'give {urls: ["http://host:8000/v1"], model: "name", ...}',
      );
    }
    this.options = parsed.data;
    this.served = parsed.data.model;
    const apiKey = parsed.data.apiKey ?? policyApiKey().value;
    this.http = new JsonHttp({ authorization: `Bearer ${apiKey}` });
    this.router = new ReplicaRouter(parsed.data.urls, {
      probe: (url) => this.probe(url),
      probeIntervalMs: parsed.data.probeIntervalMs,
    });
  }

  get replicas(): readonly Replica[] {
    return this.router.replicas;
  }

  /** The rollout is over; its replica stickiness is dropped. */
  finishRollout(rolloutId: string): void {
    this.router.forget(rolloutId);
  }

  close(): void {
    this.router.close();
    this.http.close();
  }

  /**
   * Stops issuing model calls: calls made (or retried) from now on wait until `release`. Calls
   * already on the wire carry on; the replicas' pause mode decides what happens to them.
   */
  hold(): void {
    if (this.held) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.held = { released, release };
  }

  /** Lets calls flow again, stamped with `version` from now on. */
  release(version: number): void {
    this.version = version;
    const held = this.held;
    this.held = undefined;
    held?.release();
  }

  /** True while a policy update holds model calls. */
  get isHeld(): boolean {
    return this.held !== undefined;
  }

  /** The model name calls carry now. */
  get model(): string {
    return this.served;
  }

  /**
   * Calls from now on carry `model: name` (vLLM selects a LoRA adapter by name). Calls already
   * on the wire keep the name they were sent with (`whenIdle`).
   */
  useModel(name: string): void {
    this.served = name;
  }

  /** Resolves once no chat request carrying `model: name` is on the wire. */
  whenIdle(name: string): Promise<void> {
    const entry = this.onWire.get(name);
    if (!entry || entry.count === 0) return Promise.resolve();
    return new Promise((resolve) => entry.idle.push(resolve));
  }

  private wire(name: string, delta: 1 | -1): void {
    const entry = this.onWire.get(name) ?? { count: 0, idle: [] };
    entry.count += delta;
    if (entry.count > 0) {
      this.onWire.set(name, entry);
      return;
    }
    this.onWire.delete(name);
    for (const resolve of entry.idle) resolve();
  }

  /**
   * The exact length of the prompt the next `complete` with these messages and tools will send,
   * as the server renders it (vLLM's `/tokenize` with the same messages, tools,
   * `chat_template_kwargs` and `add_generation_prompt: true`), on the replica the rollout sticks
   * to. Undefined when the server has no `/tokenize` (then never asked again) or no replica
   * answers: the caller falls back to the overflow retry.
   */
  async promptTokens(request: Omit<CompletionRequest, "maxTokens">): Promise<number | undefined> {
    if (this.tokenizeUnsupported) return undefined;
    const replica = this.router.pick(request.rolloutId);
    if (!replica) return undefined;
    const templateKwargs = this.options.chatTemplateKwargs;
    const body: Record<string, unknown> = {
      model: this.served,
      messages: request.messages,
      ...(request.tools && request.tools.length > 0 ? { tools: request.tools } : {}),
      add_generation_prompt: true,
      ...(templateKwargs !== undefined ? { chat_template_kwargs: templateKwargs } : {}),
    };
    const remaining = request.deadline === undefined ? Infinity : request.deadline - Date.now();
    // Counted as load, as a chat request is: the pick makes the rollout stick here, and
    // rollouts starting together must still spread over the replicas.
    replica.inFlight++;
    if (request.tally) request.tally.tokenize++;
    try {
      const reply = (await this.http.request("POST", `${serverRoot(replica.url)}/tokenize`, body, {
        timeoutMs: Math.max(1, Math.min(this.options.requestTimeoutMs, remaining)),
      })) as { count?: unknown; tokens?: unknown };
      if (typeof reply.count === "number") return reply.count;
      if (Array.isArray(reply.tokens)) return reply.tokens.length;
      this.tokenizeUnsupported = true;
      return undefined;
    } catch (error) {
      const status = statusOf(error);
      // A 404 naming the model is vLLM's "model does not exist", not a missing route.
      const modelUnknown = status === 404 && /does not exist/.test((error as Error).message);
      if ((status === 404 && !modelUnknown) || status === 405 || status === 501)
        this.tokenizeUnsupported = true;
      return undefined;
    } finally {
      replica.inFlight--;
    }
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    const startedAt = Date.now();
    let version = this.version;
    const floor = Math.min(this.options.minCompletionTokens, request.maxTokens);
    let maxTokens = request.maxTokens;
    let attempts = 0;
    let overflowRetries = 0;
    let failures = 0;
    for (;;) {
      const remaining = request.deadline === undefined ? Infinity : request.deadline - Date.now();
      if (remaining <= 0) throw new DeadlineExceededError("the episode's deadline passed");
      if (this.held) {
        await waitOrDeadline(this.held.released, remaining);
        continue;
      }
      // Tokens are tagged with the version at the start of the attempt that produced them.
      version = this.version;
      const replica = this.router.pick(request.rolloutId);
      if (!replica) {
        failures = await this.backOff(failures, remaining, "no policy replica is healthy");
        continue;
      }
      attempts++;
      if (request.tally) request.tally.chat++;
      replica.inFlight++;
      // The model name goes with the version: both are what the attempt started under.
      const model = this.served;
      this.wire(model, 1);
      try {
        const raw = await this.send(replica, request, { maxTokens, version, model }, remaining);
        this.router.succeeded(replica);
        return this.completion(raw, {
          version,
          model,
          replica,
          attempts,
          overflowRetries,
          maxTokens,
          startedAt,
        });
      } catch (error) {
        // Transport failures are retried below; any other of sandfarm's errors is final.
        if (error instanceof SandfarmError && !isTransportError(error)) throw error;
        const status = statusOf(error);
        if (status === 400 && error instanceof HttpStatusError) {
          const overflow = parseContextOverflow(error.message);
          if (overflow) {
            if (overflow.kind === "prompt_too_long")
              throw new PromptTooLongError(error.message, overflow.promptTokens);
            const lowered =
              overflow.kind === "completion_too_long"
                ? Math.min(maxTokens - 1, overflow.maxContext - overflow.promptTokens)
                : Math.floor(maxTokens / 2);
            if (lowered < floor)
              throw new ContextSpentError(
                `fewer than ${floor} tokens of the context are left for the answer: ${error.message}`,
              );
            maxTokens = lowered;
            overflowRetries++;
            if (request.tally) request.tally.overflowRetries++;
            continue;
          }
        }
        if (Date.now() >= (request.deadline ?? Infinity))
          throw new DeadlineExceededError("the episode's deadline passed during a policy call", {
            cause: error,
          });
        // A call that failed while an update holds traffic was most likely aborted by the pause
        // (mode=abort): not the replica's fault, and not a retry spent. Wait for the release.
        if (this.held && (isConnectionFailure(error) || (status !== undefined && status >= 500)))
          continue;
        if (!isRetryable(error)) {
          throw new PolicyUnavailableError(
            `the policy at ${replica.url} refused the call: ${(error as Error).message}`,
            { cause: error },
          );
        }
        if (isConnectionFailure(error) || (status !== undefined && status >= 500))
          this.router.failed(replica);
        if (failures >= this.options.retries)
          throw new PolicyUnavailableError(
            `the policy failed ${failures + 1} times; last: ${(error as Error).message}`,
            { cause: error },
          );
        failures = await this.backOff(failures, remaining, (error as Error).message);
      } finally {
        replica.inFlight--;
        this.wire(model, -1);
      }
    }
  }

  /** Waits a jittered exponential backoff (bounded by the deadline); returns failures + 1. */
  private async backOff(failures: number, remaining: number, reason: string): Promise<number> {
    if (failures >= this.options.retries)
      throw new PolicyUnavailableError(`the policy failed ${failures + 1} times; last: ${reason}`);
    const ceiling = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** failures);
    const wait = Math.random() * ceiling;
    if (wait >= remaining) {
      await sleep(Math.max(0, remaining));
      throw new DeadlineExceededError(`the episode's deadline passed while retrying (${reason})`);
    }
    await sleep(wait);
    return failures + 1;
  }

  private async send(
    replica: Replica,
    request: CompletionRequest,
    call: { maxTokens: number; version: number; model: string },
    remaining: number,
  ): Promise<RawCompletion> {
    const { maxTokens, version, model } = call;
    const { extraBody, ...sampling } = { ...this.options.sampling, ...request.sampling };
    const templateKwargs = this.options.chatTemplateKwargs;
    const body: Record<string, unknown> = {
      model,
      messages: request.messages,
      ...(request.tools && request.tools.length > 0 ? { tools: request.tools } : {}),
      max_tokens: maxTokens,
      ...sampling,
      logprobs: true,
      return_token_ids: true,
      return_tokens_as_token_ids: true,
      ...(this.options.cacheSaltPerVersion ? { cache_salt: `v${version}` } : {}),
      ...(templateKwargs !== undefined ? { chat_template_kwargs: templateKwargs } : {}),
      ...extraBody,
      stream: false,
    };
    const timeoutMs = Math.max(1, Math.min(this.options.requestTimeoutMs, remaining));
    return (await this.http.request("POST", `${replica.url}/chat/completions`, body, {
      timeoutMs,
    })) as RawCompletion;
  }

  private completion(
    raw: RawCompletion,
    call: {
      version: number;
      model: string;
      replica: Replica;
      attempts: number;
      overflowRetries: number;
      maxTokens: number;
      startedAt: number;
    },
  ): Completion {
    const choice = raw.choices?.[0];
    if (!choice?.message) {
      throw new PolicyUnavailableError(`the policy at ${call.replica.url} returned no choice`);
    }
    const completionTokenIds = completionIds(choice);
    const logprobs = choice.logprobs?.content?.map((entry) => entry.logprob);
    const promptTokenIds = Array.isArray(raw.prompt_token_ids) ? raw.prompt_token_ids : undefined;
    return {
      message: historyMessage(choice.message),
      finishReason: choice.finish_reason ?? "stop",
      ...(promptTokenIds ? { promptTokenIds } : {}),
      ...(completionTokenIds ? { completionTokenIds } : {}),
      ...(logprobs && completionTokenIds && logprobs.length === completionTokenIds.length
        ? { logprobs }
        : {}),
      usage: {
        promptTokens: raw.usage?.prompt_tokens ?? promptTokenIds?.length ?? 0,
        completionTokens: raw.usage?.completion_tokens ?? completionTokenIds?.length ?? 0,
      },
      version: call.version,
      model: call.model,
      spannedUpdate: this.version !== call.version,
      replica: call.replica.url,
      attempts: call.attempts,
      overflowRetries: call.overflowRetries,
      maxTokens: call.maxTokens,
      startedAt: call.startedAt,
      durationMs: Date.now() - call.startedAt,
    };
  }

  private async probe(url: string): Promise<boolean> {
    try {
      await this.http.request("GET", `${url}/models`, undefined, { timeoutMs: 5000 });
      return true;
    } catch {
      return false;
    }
  }
}
