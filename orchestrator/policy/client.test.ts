import { afterAll, describe, expect, it } from "vitest";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";
import { ConfigError } from "../../common/errors.js";
import {
  PolicyClient,
  type PolicyClientOptions,
  PolicyUnavailableError,
  ContextSpentError,
  PromptTooLongError,
} from "./client.js";
import { ReplicaRouter } from "./replicas.js";

const SCRIPTS = {
  hi: [{ reasoning: "Say hello.", content: "Hello." }],
  long: [{ content: "word ".repeat(400) }],
};
const running: { close(): unknown }[] = [];
afterAll(async () => {
  for (const item of running) await item.close();
});

async function stub(options: Parameters<typeof startVllmStub>[0] = {}): Promise<RunningVllmStub> {
  const server = await startVllmStub({ scripts: SCRIPTS, ...options });
  running.push(server);
  return server;
}

function client(options: Partial<PolicyClientOptions> & { urls: string[] }): PolicyClient {
  const made = new PolicyClient({
    model: "stub-model",
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    ...options,
  });
  running.push({ close: () => made.close() });
  return made;
}

const hello = [{ role: "user" as const, content: "[script:hi] Greet me." }];

describe("PolicyClient", () => {
  it("sends the sampling, token-id and version fields, and returns exact ids and logprobs", async () => {
    const server = await stub({ apiKey: "k-policy" });
    const policy = client({
      urls: [server.baseURL],
      apiKey: "k-policy",
      cacheSaltPerVersion: true,
      sampling: {
        temperature: 0.7,
        top_p: 0.8,
        top_k: 20,
        seed: 3,
      },
      chatTemplateKwargs: { enable_thinking: true },
    });
    policy.version = 3;
    const completion = await policy.complete({
      rolloutId: "r",
      messages: hello,
      maxTokens: 256,
      sampling: { temperature: 1 },
    });
    const request = server.requests.find((entry) => entry.path === "/v1/chat/completions")!;
    expect(request.authorization).toBe("Bearer k-policy");
    expect(request.body).toEqual({
      model: "stub-model",
      messages: hello,
      max_tokens: 256,
      temperature: 1,
      top_p: 0.8,
      top_k: 20,
      seed: 3,
      logprobs: true,
      return_token_ids: true,
      return_tokens_as_token_ids: true,
      cache_salt: "v3",
      chat_template_kwargs: { enable_thinking: true },
      stream: false,
    });
    expect(completion.message).toEqual({
      role: "assistant",
      content: "Hello.",
      reasoning_content: "Say hello.",
    });
    expect(completion.version).toBe(3);
    expect(completion.finishReason).toBe("stop");
    expect(completion.completionTokenIds!.length).toBe(completion.logprobs!.length);
    expect(completion.usage).toEqual({
      promptTokens: completion.promptTokenIds!.length,
      completionTokens: completion.completionTokenIds!.length,
    });
    expect(server.tokenizer.decode(completion.completionTokenIds!)).toBe(
      "<think>\nSay hello.\n</think>\n\nHello.<|im_end|>",
    );
  });

  it("halves max_tokens on an overflow it cannot read, and gives up below the floor", async () => {
    const server = await stub({ maxModelLen: 600, overflowWording: "unknown" });
    const policy = client({ urls: [server.baseURL], minCompletionTokens: 100 });
    const completion = await policy.complete({ rolloutId: "r", messages: hello, maxTokens: 2000 });
    expect(completion.maxTokens).toBe(500);
    expect(completion.attempts).toBe(3);
    expect(completion.overflowRetries).toBe(2);
    const strict = client({ urls: [server.baseURL], minCompletionTokens: 1000 });
    await expect(
      strict.complete({ rolloutId: "r", messages: hello, maxTokens: 2000 }),
    ).rejects.toThrow(ContextSpentError);
  });

  it("counts a prompt as the server renders it; a prompt alone too long is refused as such", async () => {
    const server = await stub({ dropEarlierReasoning: true });
    const policy = client({ urls: [server.baseURL] });
    const tools = [
      {
        type: "function",
        function: { name: "f", description: "d", parameters: { type: "object" } },
      },
    ];
    const first = await policy.complete({ rolloutId: "t", messages: hello, tools, maxTokens: 64 });
    const next = [
      ...hello,
      first.message,
      { role: "user" as const, content: "And again, in other words." },
    ];
    const counted = await policy.promptTokens({ rolloutId: "t", messages: next, tools });
    const second = await policy.complete({ rolloutId: "t", messages: next, tools, maxTokens: 64 });
    expect(counted).toBe(second.promptTokenIds!.length);
    const tiny = await stub({ maxModelLen: 8 });
    await expect(
      client({ urls: [tiny.baseURL] }).complete({ rolloutId: "r", messages: hello, maxTokens: 4 }),
    ).rejects.toThrow(PromptTooLongError);
    // A server without /tokenize: no count, and it is not asked again.
    const elsewhere = client({ urls: [`${server.baseURL.replace(/\/v1$/, "")}/other/v1`] });
    expect(await elsewhere.promptTokens({ rolloutId: "x", messages: hello })).toBeUndefined();
    expect(await elsewhere.promptTokens({ rolloutId: "x", messages: hello })).toBeUndefined();
  });

  it("counts the prompt with the chat template's switches the call renders with", async () => {
    const server = await stub();
    const thinking = client({ urls: [server.baseURL] });
    const quiet = client({
      urls: [server.baseURL],
      chatTemplateKwargs: { enable_thinking: false },
    });
    const withSwitch = await quiet.promptTokens({ rolloutId: "q", messages: hello });
    const without = await thinking.promptTokens({ rolloutId: "t", messages: hello });
    // Qwen3's enable_thinking: false closes an empty think block in the generation prompt.
    expect(withSwitch).toBeGreaterThan(without!);
    const call = await quiet.complete({ rolloutId: "q", messages: hello, maxTokens: 64 });
    expect(call.promptTokenIds!.length).toBe(withSwitch);
    expect(server.tokenizer.decode(call.promptTokenIds!)).toMatch(
      /<\|im_start\|>assistant\n<think>\n\n<\/think>\n\n$/,
    );
  });

  it("follows the served model name: an unknown one is a 404 that does not turn counting off", async () => {
    const server = await stub();
    const policy = client({ urls: [server.baseURL] });
    policy.useModel("no-such-adapter");
    expect(await policy.promptTokens({ rolloutId: "a", messages: hello })).toBeUndefined();
    await expect(
      policy.complete({ rolloutId: "a", messages: hello, maxTokens: 64 }),
    ).rejects.toThrow(/The model `no-such-adapter` does not exist/);
    policy.useModel("stub-model");
    expect(await policy.promptTokens({ rolloutId: "a", messages: hello })).toBeGreaterThan(0);
    expect((await policy.complete({ rolloutId: "a", messages: hello, maxTokens: 64 })).model).toBe(
      "stub-model",
    );
  });

  it("fails at once on a request the server refuses, and names bad options", async () => {
    const server = await stub({ faults: () => ({ status: 404 }) });
    const policy = client({ urls: [server.baseURL] });
    await expect(
      policy.complete({ rolloutId: "r", messages: hello, maxTokens: 64 }),
    ).rejects.toThrow(PolicyUnavailableError);
    expect(server.chatCalls).toBe(1);
    expect(() => new PolicyClient({ urls: ["not a url"], model: "m" })).toThrow(ConfigError);
    expect(() => new PolicyClient({ urls: ["http://127.0.0.1:1/v1"], model: "" })).toThrow(
      /^policy\.model: /,
    );
    expect(() => new PolicyClient({ urls: [], model: "m" })).toThrow(/^policy\.urls: /);
  });

  it("keeps a rollout on its replica and sends new rollouts to the least loaded", async () => {
    const first = await stub({ faults: () => ({ delayMs: 150 }) });
    const second = await stub({ faults: () => ({ delayMs: 150 }) });
    const policy = client({ urls: [first.baseURL, second.baseURL] });
    const [a, b] = await Promise.all([
      policy.complete({ rolloutId: "a", messages: hello, maxTokens: 64 }),
      policy.complete({ rolloutId: "b", messages: hello, maxTokens: 64 }),
    ]);
    expect(new Set([a.replica, b.replica])).toEqual(new Set([first.baseURL, second.baseURL]));
    const again = await policy.complete({ rolloutId: "a", messages: hello, maxTokens: 64 });
    expect(again.replica).toBe(a.replica);
  });
});

