/**
 * Whole episodes against real sandboxes and the stub policy server (a test double speaking
 * vLLM's wire format), including token rows checked against the stub's own rendering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../../datasets/task.js";
import { SCORERS } from "../../rewards/registry.js";
import { planReward } from "../../rewards/route.js";
import { removeFromOutside, testSandboxBackend } from "../../testing/sandboxes.js";
import {
  type ChatMessage as StubMessage,
  type RunningVllmStub,
  type Script,
  renderChat,
  startVllmStub,
  stubTokenizer,
} from "../../testing/vllm-stub/index.js";
import { PolicyClient, type PolicyClientOptions } from "../policy/client.js";
import { InfrastructureError } from "../../common/errors.js";
import type { ManagedSandbox } from "../sandbox/backend.js";
import { SandboxPool } from "../sandbox/pool.js";
import type { Episode } from "./episode-record.js";
import { EXTRA_CALL_NOTE, NO_TOOL_CALL_REMINDER, runEpisode } from "./episode.js";
import { type MergedRow, mergeCalls, tokenCallsOf } from "./token-rows.js";

const bash = (command: string) => ({
  name: "execute_bash",
  arguments: JSON.stringify({ command }),
});
const submit = { name: "submit", arguments: "{}" };
const lastTool = (messages: readonly StubMessage[]): string => {
  const tool = messages.findLast((message) => message.role === "tool");
  return typeof tool?.content === "string" ? tool.content : "";
};
/** The first line of an observation's stdout block. */
const firstOutputLine = (observation: string): string =>
  /\[stdout\]\n(.*)/.exec(observation)?.[1]?.trim() ?? "";

const SOLVE_PY = "print(pow(2, 100, 7))\n";

const SCRIPTS: Record<string, Script> = {
  "math-code": [
    {
      reasoning: "I will write a script that computes the remainder.",
      content: "Writing the script.",
      toolCalls: [
        {
          name: "str_replace_editor",
          arguments: JSON.stringify({
            command: "create",
            path: "/testbed/solve.py",
            file_text: SOLVE_PY,
          }),
        },
      ],
    },
    { reasoning: "Now run it.", toolCalls: [bash("python3 /testbed/solve.py")] },
    (messages) => ({
      reasoning: `It printed ${firstOutputLine(lastTool(messages))}.`,
      toolCalls: [
        bash(`echo '\\boxed{${firstOutputLine(lastTool(messages))}}' > /testbed/answer.txt`),
      ],
    }),
    { content: "Done.", toolCalls: [submit] },
  ],
  "grep-docs": [
    { toolCalls: [bash("grep -rh 'signed by' /testbed/documents/")] },
    (messages) => {
      const name = /signed by ([A-Z][a-z]+ [A-Z][a-z]+)/.exec(lastTool(messages))?.[1] ?? "nobody";
      return { toolCalls: [bash(`printf '%s' '${name}' > /testbed/answer.txt`)] };
    },
    { toolCalls: [submit] },
  ],
  "llm-math": [
    {
      reasoning: "2^3 = 8 = 1 mod 7, so 2^100 = 2 mod 7.",
      content: "So the answer is \\boxed{2}.",
    },
  ],
  "llm-docs": [{ content: "The memo was signed by Ada Lin.\nAnswer: Ada Lin" }],
  malformed: [
    {
      content: '<tool_call>\n{"name": "execute_bash", "arguments": {"command": "ls"\n</tool_call>',
    },
    { toolCalls: [{ name: "run_python", arguments: "{}" }] },
    { toolCalls: [{ name: "execute_bash", arguments: '{"cmd": "ls"}' }] },
    { toolCalls: [bash("echo 7 > /testbed/answer.txt"), bash("rm -rf /testbed")] },
    { toolCalls: [submit] },
  ],
  forever: Array.from({ length: 50 }, () => ({ toolCalls: [bash("true")] })),
  // A reminder is a new user message: a Qwen3-style template then drops the earlier reasoning.
  "think-remind": [
    { reasoning: "First, look around.", toolCalls: [bash("ls /testbed")] },
    { reasoning: "I think I know it already.", content: "It is 2." },
    { reasoning: "Write it down properly.", toolCalls: [bash("echo 2 > /testbed/answer.txt")] },
    { reasoning: "Done.", toolCalls: [submit] },
  ],
};

