/**
 * A wire-conformance suite for every vLLM-wire server the project ships (the TypeScript stub, and
 * any other test double later): one `describe` of HTTP-only cases, each pinning a field or status
 * as vLLM's OpenAI-compatible server (0.10+) sends it, so the servers cannot drift from vLLM or
 * from each other. It drives the server through requests alone: no scripted replies, no internals,
 * only what any vLLM server shows (a model's replies may be anything; their shape may not).
 *
 * @example
 * describeWireConformance("my server", async () => {
 *   const running = await startMyServer();
 *   return { ...running, model: "tiny", maxModelLen: 512 };
 * });
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseContextOverflow } from "../../orchestrator/policy/overflow.js";
import { toolDefinitions } from "../../orchestrator/tools/definitions.js";

/** A running vLLM-wire server, as the suite's factory returns it. */
export interface WireServer {
  /** The OpenAI-style base URL, ending in `/v1`. */
  baseURL: string;
  /** `http://127.0.0.1:PORT`, for vLLM's routes outside `/v1` (`/tokenize`, `/pause`, ...). */
  origin: string;
  /** The served model name. */
  model: string;
  /**
   * vLLM's `--max-model-len`. One case asks for exactly the room left after a short prompt, so a
   * slow server should serve a small context (a few hundred tokens) to keep that case quick.
   */
  maxModelLen: number;
  /** vLLM's `--api-key`: when set, `/v1/*` requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /**
   * A path the server's `/collective_rpc` `reload_weights` accepts as `{weights_path}`; absent:
   * the reload case is skipped (the unknown-method case runs regardless).
   */
  weightsPath?: string;
  /** The server serves vLLM's runtime LoRA routes (`--enable-lora`); absent: those cases skip. */
  lora?: boolean;
  close(): Promise<void>;
}

interface HttpReply {
  status: number;
  text: string;
  /** The parsed JSON body; undefined when the body is not JSON. */
  body: unknown;
}

interface LogprobEntry {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: unknown[];
}

interface ChatMessageOut {
  role: string;
  content: string | null;
  tool_calls: unknown[];
  [key: string]: unknown;
}

interface ChatCompletionBody {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: ChatMessageOut;
    logprobs: { content: LogprobEntry[] } | null;
    finish_reason: string;
    token_ids?: number[] | null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  prompt_token_ids?: number[] | null;
}

interface TokenizeBody {
  count: number;
  max_model_len: number;
  tokens: number[];
  token_strs?: string[] | null;
}

interface VllmErrorBody {
  error: { message: string; type: string; param: unknown; code: number };
}

const HELLO = [{ role: "user", content: "Hello" }];
const MAX_TOKENS = 16;

/** The ids the chat calls, /tokenize and /detokenize exchange: non-negative integers. */
function expectTokenIds(ids: unknown): asserts ids is number[] {
  expect(Array.isArray(ids)).toBe(true);
  for (const id of ids as unknown[]) {
    expect(Number.isInteger(id) && (id as number) >= 0, `token id ${String(id)}`).toBe(true);
  }
}

function expectParam(param: unknown): void {
  // vLLM 0.10/0.11 send null; later versions may name the field (e.g. "max_tokens").
  expect(param === null || typeof param === "string", `param ${JSON.stringify(param)}`).toBe(true);
}

/**
 * Registers the suite: `describe("vLLM wire conformance: NAME")`, the server started once by
 * `start` (60 s allowed) and closed after; 30 s per case.
 */