describe("PolicyClient without token ids", () => {
  it("reads ids from token_id: logprobs, and reports none when there are none", async () => {
    const reply = (logprobs: unknown) => ({
      status: 200,
      body: {
        id: "chatcmpl-x",
        object: "chat.completion",
        model: "stub-model",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "hi", tool_calls: [] },
            logprobs,
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
      },
    });
    const fromLogprobs = await stub({
      faults: () =>
        reply({
          content: [
            { token: "token_id:5", logprob: -0.1 },
            { token: "token_id:9", logprob: -0.2 },
          ],
        }),
    });
    const completion = await client({ urls: [fromLogprobs.baseURL] }).complete({
      rolloutId: "r",
      messages: hello,
      maxTokens: 64,
    });
    expect(completion.completionTokenIds).toEqual([5, 9]);
    expect(completion.logprobs).toEqual([-0.1, -0.2]);
    expect(completion.promptTokenIds).toBeUndefined();
    expect(completion.usage).toEqual({ promptTokens: 7, completionTokens: 2 });
    const bare = await stub({ faults: () => reply(null) });
    const none = await client({ urls: [bare.baseURL] }).complete({
      rolloutId: "r",
      messages: hello,
      maxTokens: 64,
    });
    expect([none.completionTokenIds, none.logprobs, none.message.content]).toEqual([
      undefined,
      undefined,
      "hi",
    ]);
  });
});

describe("ReplicaRouter", () => {
  it("ejects a failing replica, never the last healthy one, and probes it back", async () => {
    let answering = false;
    const router = new ReplicaRouter(["http://a/v1", "http://b/v1"], {
      probe: () => Promise.resolve(answering),
      probeIntervalMs: 10,
    });
    const [a, b] = router.replicas;
    expect(router.pick("r1")).toBe(a);
    router.failed(a!);
    expect(a!.healthy).toBe(false);
    expect(router.pick("r1")).toBe(b);
    router.failed(b!);
    expect(b!.healthy).toBe(true);
    answering = true;
    for (let wait = 0; wait < 100 && !a!.healthy; wait++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(a!.healthy).toBe(true);
    router.close();
    expect(() => new ReplicaRouter([], { probe: () => Promise.resolve(true) })).toThrow(
      "at least one replica URL",
    );
  });
});
