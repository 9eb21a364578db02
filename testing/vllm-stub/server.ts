/**
 * A test double for a vLLM policy server: a loopback HTTP server that speaks vLLM's
 * OpenAI-compatible wire format field for field (non-streaming `POST /v1/chat/completions` with
 * `return_token_ids` and logprobs, `GET /v1/models`, `/tokenize`, `/detokenize`, `/pause`,
 * `/resume`, `/v1/load_lora_adapter`, `/health`), with scripted replies, its own non-additive
 * tokenizer and segment-wise chat template, vLLM's context-length errors, and injectable faults.
 * Not a model: replies come from scripts chosen by `[script:NAME]` in the conversation.
 *
 * @example
 * const stub = await startVllmStub({
 *   scripts: { hello: [{ reasoning: "Say hi.", content: "Hi!" }] },
 *   faults: (_body, call) => (call === 0 ? { status: 500 } : undefined),
 * });
 * const client = new OpenAI({ baseURL: stub.baseURL, apiKey: "EMPTY", maxRetries: 0 });
 * // ... messages: [{ role: "user", content: "[script:hello] greet me" }]
 * await stub.close();
 */
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { parseAssistantText } from "./parser.js";
import {
  type Script,
  type ScriptTurn,
  sampleTurn,
  scriptKeyOf,
  scriptedTurn,
  stubLogprob,
} from "./scripts.js";
import { type ChatMessage, renderChat, stubTokenizer } from "./template.js";
import type { StubTokenizer } from "./tokenizer.js";

/** Which of vLLM's context-overflow wordings (rollout-facts.md) to send, or one no parser knows. */
export type OverflowWording = 1 | 2 | 3 | "unknown";

/**
 * What to do to one chat call instead of (or before) answering it. `delayMs` applies first; then
 * the first of `dropConnection`, `status`, `overflow` that is set decides the answer.
 */
export interface Fault {
  /** Answer only after this long; the call counts as in flight meanwhile (see pause modes). */
  delayMs?: number;
  /** Destroy the socket without any response. */
  dropConnection?: boolean;
  /** Answer with this HTTP status and `body` (default: a vLLM error body naming the fault). */
  status?: number;
  body?: unknown;
  /** Answer with a context-overflow 400 in this wording, with the request's real numbers. */
  overflow?: OverflowWording;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The `authorization` header as received, if any. */
  authorization: string | undefined;
  /** Parsed JSON body (the raw text when it is not JSON); undefined for requests without one. */
  body: unknown;
}

function errorType(status: number): string {
  if (status === 400) return "BadRequestError";
  if (status === 404) return "NotFoundError";
  return "InternalServerError";
}

/** An error body as vLLM's OpenAI server sends it. */
export function vllmError(status: number, message: string, type = errorType(status)): unknown {
  return { error: { message, type, param: null, code: status } };
}

/**
 * A reply chosen per chat call instead of a script, for single-call clients such as an LLM
 * judge: the assistant's content; an HTTP status with its body; or content after a delay.
 */
export type ChatReply =
  string | { status: number; body: unknown } | { delayMs: number; content: string };

export type ChatResponder = (
  body: ChatCompletionRequestBody,
  callIndex: number,
) => ChatReply | Promise<ChatReply>;

/** Chooses a fault per chat call; `callIndex` counts valid chat requests from 0. */
export type FaultInjector = (
  request: ChatCompletionRequestBody,
  callIndex: number,
) => Fault | undefined;

export type PauseMode = "abort" | "wait" | "keep";

/** One `/pause` or `/resume` call, in order. */
export interface PauseEvent {
  action: "pause" | "resume";
  /** The pause mode; undefined for resume. */
  mode: PauseMode | undefined;
  /** Chat calls in flight when the call arrived. */
  inFlight: number;
}