export function describeWireConformance(name: string, start: () => Promise<WireServer>): void {
  describe(`vLLM wire conformance: ${name}`, { timeout: 30_000 }, () => {
    let running: WireServer | undefined;

    beforeAll(async () => {
      running = await start();
    }, 60_000);

    afterAll(async () => {
      await running?.close();
    }, 60_000);

    const server = (): WireServer => {
      if (running === undefined) throw new Error("the wire server did not start");
      return running;
    };

    /** One HTTP call; `auth` true (the default) sends the server's key when it has one. */
    async function http(
      url: string,
      options: { method?: string; body?: unknown; auth?: boolean | string } = {},
    ): Promise<HttpReply> {
      const { apiKey } = server();
      const key =
        options.auth === false
          ? undefined
          : (options.auth ?? true) === true
            ? apiKey
            : options.auth;
      const headers: Record<string, string> = {};
      if (options.body !== undefined) headers["content-type"] = "application/json";
      if (typeof key === "string") headers.authorization = `Bearer ${key}`;
      const response = await fetch(url, {
        method: options.method ?? (options.body === undefined ? "GET" : "POST"),
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.status, text, body };
    }

    const chat = (request: Record<string, unknown>): Promise<HttpReply> =>
      http(`${server().baseURL}/chat/completions`, {
        body: { model: server().model, ...request },
      });

    async function completion(request: Record<string, unknown>): Promise<ChatCompletionBody> {
      const reply = await chat(request);
      expect(reply.status, reply.text).toBe(200);
      return reply.body as ChatCompletionBody;
    }

    async function tokenize(request: Record<string, unknown>): Promise<TokenizeBody> {
      const reply = await http(`${server().origin}/tokenize`, { body: request });
      expect(reply.status, reply.text).toBe(200);
      return reply.body as TokenizeBody;
    }

    /** A chat call's prompt ids beside /tokenize's for the same conversation. */
    async function expectTokenizeMatchesChat(
      messages: readonly unknown[],
      tools?: readonly unknown[],
    ): Promise<void> {
      const withTools = tools === undefined ? {} : { tools };
      const reply = await completion({
        messages,
        ...withTools,
        max_tokens: 4,
        return_token_ids: true,
      });
      const promptIds = reply.prompt_token_ids;
      expectTokenIds(promptIds);
      const tokenized = await tokenize({
        model: server().model,
        messages,
        ...withTools,
        add_generation_prompt: true,
      });
      expect(tokenized.count).toBe(tokenized.tokens.length);
      expect(tokenized.count).toBe(promptIds.length);
      expect(tokenized.tokens).toEqual(promptIds);
      expect(tokenized.max_model_len).toBe(server().maxModelLen);
    }

    it("GET /health is 200", async () => {
      const health = await http(`${server().origin}/health`);
      expect(health.status).toBe(200);
    });

    it("GET /v1/models lists the served model with vLLM's card", async () => {
      const { baseURL, model, maxModelLen } = server();
      const reply = await http(`${baseURL}/models`);
      expect(reply.status, reply.text).toBe(200);
      const list = reply.body as { object: string; data: Record<string, unknown>[] };
      expect(list.object).toBe("list");
      const card = list.data[0];
      expect(card).toMatchObject({
        id: model,
        object: "model",
        owned_by: "vllm",
        max_model_len: maxModelLen,
        parent: null,
      });
      expect(typeof card?.root).toBe("string");
      expect(Number.isInteger(card?.created)).toBe(true);
      expect(Array.isArray(card?.permission)).toBe(true);
    });

    it("with --api-key, /v1 needs the bearer token: 401 {error: 'Unauthorized'} without it", async (context) => {
      const { baseURL, apiKey } = server();
      if (apiKey === undefined) {
        context.skip("the server runs without an API key");
        return;
      }
      const without = await http(`${baseURL}/models`, { auth: false });
      expect(without.status).toBe(401);
      expect(without.body).toEqual({ error: "Unauthorized" });
      const wrong = await http(`${baseURL}/models`, { auth: `${apiKey}-wrong` });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ error: "Unauthorized" });
      const unauthorizedChat = await http(`${baseURL}/chat/completions`, {
        auth: false,
        body: { model: server().model, messages: HELLO, max_tokens: 1 },
      });
      expect(unauthorizedChat.status).toBe(401);
      const right = await http(`${baseURL}/models`);
      expect(right.status).toBe(200);
    });

    it("a chat completion carries vLLM's fields, token ids and logprobs, consistently", async () => {
      const { model } = server();
      const reply = await completion({
        messages: HELLO,
        logprobs: true,
        return_token_ids: true,
        return_tokens_as_token_ids: true,
        max_tokens: MAX_TOKENS,
        seed: 1,
      });
      expect(reply.id).toMatch(/^chatcmpl-/);
      expect(reply.object).toBe("chat.completion");
      expect(Number.isInteger(reply.created)).toBe(true);
      expect(reply.model).toBe(model);
      expect(reply.choices).toHaveLength(1);
      const [choice] = reply.choices;
      if (choice === undefined) throw new Error("no choice");
      expect(choice.index).toBe(0);
      expect(choice.message.role).toBe("assistant");
      expect(choice.message.content === null || typeof choice.message.content === "string").toBe(
        true,
      );
      expect(Array.isArray(choice.message.tool_calls)).toBe(true);
      expect(["stop", "length", "tool_calls"]).toContain(choice.finish_reason);
      if (choice.finish_reason === "tool_calls") {
        expect(choice.message.tool_calls.length).toBeGreaterThan(0);
      }

      const { usage } = reply;
      const ids = choice.token_ids;
      expectTokenIds(ids);
      expect(ids.length).toBe(usage.completion_tokens);
      expect(usage.completion_tokens).toBeGreaterThanOrEqual(1);
      expect(usage.completion_tokens).toBeLessThanOrEqual(MAX_TOKENS);
      if (choice.finish_reason === "length") expect(usage.completion_tokens).toBe(MAX_TOKENS);
      const promptIds = reply.prompt_token_ids;
      expectTokenIds(promptIds);
      expect(promptIds.length).toBe(usage.prompt_tokens);
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);

      const content = choice.logprobs?.content;
      expect(Array.isArray(content)).toBe(true);
      expect(content).toHaveLength(ids.length);
      content?.forEach((entry, position) => {
        expect(entry.token).toBe(`token_id:${ids[position]}`);
        expect(Number.isFinite(entry.logprob)).toBe(true);
        expect(entry.logprob).toBeLessThanOrEqual(0);
        expect(Array.isArray(entry.bytes)).toBe(true);
        for (const byte of entry.bytes ?? []) {
          expect(Number.isInteger(byte) && byte >= 0 && byte <= 255).toBe(true);
        }
        expect(entry.top_logprobs).toEqual([]);
      });
    });

    it("without return_token_ids (or logprobs), token_ids, prompt_token_ids and logprobs are null", async () => {
      const reply = await completion({ messages: HELLO, max_tokens: 4 });
      const [choice] = reply.choices;
      expect(choice?.token_ids).toBeNull();
      expect(choice?.logprobs).toBeNull();
      expect(reply.prompt_token_ids).toBeNull();
    });

    it("seeded sampling is reproducible, and so is greedy sampling", async () => {
      const sampled = { messages: HELLO, max_tokens: MAX_TOKENS, return_token_ids: true };
      const seeded = { ...sampled, seed: 7, temperature: 1 };
      const first = await completion(seeded);
      const second = await completion(seeded);
      expect(second.choices[0]?.token_ids).toEqual(first.choices[0]?.token_ids);
      const greedy = { ...sampled, temperature: 0 };
      const third = await completion(greedy);
      const fourth = await completion(greedy);
      expect(fourth.choices[0]?.token_ids).toEqual(third.choices[0]?.token_ids);
    });

    it("/tokenize renders a conversation to exactly the chat call's prompt_token_ids", async () => {
      await expectTokenizeMatchesChat(HELLO);
    });

    it("/tokenize with sandfarm's tools matches the chat call's prompt_token_ids", async () => {
      await expectTokenizeMatchesChat(HELLO, toolDefinitions());
    });

    it("/tokenize of a multi-turn history (the reply sent back as received) matches the chat call", async () => {
      const first = await completion({ messages: HELLO, max_tokens: MAX_TOKENS });
      const received = first.choices[0]?.message;
      expect(received?.role).toBe("assistant");
      const history = [...HELLO, received, { role: "user", content: "Tell me more." }];
      await expectTokenizeMatchesChat(history);
    });

    it("/tokenize of a prompt round-trips through /detokenize", async () => {
      const { origin, maxModelLen } = server();
      const tokenized = await tokenize({ prompt: "some text", add_special_tokens: false });
      expectTokenIds(tokenized.tokens);
      expect(tokenized.tokens.length).toBeGreaterThan(0);
      expect(tokenized.count).toBe(tokenized.tokens.length);
      expect(tokenized.max_model_len).toBe(maxModelLen);
      expect(tokenized.token_strs ?? null).toBeNull();
      const detokenized = await http(`${origin}/detokenize`, {
        body: { tokens: tokenized.tokens },
      });
      expect(detokenized.status, detokenized.text).toBe(200);
      expect(detokenized.body).toEqual({ prompt: "some text" });
    });

    it("a prompt plus max_tokens past the context is vLLM's 400, read as completion_too_long", async () => {
      const { maxModelLen } = server();
      const promptTokens = (
        await tokenize({ model: server().model, messages: HELLO, add_generation_prompt: true })
      ).count;
      const room = maxModelLen - promptTokens;
      expect(room).toBeGreaterThan(0);
      for (const maxTokens of [maxModelLen, room + 1]) {
        const reply = await chat({ messages: HELLO, max_tokens: maxTokens });
        expect(reply.status, reply.text).toBe(400);
        const body = reply.body as VllmErrorBody;
        expect(Object.keys(body)).toEqual(["error"]);
        expect(body.error).toMatchObject({ type: "BadRequestError", code: 400 });
        expect(typeof body.error.message).toBe("string");
        expectParam(body.error.param);
        expect(parseContextOverflow(body.error.message), body.error.message).toEqual({
          kind: "completion_too_long",
          maxContext: maxModelLen,
          promptTokens,
        });
      }
      // Exactly the room left fits (vLLM refuses only prompt + max_tokens > max_model_len).
      const fits = await completion({ messages: HELLO, max_tokens: room, return_token_ids: true });
      expect(fits.usage.prompt_tokens).toBe(promptTokens);
      expect(fits.usage.completion_tokens).toBeLessThanOrEqual(room);
    });

    it("an unknown model is vLLM's 404 on chat completions, /tokenize and /detokenize", async () => {
      const { origin } = server();
      const expected = {
        message: "The model `nope` does not exist.",
        type: "NotFoundError",
        code: 404,
      };
      const replies = {
        chat: await chat({ model: "nope", messages: HELLO, max_tokens: 1 }),
        tokenizeChat: await http(`${origin}/tokenize`, {
          body: { model: "nope", messages: HELLO },
        }),
        tokenizePrompt: await http(`${origin}/tokenize`, {
          body: { model: "nope", prompt: "some text" },
        }),
        detokenize: await http(`${origin}/detokenize`, { body: { model: "nope", tokens: [] } }),
      };
      for (const [route, reply] of Object.entries(replies)) {
        expect(reply.status, `${route}: ${reply.text}`).toBe(404);
        const body = reply.body as VllmErrorBody;
        expect(Object.keys(body), route).toEqual(["error"]);
        expect(body.error, route).toMatchObject(expected);
        expectParam(body.error.param);
      }
    });

    it("/pause?mode=keep holds a new chat call until /resume, and /is_paused says so", async () => {
      const { origin } = server();
      const paused = await http(`${origin}/pause?mode=keep`, { method: "POST" });
      let settled = false;
      let pending: Promise<HttpReply | Error> | undefined;
      try {
        expect(paused.status, paused.text).toBe(200);
        expect(paused.body).toEqual({ status: "paused" });
        const state = await http(`${origin}/is_paused`);
        expect(state.status).toBe(200);
        expect(state.body).toEqual({ is_paused: true });
        pending = chat({ messages: HELLO, max_tokens: 4 }).then(
          (reply) => reply,
          (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
        );
        void pending.finally(() => {
          settled = true;
        });
        await sleep(300);
        expect(settled, "the chat call answered while the server was paused").toBe(false);
      } finally {
        const resumed = await http(`${origin}/resume`, { method: "POST" });
        expect(resumed.status, resumed.text).toBe(200);
        expect(resumed.body).toEqual({ status: "resumed" });
      }
      const answer = await pending;
      if (answer instanceof Error) throw answer;
      expect(answer?.status, answer?.text).toBe(200);
      const state = await http(`${origin}/is_paused`);
      expect(state.body).toEqual({ is_paused: false });
    });

    it("/pause?mode=wait with nothing in flight pauses at once, and /resume resumes", async () => {
      const { origin } = server();
      const paused = await http(`${origin}/pause?mode=wait`, { method: "POST" });
      try {
        expect(paused.status, paused.text).toBe(200);
        expect((await http(`${origin}/is_paused`)).body).toEqual({ is_paused: true });
      } finally {
        const resumed = await http(`${origin}/resume`, { method: "POST" });
        expect(resumed.status, resumed.text).toBe(200);
      }
      expect((await http(`${origin}/is_paused`)).body).toEqual({ is_paused: false });
      expect((await completion({ messages: HELLO, max_tokens: 1 })).choices).toHaveLength(1);
    });

    it("/collective_rpc refuses a worker method that does not exist", async () => {
      const reply = await http(`${server().origin}/collective_rpc`, {
        body: { method: "no_such_worker_method", kwargs: {} },
      });
      expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
    });

    it("/collective_rpc reload_weights loads weights_path, and chat calls still work", async (context) => {
      const { origin, weightsPath } = server();
      if (weightsPath === undefined) {
        context.skip("the factory names no weightsPath");
        return;
      }
      const reply = await http(`${origin}/collective_rpc`, {
        body: { method: "reload_weights", kwargs: { weights_path: weightsPath } },
      });
      expect(reply.status, reply.text).toBe(200);
      const after = await completion({ messages: HELLO, max_tokens: 4, return_token_ids: true });
      expectTokenIds(after.choices[0]?.token_ids);
    });

    it("/v1/load_lora_adapter without a lora_path is a 400", async (context) => {
      const { baseURL } = server();
      if (server().lora !== true) {
        context.skip("the server serves no LoRA routes");
        return;
      }
      // An empty path reaches vLLM's own check, with its message and type.
      const empty = await http(`${baseURL}/load_lora_adapter`, {
        body: { lora_name: "x", lora_path: "" },
      });
      expect(empty.status, empty.text).toBe(400);
      expect(empty.body).toEqual({
        error: {
          message: "Both 'lora_name' and 'lora_path' must be provided.",
          type: "InvalidUserInput",
          param: null,
          code: 400,
        },
      });
      // A missing one fails vLLM's request validation first: a 400 too, in pydantic's words.
      const missing = await http(`${baseURL}/load_lora_adapter`, { body: { lora_name: "x" } });
      expect(missing.status, missing.text).toBe(400);
      expect((missing.body as VllmErrorBody).error.code).toBe(400);
    });

    it("/v1/unload_lora_adapter of an unknown adapter is vLLM's 404", async (context) => {
      const { baseURL } = server();
      if (server().lora !== true) {
        context.skip("the server serves no LoRA routes");
        return;
      }
      const reply = await http(`${baseURL}/unload_lora_adapter`, { body: { lora_name: "x" } });
      expect(reply.status, reply.text).toBe(404);
      expect(reply.body).toEqual({
        error: {
          message: "The lora adapter 'x' cannot be found.",
          type: "NotFoundError",
          param: null,
          code: 404,
        },
      });
    });

    it("an unknown route is FastAPI's 404 {detail: 'Not Found'}", async () => {
      const { origin, baseURL } = server();
      for (const url of [`${origin}/no_such_route`, `${baseURL}/no_such_route`]) {
        const reply = await http(url);
        expect(reply.status, url).toBe(404);
        expect(reply.body, url).toEqual({ detail: "Not Found" });
      }
    });
  });
}