const task = (id: string, script: string, fields: Partial<Task> = {}): Task => ({
  id,
  domain: "math",
  question: `[script:${script}] What is 2^100 mod 7?`,
  documents: {},
  groundTruth: "2",
  answerType: "math",
  instructions: [],
  scorerOptions: {},
  metadata: {},
  ...fields,
});

const READING: Partial<Task> = {
  domain: "long_context",
  answerType: "open_ended",
  groundTruth: "Ada Lin",
  documents: {
    "memo.txt": "Budget memo.\nThe plan was approved on Monday.\n",
    "archive/letters.txt": "Dear board,\n...\nThis letter was signed by Ada Lin on 3 May.\n",
  },
};

const stubs: RunningVllmStub[] = [];
const clients: PolicyClient[] = [];
let pool: SandboxPool;

async function stub(options: Parameters<typeof startVllmStub>[0] = {}): Promise<RunningVllmStub> {
  const running = await startVllmStub({ scripts: SCRIPTS, ...options });
  stubs.push(running);
  return running;
}

function policy(urls: string[], options: Partial<PolicyClientOptions> = {}): PolicyClient {
  const client = new PolicyClient({
    urls,
    model: "stub-model",
    backoffBaseMs: 10,
    backoffMaxMs: 50,
    minCompletionTokens: 64,
    probeIntervalMs: 100,
    ...options,
  });
  clients.push(client);
  return client;
}

const LIMITS = { maxTokensPerCall: 2048, maxTotalTokens: 30_000, timeoutMs: 120_000 };
let nextRollout = 0;
const identity = () => ({ rolloutId: `r${nextRollout++}`, groupId: "g" });

beforeAll(async () => {
  pool = new SandboxPool(testSandboxBackend(), { warmSize: 2 });
  await pool.start();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(stubs.map((running) => running.close()));
  await pool.close();
});

/** The stub's rendering of the conversation a call saw, then the call's own completion. */
function expectedRow(
  episode: Episode,
  tools: readonly unknown[] | undefined,
  call: number,
  options = {},
): number[] {
  const assistantBefore = episode.calls.slice(0, call).length;
  // The messages the call saw: everything before its assistant message.
  let seen = 0;
  const cut = episode.messages.findIndex(
    (message) => message.role === "assistant" && seen++ === assistantBefore,
  );
  const prompt = renderChat(episode.messages.slice(0, cut) as StubMessage[], tools, {
    addGenerationPrompt: true,
    ...options,
  });
  return [...prompt, ...episode.calls[call]!.completionTokenIds!];
}

/** What each row must be: the stub's rendering up to its last call, masks lined up with the calls. */
function checkRows(
  episode: Episode,
  rows: readonly MergedRow[],
  tools: readonly unknown[] | undefined,
  options = {},
): void {
  for (const row of rows) {
    const last = row.calls.at(-1)!;
    expect(row.tokenIds).toEqual(expectedRow(episode, tools, last, options));
    const trained = row.tokenIds.filter((_, index) => row.lossMask[index] === 1);
    expect(trained).toEqual(row.calls.flatMap((call) => episode.calls[call]!.completionTokenIds!));
    expect(row.logprobs.filter((_, index) => row.lossMask[index] === 1)).toEqual(
      row.calls.flatMap((call) => episode.calls[call]!.logprobs!),
    );
    expect(row.versions.filter((_, index) => row.lossMask[index] === 1)).toEqual(
      row.calls.flatMap((call) =>
        episode.calls[call]!.completionTokenIds!.map(() => episode.calls[call]!.version),
      ),
    );
    expect(row.lossMask.every((mask, index) => (mask === 1) === row.versions[index]! >= 0)).toBe(
      true,
    );
  }
}

/** The mutation the row tests must catch: rows rebuilt by re-tokenizing the decoded text. */
function retokenizedRows(rows: readonly MergedRow[]): MergedRow[] {
  return rows.map((row) => {
    const tokenIds = stubTokenizer.encode(stubTokenizer.decode(row.tokenIds));
    return { ...row, tokenIds };
  });
}

const score = (episode: Episode, truth: Task): number => {
  const plan = planReward({
    task: truth,
    answer: episode.answer,
    mode: episode.mode,
    stopReason: episode.stopReason,
  });
  return plan.kind === "score" ? SCORERS[plan.scorer]!(plan.input).reward : 0;
};

