import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type ChatCompletionRequestBody,
  type ChatResponder,
  type RecordedRequest,
  type RunningVllmStub,
  startVllmStub,
  vllmError,
} from "../testing/vllm-stub/index.js";
import {
  DEFAULT_JUDGE_PROMPT,
  JudgeConfigError,
  type JudgeOptions,
  JudgeUnavailableError,
  LlmJudge,
  parseVerdict,
} from "./judge.js";

const CASE = {
  question: "At what temperature does water boil at sea level?",
  truth: "100 degrees Celsius",
  answer: "212 °F",
};

const running: RunningVllmStub[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** The stub policy server (a test double) answering as the judge model; `chatBodies` are the requests. */
async function startStub(
  responder: ChatResponder,
  options: { apiKey?: string } = {},
): Promise<{
  stub: { requests: RecordedRequest[]; readonly chatBodies: ChatCompletionRequestBody[] };
  baseURL: string;
}> {
  const server = await startVllmStub({ model: "judge-model", responder, ...options });
  running.push(server);
  const stub = {
    requests: server.requests,
    get chatBodies(): ChatCompletionRequestBody[] {
      return server.requests
        .filter((request) => request.path === "/v1/chat/completions")
        .map((request) => request.body as ChatCompletionRequestBody);
    },
  };
  return { stub, baseURL: server.baseURL };
}

/** Replies in order, one per call; concurrency 1 keeps calls in judgment order. */
function inOrder(replies: string[]): ChatResponder {
  return (_body, call) => replies[call] ?? "no more scripted replies";
}

function judgeAt(baseURL: string, options: Partial<JudgeOptions> = {}): LlmJudge {
  return new LlmJudge({ baseURL, model: "judge-model", concurrency: 1, ...options });
}

function tempFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), "sandfarm-judge-")), name);
}

describe("parseVerdict", () => {
  it.each([
    ["CORRECT", "CORRECT"],
    ["INCORRECT", "INCORRECT"],
    ["correct", "CORRECT"],
    ["Incorrect.", "INCORRECT"],
    ["**CORRECT**", "CORRECT"],
    ["<think>At first this looks CORRECT, but the units differ.</think>\nINCORRECT", "INCORRECT"],
    ["<think>INCORRECT? No, 212 F is 100 C.</think> correct", "CORRECT"],
    ["<think>Only a verdict inside the reasoning: CORRECT</think>", null],
    ["<think>a</think> CORRECT </think> INCORRECT", "INCORRECT"],
    ["The answer is not CORRECT. Verdict: INCORRECT", "INCORRECT"],
    ["INCORRECT at first sight; on reflection, CORRECT", "CORRECT"],
    ["The candidate answered correctly", null],
    ["It is INCORRECTLY rounded", null],
    ["I cannot tell.", null],
    ["", null],
  ])("%j -> %s", (reply, verdict) => {
    expect(parseVerdict(reply)).toBe(verdict);
  });
});