export interface VllmStubOptions {
  /** The served model name. @default "stub-model" */
  model?: string;
  /** When set, `/v1/*` requests need `Authorization: Bearer <apiKey>` (vLLM's `--api-key`). */
  apiKey?: string;
  /** vLLM's `--max-model-len`. @default 32768 */
  maxModelLen?: number;
  /**
   * Leave `max_model_len` out of `/v1/models`, as OpenAI-compatible servers other than vLLM do
   * (requests are still refused past `maxModelLen`). @default false
   */
  omitMaxModelLen?: boolean;
  /** Scripts by name, chosen by `[script:NAME]` in a system or user message. @default {} */
  scripts?: Record<string, Script>;
  /** The script for conversations that name none. @default none: such calls get a 400 */
  defaultScript?: string;
  /** Render history as Qwen3 does, dropping reasoning before the last user message. @default false */
  dropEarlierReasoning?: boolean;
  /**
   * Treat tool-call arguments as production vLLM does: the hermes parser returns
   * `json.dumps(arguments)`, and history renders parsed-then-dumped arguments. Arguments sampled
   * in any other spacing then stop the next prompt from extending the last one. @default false
   * (arguments returned and rendered verbatim)
   */
  reserializeToolArguments?: boolean;
  /** Injects faults per chat call. @default none */
  faults?: FaultInjector;
  /** Answers every chat call itself, in place of `scripts` and `faults`. @default none */
  responder?: ChatResponder;
  /**
   * Injects faults into the admin routes (`/pause`, `/resume`, `/v1/load_lora_adapter`,
   * `/collective_rpc`) by path: a delay (a replica slow to pause or load), a status, a dropped
   * connection. `overflow` does not apply. @default none
   */
  adminFaults?: (path: string) => Fault | undefined;
  /**
   * false: behave like vLLM started without `--enable-auto-tool-choice` (a call offering tools
   * with tool_choice auto is a 400). @default true
   */
  autoToolChoice?: boolean;
  /** false: behave like a vLLM too old for `return_token_ids` (the field is ignored). @default true */
  returnTokenIds?: boolean;
  /** The wording of a prompt + max_tokens overflow. @default 3 (current vLLM) */
  overflowWording?: OverflowWording;
  /**
   * Error body shape: "nested" `{error: {message, type, param, code}}` as current vLLM sends (and
   * the `openai` SDK reads), or "flat" `{object: "error", message, type, param, code}` as vLLM
   * before 0.10 sent. @default "nested"
   */
  errorShape?: "nested" | "flat";
}

export interface RunningVllmStub {
  /** The OpenAI-style base URL, ending in `/v1`. */
  baseURL: string;
  /** `http://127.0.0.1:PORT`, for vLLM's routes outside `/v1` (`/tokenize`, `/pause`, ...). */
  origin: string;
  tokenizer: StubTokenizer;
  /** Every request received, in order, 401s included. */
  requests: RecordedRequest[];
  /** Every `/pause` and `/resume` call, in order. */
  pauses: PauseEvent[];
  /** Valid chat-completion calls received so far. */
  readonly chatCalls: number;
  /** LoRA adapters loaded through `/v1/load_lora_adapter`: name to path. */
  readonly loraAdapters: ReadonlyMap<string, string>;
  /** Every `/collective_rpc` call (vLLM's dev-mode route to a method on every worker), in order. */
  collectiveRpcs: { method: string; kwargs: Record<string, unknown> }[];
  close(): Promise<void>;
}

/** vLLM validates `chat_template_kwargs` as a dict (pydantic) before rendering. */
const templateKwargsSchema = z.record(z.string(), z.unknown()).nullish();

const chatRequestSchema = z.looseObject({
  model: z.string().nullish(),
  messages: z.array(z.looseObject({ role: z.string() })).min(1),
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
  max_tokens: z.number().int().nullish(),
  max_completion_tokens: z.number().int().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).nullish(),
  return_token_ids: z.boolean().nullish(),
  return_tokens_as_token_ids: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  n: z.number().int().nullish(),
  chat_template_kwargs: templateKwargsSchema,
});

/** A chat-completions request body as the stub reads it; other fields are kept as sent. */
export type ChatCompletionRequestBody = z.infer<typeof chatRequestSchema> & {
  messages: ChatMessage[];
};

const tokenizePromptSchema = z.looseObject({
  prompt: z.string(),
  return_token_strs: z.boolean().nullish(),
});

const tokenizeChatSchema = z.looseObject({
  model: z.string().nullish(),
  chat_template_kwargs: templateKwargsSchema,
  messages: z.array(z.looseObject({ role: z.string() })),
  tools: z.array(z.unknown()).nullish(),
  add_generation_prompt: z.boolean().nullish(),
  return_token_strs: z.boolean().nullish(),
});