describe("sandbox episodes", () => {
  it("solves a math task by writing a script, running it and writing the answer file", async () => {
    const server = await stub();
    const math = task("math-1", "math-code");
    const episode = await runEpisode(
      math,
      "sandbox",
      { policy: policy([server.baseURL]), sandboxes: pool },
      identity(),
      LIMITS,
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.answer).toBe("\\boxed{2}\n");
    expect(score(episode, math)).toBe(1);
    expect(
      episode.turns.map((turn) => [turn.toolCall?.name, turn.isError, turn.capabilities]),
    ).toEqual([
      ["str_replace_editor", false, ["file_management"]],
      ["execute_bash", false, ["computation"]],
      ["execute_bash", false, ["file_management"]],
      ["submit", false, []],
    ]);
    expect(episode.turns[1]!.exec).toMatchObject({ exitCode: 0, timedOut: false });
    // The steps-remaining note stays in history.
    expect(
      episode.messages
        .filter((message) => message.role === "tool")
        .map((message) => message.content),
    ).toEqual([
      expect.stringMatching(/\n\n\[Steps remaining: 99\]$/),
      expect.stringMatching(/^Exit code: 0\n\[stdout\]\n2\n[\s\S]*\[Steps remaining: 98\]$/),
      expect.stringMatching(/\[Steps remaining: 97\]$/),
      expect.stringMatching(/\[Steps remaining: 96\]$/),
    ]);
    expect(episode.tokenIdsAvailable).toBe(true);

    const tools = server.requests.find((request) => request.path === "/v1/chat/completions")!
      .body as { tools: unknown[] };
    const { rows, mismatches } = mergeCalls(tokenCallsOf(episode.calls)!);
    expect(mismatches).toEqual([]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.calls).toEqual([0, 1, 2, 3]);
    checkRows(episode, rows, tools.tools);
    // The conversation up to the last assistant message, rendered by the stub, is the row plus
    // the template's closing "\n".
    const lastAssistant = episode.messages.findLastIndex((message) => message.role === "assistant");
    expect([...rows[0]!.tokenIds, ...stubTokenizer.encode("\n")]).toEqual(
      renderChat(episode.messages.slice(0, lastAssistant + 1) as StubMessage[], tools.tools),
    );
    // The mutation: re-tokenizing the decoded text gives other ids, and the checks see it.
    expect(() => checkRows(episode, retokenizedRows(rows), tools.tools)).toThrow();
  });

  it("answers a long-context task by grepping the documents", async () => {
    const server = await stub();
    const reading = task("read-1", "grep-docs", READING);
    const episode = await runEpisode(
      reading,
      "sandbox",
      { policy: policy([server.baseURL]), sandboxes: pool },
      identity(),
      LIMITS,
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.answer).toBe("Ada Lin");
    expect(score(episode, reading)).toBe(1);
    expect(episode.messages[1]!.content).toContain("- /testbed/documents/archive/letters.txt");
    expect(episode.turns[0]!.capabilities).toEqual(["file_management"]);
  });

  it("answers malformed, unknown and invalid calls with a reminder or an error, each a turn", async () => {
    const server = await stub();
    const episode = await runEpisode(
      task("bad-1", "malformed"),
      "sandbox",
      { policy: policy([server.baseURL]), sandboxes: pool },
      identity(),
      LIMITS,
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.turns.map((turn) => [turn.toolCall?.name ?? null, turn.isError])).toEqual([
      [null, true],
      ["run_python", true],
      ["execute_bash", true],
      ["execute_bash", false],
      ["submit", false],
    ]);
    expect(episode.turns[0]!.observation).toBe(NO_TOOL_CALL_REMINDER);
    expect(episode.turns[1]!.observation).toContain("There is no tool named 'run_python'");
    expect(episode.turns[2]!.observation).toContain("Invalid arguments for execute_bash");
    // Only the first call of a message runs: /testbed is still there, the answer written.
    expect(episode.answer).toBe("7\n");
    expect(episode.messages.filter((message) => message.content === EXTRA_CALL_NOTE)).toHaveLength(
      1,
    );
  });

  it("stops at max turns, and on a spent token budget", async () => {
    const server = await stub();
    const turns = await runEpisode(
      task("loop-1", "forever"),
      "sandbox",
      { policy: policy([server.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, maxTurns: 3 },
    );
    expect(turns.stopReason).toBe("max_turns");
    expect(turns.calls).toHaveLength(3);
    expect(turns.answer).toBeNull();
    const budget = await runEpisode(
      task("loop-2", "forever"),
      "sandbox",
      { policy: policy([server.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, maxTotalTokens: 2500 },
    );
    expect(budget.stopReason).toBe("token_budget");
    expect(budget.calls.length).toBeGreaterThan(1);
  });

  it("recovers from a context overflow by lowering max_tokens, and ends a prompt that cannot fit", async () => {
    const small = await stub({ maxModelLen: 3000, overflowWording: 1 });
    const episode = await runEpisode(
      task("ovf-1", "math-code"),
      "sandbox",
      { policy: policy([small.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, maxTokensPerCall: 4096 },
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.calls[0]!.maxTokens).toBe(3000 - episode.calls[0]!.usage.promptTokens);
    expect(episode.calls[0]!.attempts).toBe(2);
    const tiny = await stub({ maxModelLen: 200 });
    const tooLong = await runEpisode(
      task("ovf-2", "math-code"),
      "sandbox",
      { policy: policy([tiny.baseURL]), sandboxes: pool },
      identity(),
      LIMITS,
    );
    expect(tooLong.stopReason).toBe("prompt_too_long");
    expect(tooLong.error).toContain("maximum context length is 200 tokens");
  });

  it("measures each prompt as the server renders it and sends one request per call", async () => {
    // A template that drops earlier reasoning: the previous prompt plus completion overstates
    // the next prompt, so only the server's own count is exact.
    const served = await stub({ maxModelLen: 3000, dropEarlierReasoning: true });
    const episode = await runEpisode(
      task("fit-1", "math-code"),
      "sandbox",
      { policy: policy([served.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, maxTokensPerCall: 4096, contextTokens: 3000 },
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.calls.length).toBeGreaterThan(2);
    for (const call of episode.calls) {
      expect(call.countedPromptTokens).toBe(call.usage.promptTokens);
      expect(call.maxTokens).toBe(3000 - call.usage.promptTokens);
      expect(call.attempts).toBe(1);
    }
    expect(episode.requests).toEqual({
      calls: episode.calls.length,
      chat: episode.calls.length,
      overflowRetries: 0,
      tokenize: episode.calls.length,
    });
    expect(served.chatCalls).toBe(episode.calls.length);
  });

  it("counts a prompt only when its length could change the call", async () => {
    // The first prompt's bound (its bytes: system prompt, task, tools) could leave less than
    // the per-call cap; later bounds (the server's count so far plus the new messages' bytes)
    // cannot, so only the first is counted.
    const context = LIMITS.maxTokensPerCall + 3000;
    const served = await stub({ maxModelLen: context });
    const episode = await runEpisode(
      task("fit-0", "math-code"),
      "sandbox",
      { policy: policy([served.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, contextTokens: context },
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.calls.length).toBeGreaterThan(2);
    const [first, ...later] = episode.calls;
    expect(first!.countedPromptTokens).toBe(first!.usage.promptTokens);
    for (const call of later) {
      expect(call.countedPromptTokens).toBeUndefined();
      expect(call.maxTokens).toBe(LIMITS.maxTokensPerCall);
      expect(call.usage.promptTokens + LIMITS.maxTokensPerCall).toBeLessThanOrEqual(context);
    }
    expect(episode.requests).toMatchObject({ chat: episode.calls.length, tokenize: 1 });
    // Far from every limit, nothing is counted.
    const roomy = await runEpisode(
      task("fit-00", "math-code"),
      "sandbox",
      { policy: policy([served.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, contextTokens: 1_000_000 },
    );
    expect(roomy.requests).toMatchObject({ chat: roomy.calls.length, tokenize: 0 });
  });

  it("uses what the context has left, and says which limit ended the episode", async () => {
    const served = await stub({ maxModelLen: 3000 });
    const measure = await runEpisode(
      task("fit-2", "math-code"),
      "sandbox",
      { policy: policy([served.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, contextTokens: 3000 },
    );
    const [first, second] = measure.calls;
    // A context that holds the second prompt with 40 tokens to spare: the call gets those 40,
    // not a fixed minimum that would make it look too long.
    const context = second!.usage.promptTokens + 40;
    const near = await stub({ maxModelLen: context });
    const spent = await runEpisode(
      task("fit-3", "math-code"),
      "sandbox",
      { policy: policy([near.baseURL], { minCompletionTokens: 16 }), sandboxes: pool },
      identity(),
      { ...LIMITS, contextTokens: context },
    );
    expect(spent.calls[1]!.maxTokens).toBe(40);
    expect(spent.requests!.overflowRetries).toBe(0);
    expect(["token_budget", "length"]).toContain(spent.stopReason);
    expect(spent.stopReason).not.toBe("prompt_too_long");
    // A prompt that alone exceeds the context is the one case of prompt_too_long.
    const tiny = await stub({ maxModelLen: first!.usage.promptTokens - 1 });
    const tooLong = await runEpisode(
      task("fit-4", "math-code"),
      "sandbox",
      { policy: policy([tiny.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, contextTokens: first!.usage.promptTokens - 1 },
    );
    expect(tooLong.stopReason).toBe("prompt_too_long");
    expect(tooLong.requests).toMatchObject({ calls: 0, chat: 0, tokenize: 1 });
  });

  it("moves a rollout to another replica when its replica fails mid-episode", async () => {
    const failing = await stub({
      faults: (_body, call) => (call >= 1 ? { dropConnection: true } : undefined),
    });
    const healthy = await stub();
    const client = policy([failing.baseURL, healthy.baseURL]);
    const episode = await runEpisode(
      task("fo-1", "math-code"),
      "sandbox",
      { policy: client, sandboxes: pool },
      identity(),
      LIMITS,
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.answer).toBe("\\boxed{2}\n");
    expect(episode.calls.map((call) => call.replica)).toEqual([
      failing.baseURL,
      healthy.baseURL,
      healthy.baseURL,
      healthy.baseURL,
    ]);
    expect(episode.calls[1]!.attempts).toBe(2);
    // Ejected, then probed (the chat route fails, the models route answers, so it is back).
    for (let wait = 0; wait < 100 && !client.replicas[0]!.healthy; wait++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(failing.requests.some((request) => request.path === "/v1/models")).toBe(true);
    expect(client.replicas[0]!.healthy).toBe(true);
  });

  it("retries 500s and 429s, and ends with policy_error when the policy stays down", async () => {
    const flaky = await stub({
      faults: (_body, call) =>
        call === 0 ? { status: 500 } : call === 1 ? { status: 429 } : undefined,
    });
    const episode = await runEpisode(
      task("flaky-1", "llm-math"),
      "llm",
      { policy: policy([flaky.baseURL]) },
      identity(),
      LIMITS,
    );
    expect(episode.stopReason).toBe("submitted");
    expect(episode.calls[0]!.attempts).toBe(3);
    const down = await stub({ faults: () => ({ status: 503 }) });
    const failed = await runEpisode(
      task("down-1", "llm-math"),
      "llm",
      { policy: policy([down.baseURL], { retries: 2 }) },
      identity(),
      LIMITS,
    );
    expect(failed.stopReason).toBe("policy_error");
    expect(failed.calls).toEqual([]);
    // The requests of a call that failed still count: 1 + 2 retries, none answered.
    expect(failed.requests).toEqual({ calls: 0, chat: 3, overflowRetries: 0, tokenize: 0 });
    // With the context known and near, the prompt is measured first: that request counts too.
    const measured = await runEpisode(
      task("down-2", "llm-math"),
      "llm",
      { policy: policy([down.baseURL], { retries: 1 }) },
      identity(),
      { ...LIMITS, contextTokens: 2_100 },
    );
    expect(measured.requests).toEqual({ calls: 0, chat: 2, overflowRetries: 0, tokenize: 1 });
  });

  it("ends with timeout when the policy is slower than the episode's deadline", async () => {
    const slow = await stub({ faults: () => ({ delayMs: 3000 }) });
    const episode = await runEpisode(
      task("slow-1", "math-code"),
      "sandbox",
      { policy: policy([slow.baseURL]), sandboxes: pool },
      identity(),
      { ...LIMITS, timeoutMs: 1000 },
    );
    expect(episode.stopReason).toBe("timeout");
  });

  it("keeps rows exact under a template that drops earlier reasoning, one row per break", async () => {
    const dropping = await stub({ dropEarlierReasoning: true });
    const episode = await runEpisode(
      task("drop-1", "think-remind"),
      "sandbox",
      { policy: policy([dropping.baseURL]), sandboxes: pool },
      identity(),
      LIMITS,
    );
    expect(episode.stopReason).toBe("submitted");
    const tools = (
      dropping.requests.find((request) => request.path === "/v1/chat/completions")!.body as {
        tools: unknown[];
      }
    ).tools;
    const { rows, mismatches } = mergeCalls(tokenCallsOf(episode.calls)!);
    expect(mismatches.length).toBeGreaterThan(0);
    expect(rows.length).toBe(mismatches.length + 1);
    checkRows(episode, rows, tools, { dropEarlierReasoning: true });
    expect(() =>
      checkRows(episode, retokenizedRows(rows), tools, { dropEarlierReasoning: true }),
    ).toThrow();
  });

  it("runs 16 rollouts of one task at once, each replaying the script exactly", async () => {
    const server = await stub();
    const client = policy([server.baseURL]);
    const episodes = await Promise.all(
      Array.from({ length: 16 }, () =>
        runEpisode(
          task("many-1", "math-code"),
          "sandbox",
          { policy: client, sandboxes: pool },
          identity(),
          LIMITS,
        ),
      ),
    );
    expect(episodes.map((episode) => [episode.stopReason, episode.answer])).toEqual(
      Array.from({ length: 16 }, () => ["submitted", "\\boxed{2}\n"]),
    );
    const first = episodes[0]!.calls.map((call) => call.completionTokenIds);
    for (const episode of episodes)
      expect(episode.calls.map((call) => call.completionTokenIds)).toEqual(first);
  });
});

describe("sandbox failures", () => {
  it("ends with sandbox_error when no sandbox can be had, and with sandbox_error when one is removed from outside", async () => {
    const server = await stub();
    const noSandbox = await runEpisode(
      task("nobox-1", "math-code"),
      "sandbox",
      {
        policy: policy([server.baseURL]),
        sandboxes: {
          acquire: () => Promise.reject(new InfrastructureError("the engine is down")),
          release: () => Promise.reject(new Error("nothing was acquired")),
        },
      },
      identity(),
      LIMITS,
    );
    expect([noSandbox.stopReason, noSandbox.error, noSandbox.calls.length]).toEqual([
      "sandbox_error",
      "the engine is down",
      0,
    ]);

    // Removed between the first and second command: an infrastructure loss, not the model's.
    let current: ManagedSandbox | undefined;
    let released = 0;
    const watched = {
      acquire: async () => (current = await pool.acquire()),
      release: async (sandbox: ManagedSandbox) => {
        released++;
        await pool.release(sandbox);
      },
    };
    const removing = await stub({
      scripts: {
        ...SCRIPTS,
        "remove-mid": [
          { toolCalls: [bash("echo first")] },
          async () => {
            await removeFromOutside(current!);
            return { toolCalls: [bash("echo second")] };
          },
        ],
      },
    });
    const lost = await runEpisode(
      task("lost-1", "remove-mid"),
      "sandbox",
      { policy: policy([removing.baseURL]), sandboxes: watched },
      identity(),
      LIMITS,
    );
    expect(lost.stopReason).toBe("sandbox_error");
    expect(lost.answer).toBeNull();
    expect(released).toBe(1);
  });
});

describe("plain LLM episodes", () => {
  it("answers math and a reading task in one call, documents inlined", async () => {
    const server = await stub();
    const math = task("llm-1", "llm-math");
    const mathEpisode = await runEpisode(
      math,
      "llm",
      { policy: policy([server.baseURL]) },
      identity(),
      LIMITS,
    );
    expect(mathEpisode.stopReason).toBe("submitted");
    expect(mathEpisode.answer).toBe("So the answer is \\boxed{2}.");
    expect(mathEpisode.calls).toHaveLength(1);
    expect(mathEpisode.turns).toEqual([]);
    expect(score(mathEpisode, math)).toBe(1);

    const reading = task("llm-2", "llm-docs", READING);
    const readingEpisode = await runEpisode(
      reading,
      "llm",
      { policy: policy([server.baseURL]) },
      identity(),
      LIMITS,
    );
    expect(readingEpisode.messages[1]!.content).toContain(
      "[BEGIN DOCUMENT 2: archive/letters.txt]",
    );
    expect(score(readingEpisode, reading)).toBe(1);
    const request = server.requests.findLast((entry) => entry.path === "/v1/chat/completions")!
      .body as Record<string, unknown>;
    expect(request).toMatchObject({
      return_token_ids: true,
      logprobs: true,
      stream: false,
      max_tokens: 2048,
    });
    expect(request.tools).toBeUndefined();
  });
});