describe("LlmJudge", () => {
  it("averages four judgments: 3 of 4 CORRECT is 0.75", async () => {
    const { stub, baseURL } = await startStub(
      inOrder(["CORRECT", "<think>hmm</think>INCORRECT", "correct", "Verdict: CORRECT"]),
    );
    const judge = judgeAt(baseURL);
    expect(await judge.score(CASE)).toEqual({
      reward: 0.75,
      details: {
        verdicts: ["CORRECT", "INCORRECT", "CORRECT", "CORRECT"],
        model: "judge-model",
        cached: false,
      },
    });
    expect(stub.chatBodies).toHaveLength(4);
    expect(judge.stats).toEqual({ requests: 4, cacheHits: 0, failures: 0, noVerdict: 0 });
  });

  it("counts a reply without a verdict as 0 and reports it", async () => {
    const { baseURL } = await startStub(
      inOrder(["CORRECT", "I am not sure about this one.", "INCORRECT", "CORRECT"]),
    );
    const judge = judgeAt(baseURL);
    expect(await judge.score(CASE)).toEqual({
      reward: 0.5,
      details: {
        verdicts: ["CORRECT", null, "INCORRECT", "CORRECT"],
        model: "judge-model",
        cached: false,
        unparsed: ["I am not sure about this one."],
      },
    });
    expect(judge.stats.noVerdict).toBe(1);
  });

  it("takes as many judgments as repeats asks for", async () => {
    const { stub, baseURL } = await startStub(inOrder(["CORRECT", "INCORRECT", "CORRECT"]));
    const result = await judgeAt(baseURL, { repeats: 3 }).score(CASE);
    expect(result.reward).toBe(2 / 3);
    expect(stub.chatBodies).toHaveLength(3);
  });

  it("sends the question, the official answer, the candidate answer and the model", async () => {
    const { stub, baseURL } = await startStub(() => "CORRECT");
    await judgeAt(baseURL, { repeats: 1 }).score(CASE);
    const [body] = stub.chatBodies;
    expect(body).toEqual({
      model: "judge-model",
      messages: [
        {
          role: "user",
          content: DEFAULT_JUDGE_PROMPT.replace("{question}", CASE.question)
            .replace("{truth}", CASE.truth)
            .replace("{answer}", CASE.answer),
        },
      ],
      temperature: 0.7,
    });
    const content = body?.messages?.[0]?.content as string;
    expect(content).toContain(`Question:\n${CASE.question}\n`);
    expect(content).toContain(`Official answer:\n${CASE.truth}\n`);
    expect(content).toContain(`Candidate answer:\n${CASE.answer}\n`);
  });

  it("fills a custom template in one pass and sends maxTokens and temperature", async () => {
    const { stub, baseURL } = await startStub(() => "CORRECT");
    const judge = judgeAt(baseURL, {
      repeats: 1,
      temperature: 0,
      maxTokens: 256,
      promptTemplate: "Q={question} T={truth} A={answer}",
    });
    await judge.score({ question: "q", truth: "t", answer: "{truth} {question}" });
    expect(stub.chatBodies[0]).toEqual({
      model: "judge-model",
      messages: [{ role: "user", content: "Q=q T=t A={truth} {question}" }],
      temperature: 0,
      max_completion_tokens: 256,
    });
  });

  it("scores an empty answer 0 without asking the judge", async () => {
    const { stub, baseURL } = await startStub(() => "CORRECT");
    const result = await judgeAt(baseURL).score({ ...CASE, answer: " \n\t " });
    expect(result).toEqual({
      reward: 0,
      details: { verdicts: [], model: "judge-model", cached: false, reason: "empty answer" },
    });
    expect(stub.requests).toHaveLength(0);
  });

  it("sends the bearer token: given, from SANDFARM_JUDGE_API_KEY, else EMPTY", async () => {
    const { stub, baseURL } = await startStub(() => "CORRECT", { apiKey: "judge-secret" });
    await judgeAt(baseURL, { repeats: 1, apiKey: "judge-secret" }).score(CASE);
    vi.stubEnv("SANDFARM_JUDGE_API_KEY", "judge-secret");
    await judgeAt(baseURL, { repeats: 1 }).score({ ...CASE, answer: "100 C" });
    expect(stub.requests.map((request) => request.authorization)).toEqual([
      "Bearer judge-secret",
      "Bearer judge-secret",
    ]);

    vi.stubEnv("SANDFARM_JUDGE_API_KEY", undefined);
    const wrongKey = judgeAt(baseURL, { repeats: 1, retries: 3 });
    await expect(wrongKey.score({ ...CASE, answer: "373 K" })).rejects.toThrow(
      JudgeUnavailableError,
    );
    expect(stub.requests.at(-1)?.authorization).toBe("Bearer EMPTY");
    // A refusal is not retried.
    expect(wrongKey.stats).toEqual({ requests: 1, cacheHits: 0, failures: 1, noVerdict: 0 });
  });

  it("retries after a 500 and a 429, then succeeds", async () => {
    const { stub, baseURL } = await startStub((_body, call) => {
      if (call === 0) return { status: 500, body: vllmError(500, "engine step failed") };
      if (call === 1) return { status: 429, body: vllmError(429, "too many requests") };
      return "CORRECT";
    });
    const judge = judgeAt(baseURL, { repeats: 1, retries: 2 });
    expect(await judge.score(CASE)).toEqual({
      reward: 1,
      details: { verdicts: ["CORRECT"], model: "judge-model", cached: false },
    });
    expect(stub.chatBodies).toHaveLength(3);
    expect(judge.stats).toEqual({ requests: 3, cacheHits: 0, failures: 2, noVerdict: 0 });
  });

  it("throws JudgeUnavailableError when every attempt times out", async () => {
    const { stub, baseURL } = await startStub(() => ({ delayMs: 30_000, content: "CORRECT" }));
    const judge = judgeAt(baseURL, { repeats: 1, retries: 1, timeoutMs: 200 });
    const failure = await judge.score(CASE).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JudgeUnavailableError);
    expect((failure as JudgeUnavailableError).fault).toBe("infrastructure");
    expect((failure as Error).message).toBe(
      `the judge model 'judge-model' at ${baseURL} gave no judgment after 2 attempts: timed out after 200 ms`,
    );
    expect(stub.chatBodies).toHaveLength(2);
  });

  it("does not retry a 400 and says what the server said", async () => {
    const { stub, baseURL } = await startStub(() => ({
      status: 400,
      body: vllmError(400, "This model's maximum context length is 4096 tokens."),
    }));
    const judge = judgeAt(baseURL, { repeats: 1, retries: 3 });
    await expect(judge.score(CASE)).rejects.toThrow(
      `the judge model 'judge-model' at ${baseURL} gave no judgment after 1 attempt: HTTP 400 This model's maximum context length is 4096 tokens.`,
    );
    expect(stub.chatBodies).toHaveLength(1);
  });

  it("serves a repeated answer from the cache, across restarts through cachePath", async () => {
    const { stub, baseURL } = await startStub(
      inOrder(["CORRECT", "CORRECT", "INCORRECT", "CORRECT", "INCORRECT", "INCORRECT"]),
    );
    const cachePath = tempFile("judge-cache.jsonl");
    const first = judgeAt(baseURL, { cachePath });
    expect((await first.score(CASE)).reward).toBe(0.75);
    expect(await first.score(CASE)).toEqual({
      reward: 0.75,
      details: {
        verdicts: ["CORRECT", "CORRECT", "INCORRECT", "CORRECT"],
        model: "judge-model",
        cached: true,
      },
    });
    expect(first.stats).toEqual({ requests: 4, cacheHits: 1, failures: 0, noVerdict: 0 });

    const restarted = judgeAt(baseURL, { cachePath });
    expect(await restarted.score(CASE)).toEqual({
      reward: 0.75,
      details: {
        verdicts: ["CORRECT", "CORRECT", "INCORRECT", "CORRECT"],
        model: "judge-model",
        cached: true,
      },
    });
    expect(restarted.stats.requests).toBe(0);
    expect(stub.chatBodies).toHaveLength(4);

    // Another judge model is another key (served as a LoRA adapter, as vLLM serves extra names).
    await fetch(`${baseURL}/load_lora_adapter`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ lora_name: "other-judge", lora_path: "/adapters/other-judge" }),
    });
    const otherModel = judgeAt(baseURL, { cachePath, model: "other-judge", repeats: 2 });
    expect(await otherModel.score(CASE)).toEqual({
      reward: 0,
      details: { verdicts: ["INCORRECT", "INCORRECT"], model: "other-judge", cached: false },
    });
    expect(readFileSync(cachePath, "utf8").trimEnd().split("\n")).toHaveLength(2);
  });

  it("loads a cache whose last line is torn and appends after it on a fresh line", async () => {
    const { baseURL } = await startStub(() => "CORRECT");
    const cachePath = tempFile("judge-cache.jsonl");
    await judgeAt(baseURL, { cachePath, repeats: 1 }).score(CASE);
    appendFileSync(cachePath, '{"key":"0123abcd","reward":0.');

    const restarted = judgeAt(baseURL, { cachePath, repeats: 1 });
    expect((await restarted.score(CASE)).details.cached).toBe(true);
    await restarted.score({ ...CASE, answer: "100 C" });
    const lines = readFileSync(cachePath, "utf8").split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('{"key":"0123abcd","reward":0.');
    expect(JSON.parse(lines[2]!)).toMatchObject({ reward: 1, verdicts: ["CORRECT"] });
    expect(lines[3]).toBe("");

    const again = judgeAt(baseURL, { cachePath, repeats: 1 });
    await again.score(CASE);
    await again.score({ ...CASE, answer: "100 C" });
    expect(again.stats).toEqual({ requests: 0, cacheHits: 2, failures: 0, noVerdict: 0 });
  });

  it("judges an answer once when it is asked for twice at the same time", async () => {
    const { stub, baseURL } = await startStub(() => "CORRECT");
    const judge = judgeAt(baseURL, { concurrency: 4 });
    const [first, second] = await Promise.all([judge.score(CASE), judge.score(CASE)]);
    expect(first?.details.cached).toBe(false);
    expect(second).toEqual({
      reward: 1,
      details: { verdicts: Array(4).fill("CORRECT"), model: "judge-model", cached: true },
    });
    expect(stub.chatBodies).toHaveLength(4);
  });

  it("rejects bad options, naming each field and its fix", () => {
    expect(() => new LlmJudge({ baseURL: "localhost:8000", model: "m", repeats: 0 })).toThrow(
      new JudgeConfigError(
        "invalid judge options:\n" +
          "  judge.baseURL: is not an http(s) URL; give the judge server's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1\n" +
          "  judge.repeats: Too small: expected number to be >=1; give a whole number of judgments per answer from 1 to 64",
      ),
    );
    const base = { baseURL: "http://127.0.0.1:8000/v1", model: "m" };
    expect(() => new LlmJudge({ ...base, model: "" })).toThrow(/judge\.model: .*\/v1\/models/);
    expect(() => new LlmJudge({ ...base, temperature: 3 })).toThrow(/judge\.temperature: /);
    expect(() => new LlmJudge({ ...base, promptTemplate: "Grade {answer}" })).toThrow(
      /judge\.promptTemplate: lacks \{answer\} or \{truth\}/,
    );
    expect(() => new LlmJudge({ ...base, repeat: 4 } as JudgeOptions)).toThrow(
      /judge\.repeat: is not an option/,
    );
    expect(() => new LlmJudge({ ...base, cachePath: "/nonexistent-folder/cache.jsonl" })).toThrow(
      /judge\.cachePath: the folder \/nonexistent-folder does not exist/,
    );
  });
});