const detokenizeRequestSchema = z.looseObject({ tokens: z.array(z.number().int()) });

const ADMIN_ROUTES = new Set([
  "/pause",
  "/resume",
  "/v1/load_lora_adapter",
  "/v1/unload_lora_adapter",
  "/collective_rpc",
]);

const collectiveRpcSchema = z.looseObject({
  method: z.string().min(1),
  args: z.array(z.unknown()).optional(),
  kwargs: z.record(z.string(), z.unknown()).optional(),
  timeout: z.number().nullish(),
});

/** The worker methods `/collective_rpc` reaches on the stub (sandfarm's weights reload). */
const WORKER_METHODS: ReadonlySet<string> = new Set(["reload_weights"]);

const loraRequestSchema = z.looseObject({
  lora_name: z.string().min(1),
  lora_path: z.string().min(1).optional(),
  load_inplace: z.boolean().nullish(),
});

/** The text vLLM sends when the prompt alone fills the context. */
export function promptTooLongMessage(maxModelLen: number, promptTokens: number): string {
  return (
    `This model's maximum context length is ${maxModelLen} tokens. However, your request has ` +
    `${promptTokens} input tokens. Please reduce the length of the input messages.`
  );
}

/** The text of a prompt + max_tokens overflow in each wording of rollout-facts.md. */
export function overflowMessage(
  wording: OverflowWording,
  maxModelLen: number,
  promptTokens: number,
  maxTokens: number,
): string {
  switch (wording) {
    case 1:
      return (
        `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
        `${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in ` +
        `the completion). Please reduce the length of the messages or completion.`
      );
    case 2:
      return promptTooLongMessage(maxModelLen, promptTokens);
    case 3:
      return (
        `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's ` +
        `maximum context length is ${maxModelLen} tokens and your request has ${promptTokens} ` +
        `input tokens (${maxTokens} > ${maxModelLen} - ${promptTokens}).`
      );
    case "unknown":
      return "The input does not fit the context window of this deployment.";
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: "BadRequestError",
  404: "NotFoundError",
  429: "RateLimitError",
  501: "NotImplementedError",
};

interface Reply {
  status: number;
  body: unknown;
  /** Plain-text bodies (vLLM's LoRA routes) are sent as text/plain. */
  text?: boolean;
  /** Refused by validation, which vLLM does before the engine: no pause, no latency. */
  refused?: boolean;
}

/** A chat call between admission and answer; pausing with mode=abort aborts it. */
interface InFlightCall {
  controller: AbortController;
}

/** Why a chat call stopped before its answer. */
class Interrupted extends Error {
  constructor(readonly why: "paused with mode=abort" | "stub closed" | "client disconnected") {
    super(`chat call interrupted: ${why}`);
    this.name = new.target.name;
  }
}

interface Gate {
  resolve(): void;
  reject(reason: Interrupted): void;
}

const MODES: readonly PauseMode[] = ["abort", "wait", "keep"];

/** Starts the stub on a free loopback port. Options are checked before anything listens. */
export async function startVllmStub(options: VllmStubOptions = {}): Promise<RunningVllmStub> {
  const stub = new VllmStub(options);
  return stub.listen();
}

class VllmStub {
  readonly requests: RecordedRequest[] = [];
  readonly pauses: PauseEvent[] = [];
  readonly loraAdapters = new Map<string, string>();
  readonly collectiveRpcs: { method: string; kwargs: Record<string, unknown> }[] = [];
  chatCalls = 0;
  private readonly model: string;
  private readonly maxModelLen: number;
  private readonly scripts: Record<string, Script>;
  private readonly overflowWording: OverflowWording;
  private readonly created = Math.floor(Date.now() / 1000);
  private paused: PauseMode | undefined;
  private readonly gates = new Set<Gate>();
  private readonly inFlight = new Set<InFlightCall>();
  private readonly drainWaiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: VllmStubOptions) {
    this.model = options.model ?? "stub-model";
    this.maxModelLen = options.maxModelLen ?? 32768;
    this.scripts = options.scripts ?? {};
    this.overflowWording = options.overflowWording ?? 3;
    if (!Number.isInteger(this.maxModelLen) || this.maxModelLen < 2) {
      throw new TypeError(
        `vLLM stub: maxModelLen must be an integer >= 2, got ${this.maxModelLen}`,
      );
    }
    if (options.defaultScript !== undefined && !(options.defaultScript in this.scripts)) {
      throw new TypeError(
        `vLLM stub: defaultScript '${options.defaultScript}' is not in scripts ` +
          `(${Object.keys(this.scripts).join(", ") || "none"}); add it or drop defaultScript`,
      );
    }
    if (![1, 2, 3, "unknown"].includes(this.overflowWording)) {
      throw new TypeError(`vLLM stub: overflowWording must be 1, 2, 3 or "unknown"`);
    }
    if (options.model === "") throw new TypeError("vLLM stub: model must not be empty");
  }

  async listen(): Promise<RunningVllmStub> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch(() => response.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    const chatCalls = (): number => this.chatCalls;
    return {
      baseURL: `${origin}/v1`,
      origin,
      tokenizer: stubTokenizer,
      requests: this.requests,
      pauses: this.pauses,
      get chatCalls() {
        return chatCalls();
      },
      loraAdapters: this.loraAdapters,
      collectiveRpcs: this.collectiveRpcs,
      close: async () => {
        this.closed = true;
        for (const call of this.inFlight) call.controller.abort(new Interrupted("stub closed"));
        for (const gate of this.gates) gate.reject(new Interrupted("stub closed"));
        for (const waiter of this.drainWaiters) waiter();
        this.drainWaiters.clear();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  private error(status: number, message: string, explicitType?: string): unknown {
    const type =
      explicitType ??
      ERROR_TYPES[status] ??
      (status >= 500 ? "InternalServerError" : "BadRequestError");
    if (this.options.errorShape === "flat") {
      return { object: "error", message, type, param: null, code: status };
    }
    return vllmError(status, message, type);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://stub");
    const method = request.method ?? "GET";
    const raw = await readBody(request);
    let body: unknown;
    let badJson = false;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        badJson = true;
      }
    }
    this.requests.push({
      method,
      path: url.pathname,
      authorization: request.headers.authorization,
      body: badJson ? raw : body,
    });

    // vLLM's --api-key guards only the /v1 routes.
    if (
      this.options.apiKey !== undefined &&
      url.pathname.startsWith("/v1") &&
      request.headers.authorization !== `Bearer ${this.options.apiKey}`
    ) {
      send(response, { status: 401, body: { error: "Unauthorized" } });
      return;
    }
    if (badJson) {
      send(response, { status: 400, body: this.error(400, "the request body is not valid JSON") });
      return;
    }
    const route = `${method} ${url.pathname}`;
    if (method === "POST" && ADMIN_ROUTES.has(url.pathname)) {
      const fault = this.options.adminFaults?.(url.pathname);
      if (fault?.delayMs) await sleep(fault.delayMs);
      if (fault?.dropConnection) {
        request.socket.destroy();
        return;
      }
      if (fault?.status !== undefined) {
        send(response, {
          status: fault.status,
          body:
            fault.body ??
            this.error(fault.status, `vLLM stub: injected ${fault.status} on ${url.pathname}`),
        });
        return;
      }
    }
    switch (route) {
      case "GET /health":
        response.writeHead(200, { "content-length": 0 }).end();
        return;
      case "GET /v1/models":
        send(response, { status: 200, body: this.modelList() });
        return;
      case "POST /v1/chat/completions":
        await this.chat(body, request, response);
        return;
      case "POST /tokenize":
        send(response, this.tokenize(body));
        return;
      case "POST /detokenize":
        send(response, this.detokenize(body));
        return;
      case "POST /pause":
        send(response, await this.pause(url.searchParams.get("mode")));
        return;
      case "POST /resume":
        send(response, this.resume());
        return;
      case "GET /is_paused":
        send(response, { status: 200, body: { is_paused: this.paused !== undefined } });
        return;
      case "POST /v1/load_lora_adapter":
        send(response, this.loadLora(body));
        return;
      case "POST /v1/unload_lora_adapter":
        send(response, this.unloadLora(body));
        return;
      case "POST /collective_rpc":
        send(response, this.collectiveRpc(body));
        return;
    }
    const known = [
      "/health",
      "/v1/models",
      "/v1/chat/completions",
      "/tokenize",
      "/detokenize",
      "/pause",
      "/resume",
      "/is_paused",
      "/v1/load_lora_adapter",
      "/v1/unload_lora_adapter",
      "/collective_rpc",
    ];
    if (known.includes(url.pathname)) {
      send(response, { status: 405, body: { detail: "Method Not Allowed" } });
    } else {
      send(response, { status: 404, body: { detail: "Not Found" } });
    }
  }

  private async chat(
    rawBody: unknown,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const parsed = chatRequestSchema.safeParse(rawBody);
    if (!parsed.success) {
      send(response, { status: 400, body: this.error(400, z.prettifyError(parsed.error)) });
      return;
    }
    const body = parsed.data as ChatCompletionRequestBody;
    const callIndex = this.chatCalls++;
    let fault: Fault | undefined;
    let reply: Reply;
    try {
      let answered: ScriptTurn | undefined;
      if (this.options.responder) {
        const chosen = await this.options.responder(body, callIndex);
        if (typeof chosen === "string") answered = { content: chosen };
        else if ("status" in chosen) fault = { status: chosen.status, body: chosen.body };
        else {
          fault = { delayMs: chosen.delayMs };
          answered = { content: chosen.content };
        }
      } else fault = this.options.faults?.(body, callIndex);
      reply = await this.completion(body, fault, answered);
    } catch (error) {
      reply = {
        status: 500,
        body: this.error(500, `vLLM stub: a script or fault injector threw: ${String(error)}`),
      };
    }
    if (reply.refused && !fault?.delayMs) {
      send(response, reply);
      return;
    }

    const call: InFlightCall = { controller: new AbortController() };
    response.on("close", () => {
      if (!response.writableEnded) call.controller.abort(new Interrupted("client disconnected"));
    });
    try {
      await this.admit(call.controller.signal);
      this.inFlight.add(call);
      if (fault?.delayMs) await sleep(fault.delayMs, undefined, { signal: call.controller.signal });
      // Paused with mode=keep while in flight: the request freezes until resume.
      if (this.paused === "keep") await this.admit(call.controller.signal);
      call.controller.signal.throwIfAborted();
    } catch (error) {
      const signal = call.controller.signal;
      const reason = (signal.aborted ? signal.reason : error) as unknown;
      if (reason instanceof Interrupted && reason.why === "paused with mode=abort") {
        send(response, {
          status: 500,
          body: this.error(500, "vLLM stub: the request was aborted by /pause?mode=abort"),
        });
      } else if (!response.destroyed) {
        response.destroy();
      }
      this.leave(call);
      return;
    }
    if (fault?.dropConnection) {
      request.socket.destroy();
    } else {
      send(response, reply);
    }
    this.leave(call);
  }

  /** Waits while paused with keep or wait; refuses while paused with abort. */
  private async admit(signal: AbortSignal): Promise<void> {
    if (this.closed) throw new Interrupted("stub closed");
    if (this.paused === undefined) return;
    if (this.paused === "abort") throw new Interrupted("paused with mode=abort");
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => gate.reject(new Interrupted("client disconnected"));
      const gate: Gate = {
        resolve: () => {
          this.gates.delete(gate);
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (reason) => {
          this.gates.delete(gate);
          signal.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      this.gates.add(gate);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private leave(call: InFlightCall): void {
    this.inFlight.delete(call);
    if (this.inFlight.size === 0) {
      for (const waiter of this.drainWaiters) waiter();
      this.drainWaiters.clear();
    }
  }

  /** The scripted turn for this conversation, or a 400 saying how to name a script. */
  private async scriptedReply(body: ChatCompletionRequestBody): Promise<ScriptTurn | Reply> {
    const key = scriptKeyOf(body.messages) ?? this.options.defaultScript;
    const script = key === undefined ? undefined : this.scripts[key];
    if (!script) {
      const known = Object.keys(this.scripts).join(", ") || "none";
      const problem =
        key === undefined ? "names no script" : `names script '${key}', which is unknown`;
      return {
        refused: true,
        status: 400,
        body: this.error(
          400,
          `vLLM stub: the conversation ${problem}; put "[script:NAME]" in a user message or set ` +
            `defaultScript (scripts: ${known})`,
        ),
      };
    }
    return scriptedTurn(script, body.messages);
  }

  private async completion(
    body: ChatCompletionRequestBody,
    fault: Fault | undefined,
    answered: ScriptTurn | undefined,
  ): Promise<Reply> {
    if (fault?.status !== undefined) {
      return {
        status: fault.status,
        body:
          fault.body ?? this.error(fault.status, `vLLM stub: injected fault, HTTP ${fault.status}`),
      };
    }
    const model = body.model ?? this.model;
    if (model !== this.model && !this.loraAdapters.has(model)) {
      return {
        refused: true,
        status: 404,
        body: this.error(404, `The model \`${model}\` does not exist.`),
      };
    }
    if (body.stream) {
      return {
        refused: true,
        status: 400,
        body: this.error(400, "vLLM stub: only non-streaming requests are served (stream: false)"),
      };
    }
    if ((body.n ?? 1) !== 1) {
      return { refused: true, status: 400, body: this.error(400, "vLLM stub: only n=1 is served") };
    }
    if (body.top_logprobs && !body.logprobs) {
      return {
        refused: true,
        status: 400,
        body: this.error(400, "when using `top_logprobs`, `logprobs` must be set to true."),
      };
    }
    const requested = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    if (requested !== undefined && requested < 1) {
      return {
        refused: true,
        status: 400,
        body: this.error(400, `max_tokens must be at least 1, got ${requested}.`),
      };
    }
    const tools = body.tools ?? [];
    const autoChoice = body.tool_choice === undefined || body.tool_choice === "auto";
    if (this.options.autoToolChoice === false && tools.length > 0 && autoChoice) {
      return {
        refused: true,
        status: 400,
        body: this.error(
          400,
          '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
        ),
      };
    }
    const promptIds = renderChat(body.messages, tools, {
      addGenerationPrompt: true,
      dropEarlierReasoning: this.options.dropEarlierReasoning ?? false,
      reserializeToolArguments: this.options.reserializeToolArguments ?? false,
      enableThinking: body.chat_template_kwargs?.enable_thinking !== false,
    });
    const promptTokens = promptIds.length;
    const maxTokens = requested ?? this.maxModelLen - promptTokens;
    if (fault?.overflow !== undefined) {
      const message = overflowMessage(fault.overflow, this.maxModelLen, promptTokens, maxTokens);
      return { refused: true, status: 400, body: this.error(400, message) };
    }
    if (promptTokens >= this.maxModelLen) {
      return {
        refused: true,
        status: 400,
        body: this.error(400, promptTooLongMessage(this.maxModelLen, promptTokens)),
      };
    }
    if (promptTokens + maxTokens > this.maxModelLen) {
      const message = overflowMessage(
        this.overflowWording,
        this.maxModelLen,
        promptTokens,
        maxTokens,
      );
      return { refused: true, status: 400, body: this.error(400, message) };
    }

    const turn = answered ?? (await this.scriptedReply(body));
    if ("status" in turn) return turn;
    const sampled = sampleTurn(turn);
    const truncated = sampled.ids.length > maxTokens;
    const ids = truncated ? sampled.ids.slice(0, maxTokens) : sampled.ids;
    const stopped = sampled.finishReason === "stop" && !truncated;
    const toolsOffered = tools.length > 0 && body.tool_choice !== "none";
    const message = parseAssistantText(stubTokenizer.decode(ids, { skipSpecialTokens: true }), {
      parseToolCalls: stopped && toolsOffered,
      reserializeToolArguments: this.options.reserializeToolArguments ?? false,
    });
    const finishReason = !stopped ? "length" : message.toolCalls.length > 0 ? "tool_calls" : "stop";
    const returnIds = body.return_token_ids === true && this.options.returnTokenIds !== false;
    return {
      status: 200,
      body: {
        id: `chatcmpl-${hexId()}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: message.content,
              refusal: null,
              annotations: null,
              audio: null,
              function_call: null,
              tool_calls: message.toolCalls.map((call) => ({
                id: `chatcmpl-tool-${hexId()}`,
                type: "function",
                function: { name: call.name, arguments: call.arguments },
              })),
              reasoning_content: message.reasoning,
            },
            logprobs: body.logprobs ? logprobsOf(ids, body) : null,
            finish_reason: finishReason,
            stop_reason: null,
            token_ids: returnIds ? ids : null,
          },
        ],
        service_tier: null,
        system_fingerprint: null,
        usage: {
          prompt_tokens: promptTokens,
          total_tokens: promptTokens + ids.length,
          completion_tokens: ids.length,
          prompt_tokens_details: null,
        },
        prompt_logprobs: null,
        prompt_token_ids: returnIds ? promptIds : null,
        kv_transfer_params: null,
      },
    };
  }

  private async pause(modeParam: string | null): Promise<Reply> {
    const mode = (modeParam ?? "abort") as PauseMode;
    if (!MODES.includes(mode)) {
      return {
        status: 400,
        body: this.error(400, `mode must be one of abort, wait, keep; got '${modeParam}'`),
      };
    }
    this.pauses.push({ action: "pause", mode, inFlight: this.inFlight.size });
    this.paused = mode;
    if (mode === "abort") {
      for (const call of this.inFlight)
        call.controller.abort(new Interrupted("paused with mode=abort"));
      for (const gate of this.gates) gate.reject(new Interrupted("paused with mode=abort"));
    } else if (mode === "wait" && this.inFlight.size > 0) {
      await new Promise<void>((resolve) => this.drainWaiters.add(resolve));
    }
    return { status: 200, body: { status: "paused" } };
  }

  private resume(): Reply {
    this.pauses.push({ action: "resume", mode: undefined, inFlight: this.inFlight.size });
    this.paused = undefined;
    for (const gate of this.gates) gate.resolve();
    return { status: 200, body: { status: "resumed" } };
  }

  /** vLLM's `_check_model`: a 404 unless `model` is absent, the served name or a loaded adapter. */
  private unknownModel(rawBody: unknown): Reply | undefined {
    const model = (rawBody as { model?: unknown } | null | undefined)?.model;
    // Absent, null or not a string: no model to check (the form's own validation decides).
    if (typeof model !== "string" || model === this.model || this.loraAdapters.has(model)) {
      return undefined;
    }
    return { status: 404, body: this.error(404, `The model \`${model}\` does not exist.`) };
  }

  private tokenize(rawBody: unknown): Reply {
    // vLLM checks the model before reading the request's form (prompt or messages).
    const unknown = this.unknownModel(rawBody);
    if (unknown) return unknown;
    const promptRequest = tokenizePromptSchema.safeParse(rawBody);
    const chatRequest = tokenizeChatSchema.safeParse(rawBody);
    let tokens: number[];
    let returnTokenStrs: boolean;
    if (promptRequest.success) {
      tokens = stubTokenizer.encode(promptRequest.data.prompt);
      returnTokenStrs = promptRequest.data.return_token_strs ?? false;
    } else if (chatRequest.success) {
      const request = chatRequest.data;
      tokens = renderChat(request.messages, request.tools ?? [], {
        addGenerationPrompt: request.add_generation_prompt ?? true,
        dropEarlierReasoning: this.options.dropEarlierReasoning ?? false,
        reserializeToolArguments: this.options.reserializeToolArguments ?? false,
        enableThinking: request.chat_template_kwargs?.enable_thinking !== false,
      });
      returnTokenStrs = request.return_token_strs ?? false;
    } else {
      return {
        status: 400,
        body: this.error(400, "a tokenize request needs 'prompt' (a string) or 'messages'"),
      };
    }
    return {
      status: 200,
      body: {
        count: tokens.length,
        max_model_len: this.maxModelLen,
        tokens,
        token_strs: returnTokenStrs ? tokens.map((id) => stubTokenizer.tokenText(id)) : null,
      },
    };
  }

  private detokenize(rawBody: unknown): Reply {
    const unknown = this.unknownModel(rawBody);
    if (unknown) return unknown;
    const parsed = detokenizeRequestSchema.safeParse(rawBody);
    if (!parsed.success) {
      return { status: 400, body: this.error(400, z.prettifyError(parsed.error)) };
    }
    try {
      return { status: 200, body: { prompt: stubTokenizer.decode(parsed.data.tokens) } };
    } catch (error) {
      return { status: 400, body: this.error(400, (error as Error).message) };
    }
  }

  private collectiveRpc(rawBody: unknown): Reply {
    const parsed = collectiveRpcSchema.safeParse(rawBody);
    if (!parsed.success)
      return {
        status: 400,
        body: this.error(400, "'method' must be provided for collective_rpc."),
      };
    this.collectiveRpcs.push({ method: parsed.data.method, kwargs: parsed.data.kwargs ?? {} });
    // vLLM calls getattr(worker, method) on every worker: a method the worker lacks fails there
    // and the route answers 500.
    if (!WORKER_METHODS.has(parsed.data.method)) {
      return {
        status: 500,
        body: this.error(
          500,
          `'Worker' object has no attribute '${parsed.data.method}' (the stub serves ` +
            `${[...WORKER_METHODS].join(", ")})`,
        ),
      };
    }
    // One worker here; vLLM answers with each worker's return value.
    return { status: 200, body: { results: [null] } };
  }

  private loadLora(rawBody: unknown): Reply {
    const parsed = loraRequestSchema.safeParse(rawBody);
    if (!parsed.success || parsed.data.lora_path === undefined) {
      return {
        status: 400,
        // vLLM's serving_models types its own LoRA checks "InvalidUserInput".
        body: this.error(
          400,
          "Both 'lora_name' and 'lora_path' must be provided.",
          "InvalidUserInput",
        ),
      };
    }
    const { lora_name: name, lora_path: path, load_inplace: inPlace } = parsed.data;
    if (this.loraAdapters.has(name) && !inPlace) {
      return {
        status: 400,
        body: this.error(400, `The lora adapter '${name}' has already been loaded.`),
      };
    }
    this.loraAdapters.set(name, path);
    return { status: 200, body: `Success: LoRA adapter '${name}' added successfully.`, text: true };
  }

  private unloadLora(rawBody: unknown): Reply {
    const parsed = loraRequestSchema.safeParse(rawBody);
    if (!parsed.success) {
      return {
        status: 400,
        body: this.error(400, "'lora_name' needs to be provided to unload a LoRA adapter."),
      };
    }
    const name = parsed.data.lora_name;
    if (!this.loraAdapters.delete(name)) {
      return {
        status: 404,
        body: this.error(404, `The lora adapter '${name}' cannot be found.`),
      };
    }
    return {
      status: 200,
      body: `Success: LoRA adapter '${name}' removed successfully.`,
      text: true,
    };
  }

  private modelList(): unknown {
    const card = (id: string, root: string, parent: string | null, maxModelLen: number | null) => ({
      id,
      object: "model",
      created: this.created,
      owned_by: "vllm",
      root,
      parent,
      max_model_len: maxModelLen,
      permission: [
        {
          id: `modelperm-${hexId()}`,
          object: "model_permission",
          created: this.created,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: "*",
          group: null,
          is_blocking: false,
        },
      ],
    });
    return {
      object: "list",
      data: [
        card(this.model, this.model, null, this.options.omitMaxModelLen ? null : this.maxModelLen),
        ...[...this.loraAdapters].map(([name, path]) => card(name, path, this.model, null)),
      ],
    };
  }
}

/** vLLM's `logprobs.content`: one entry per sampled token, including the final `<|im_end|>`. */
function logprobsOf(ids: readonly number[], body: ChatCompletionRequestBody): unknown {
  const asIds = body.return_tokens_as_token_ids === true;
  const entry = (id: number, logprob: number) => {
    const text = stubTokenizer.tokenText(id);
    return {
      token: asIds ? `token_id:${id}` : text,
      logprob,
      bytes: [...Buffer.from(text, "utf8")],
    };
  };
  const topCount = body.top_logprobs ?? 0;
  return {
    content: ids.map((id, position) => {
      const logprob = stubLogprob(position, id);
      const top = Array.from({ length: topCount }, (_, rank) =>
        rank === 0 ? entry(id, logprob) : entry(alternativeId(id, rank), logprob - rank),
      );
      return { ...entry(id, logprob), top_logprobs: top };
    }),
  };
}

/** A deterministic runner-up token for the `rank`-th top logprob (never the sampled id). */
function alternativeId(id: number, rank: number): number {
  const size = stubTokenizer.regularVocabSize;
  const candidate = (id + rank * 7919) % size;
  return candidate === id ? (candidate + 1) % size : candidate;
}

function hexId(): string {
  return randomUUID().replaceAll("-", "");
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, reply: Reply): void {
  if (response.destroyed || response.headersSent) return;
  const text = reply.text ? String(reply.body) : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    "content-type": reply.text ? "text/plain; charset=utf-8" : "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}
