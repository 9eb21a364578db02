/**
 * The LLM judge: asks a judge model, over any OpenAI-compatible server (vLLM, SGLang, OpenAI),
 * whether a candidate answer is consistent with the official answer. Each answer gets `repeats`
 * independent judgments; each reply's last CORRECT/INCORRECT word is its verdict; the reward is
 * the share of CORRECT verdicts. Results are cached by (question, truth, answer, model, prompt).
 *
 * A judge that cannot be reached throws `JudgeUnavailableError` instead of scoring 0: the farm
 * masks infrastructure failures, and a silent 0 would train the policy on the judge's outage.
 *
 * @example
 * const judge = new LlmJudge({ baseURL: "http://127.0.0.1:8000/v1", model: "Qwen/Qwen3-8B" });
 * const { reward } = await judge.score({ question: "Speed of light?", truth: "3e8 m/s", answer: "about 300,000 km/s" });
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai";
import { z } from "zod";
import type { ScoreResult } from "./types.js";
import { ConfigError, InfrastructureError } from "../common/errors.js";

/**
 * Our judge prompt. A template given in the options replaces it; `{question}`, `{truth}` and
 * `{answer}` are filled in one pass, so an answer containing "{truth}" stays literal.
 */
export const DEFAULT_JUDGE_PROMPT = `You are checking a candidate answer against the official answer to a question.

Question:
{question}

Official answer:
{truth}

Candidate answer:
{answer}

Is the candidate answer consistent with the official answer? Judge only the final result it gives, not how it got there. It is consistent when it gives the same result in other words, notation, units or formatting, or rounded within the precision the official answer shows. It is inconsistent when its result differs, is missing, hedges between several results, or covers only part of what the official answer asks for.

Reply with one word: CORRECT if the candidate answer is consistent with the official answer, INCORRECT if it is not.`;

export interface JudgeOptions {
  /** The judge server's OpenAI-compatible base URL, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** The judge model's name as the server lists it. */
  model: string;
  /** Bearer token. @default env SANDFARM_JUDGE_API_KEY, else "EMPTY" (what vLLM accepts) */
  apiKey?: string;
  /** Independent judgments per answer, averaged. @default 4 */
  repeats?: number;
  /**
   * Sampling temperature of each judgment. Not 0: averaging several judgments only measures the
   * judge's uncertainty when they can differ; at 0 the repeats are near-copies that cost N times
   * one. For a deterministic judge set `temperature: 0, repeats: 1`. @default 0.7
   */
  temperature?: number;
  /** `max_completion_tokens` per judgment; unset = the server's limit (reasoning judges need room). */
  maxTokens?: number;
  /** Time limit per request, in milliseconds, covering the whole reply. @default 120000 */
  timeoutMs?: number;
  /**
   * Extra attempts per judgment after a timeout, connection error, HTTP 408, 429 or 5xx, with
   * jittered exponential backoff. Other HTTP errors (400, 401, 404) fail at once. @default 3
   */
  retries?: number;
  /** Requests in flight at once, across all answers. @default 16 */
  concurrency?: number;
  /** JSONL file the cache is loaded from at construction and appended to; its folder must exist. */
  cachePath?: string;
  /** Replaces our prompt; must contain `{answer}` and `{truth}`, may contain `{question}`. */
  promptTemplate?: string;
}

export type Verdict = "CORRECT" | "INCORRECT";

/** Options rejected at construction; the message names each bad field and its fix. */
export class JudgeConfigError extends ConfigError {}

/**
 * A judgment failed after its retries, or the server refused the request. An infrastructure
 * failure: the caller must retry or mask the rollout, never score it 0.
 */
export class JudgeUnavailableError extends InfrastructureError {}

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const UNPARSED_TAIL_CHARS = 200;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const judgeOptionsSchema = z
  .object({
    baseURL: z.string().refine(isHttpUrl, "is not an http(s) URL"),
    model: z.string().min(1),
    apiKey: z.string().min(1).optional(),
    repeats: z.number().int().min(1).max(64).default(4),
    temperature: z.number().min(0).max(2).default(0.7),
    maxTokens: z.number().int().min(1).optional(),
    timeoutMs: z.number().int().min(1).default(120_000),
    retries: z.number().int().min(0).max(20).default(3),
    concurrency: z.number().int().min(1).default(16),
    cachePath: z.string().min(1).optional(),
    promptTemplate: z
      .string()
      .refine(
        (template) => template.includes("{answer}") && template.includes("{truth}"),
        "lacks {answer} or {truth}",
      )
      .optional(),
  })
  .strict();

type ParsedJudgeOptions = z.output<typeof judgeOptionsSchema>;

const FIXES: Record<string, string> = {
  baseURL: "give the judge server's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1",
  model: "give the judge model's name as the server lists it at /v1/models",
  apiKey: "give a non-empty key, or leave it out to use SANDFARM_JUDGE_API_KEY",
  repeats: "give a whole number of judgments per answer from 1 to 64",
  temperature: "give a number from 0 to 2",
  maxTokens: "give a whole number of tokens, at least 1, or leave it out",
  timeoutMs: "give a whole number of milliseconds, at least 1",
  retries: "give a whole number of extra attempts from 0 to 20",
  concurrency: "give a whole number of requests in flight, at least 1",
  cachePath: "give a file path, or leave it out for an in-memory cache",
  promptTemplate: "write {question}, {truth} and {answer} where the template takes them",
};

function parseJudgeOptions(options: JudgeOptions): ParsedJudgeOptions {
  const result = judgeOptionsSchema.safeParse(options);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map(
        (key) => `judge.${key}: is not an option; the options are ${Object.keys(FIXES).join(", ")}`,
      );
    }
    const field = String(issue.path[0] ?? "");
    return [`judge.${field}: ${issue.message}; ${FIXES[field] ?? "see JudgeOptions"}`];
  });
  throw new JudgeConfigError(`invalid judge options:\n  ${problems.join("\n  ")}`);
}

/**
 * The verdict of one judge reply: a leading reasoning block (everything up to and including the
 * first `</think>`) is dropped, then the last whole word CORRECT or INCORRECT wins, in any case.
 * Null when there is none.
 */
export function parseVerdict(reply: string): Verdict | null {
  const thinkEnd = reply.indexOf("</think>");
  const text = thinkEnd === -1 ? reply : reply.slice(thinkEnd + "</think>".length);
  const words = text.match(/\b(?:in)?correct\b/gi);
  const last = words?.at(-1);
  if (last === undefined) return null;
  return last.toUpperCase() === "CORRECT" ? "CORRECT" : "INCORRECT";
}

function fillTemplate(
  template: string,
  input: { question: string; truth: string; answer: string },
): string {
  return template.replace(
    /\{(question|truth|answer)\}/g,
    (_match, name: "question" | "truth" | "answer") => input[name],
  );
}

const cachedJudgmentSchema = z.object({
  key: z.string(),
  reward: z.number().min(0).max(1),
  verdicts: z.array(z.enum(["CORRECT", "INCORRECT"]).nullable()),
  model: z.string(),
  unparsed: z.array(z.string()).optional(),
});

type CachedJudgment = z.output<typeof cachedJudgmentSchema>;

function resultFrom(judgment: CachedJudgment, cached: boolean): ScoreResult {
  return {
    reward: judgment.reward,
    details: {
      verdicts: judgment.verdicts,
      model: judgment.model,
      cached,
      ...(judgment.unparsed ? { unparsed: judgment.unparsed } : {}),
    },
  };
}

/** One failed request, classified. */
class AttemptError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause: unknown) {
    super(message, { cause });
    this.name = new.target.name;
    this.retryable = retryable;
  }
}

function classify(error: unknown, timeoutMs: number): AttemptError {
  if (error instanceof APIConnectionTimeoutError) {
    return new AttemptError(`timed out after ${timeoutMs} ms`, true, error);
  }
  if (error instanceof APIConnectionError) {
    return new AttemptError(`could not connect (${error.message})`, true, error);
  }
  if (error instanceof APIError) {
    // `instanceof` narrows to APIError<any>; the declared default types the status.
    const status = (error as APIError).status ?? 0;
    const retryable = status === 408 || status === 429 || status >= 500;
    // The client's message starts with the status: "400 This model's maximum context length...".
    return new AttemptError(`HTTP ${error.message}`, retryable, error);
  }
  return new AttemptError(error instanceof Error ? error.message : String(error), false, error);
}

/** Full jitter: a uniform wait up to an exponentially growing, capped bound. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

/** At most `limit` tasks at once; a finishing task hands its slot straight to the next waiter. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export class LlmJudge {
  /**
   * `requests`: HTTP requests sent, retries included. `cacheHits`: answers served from the cache
   * (or joined to an identical answer being judged). `failures`: requests that failed.
   * `noVerdict`: replies without a verdict word, each counted as INCORRECT.
   */
  readonly stats = { requests: 0, cacheHits: 0, failures: 0, noVerdict: 0 };
  private readonly options: ParsedJudgeOptions;
  private readonly template: string;
  private readonly client: OpenAI;
  private readonly limiter: Limiter;
  private readonly cache = new Map<string, CachedJudgment>();
  private readonly inflight = new Map<string, Promise<ScoreResult>>();
  private cacheWrites: Promise<void> = Promise.resolve();
  /** The file ends in a torn line: the next append starts on a fresh line. */
  private cacheNeedsNewline = false;

  constructor(options: JudgeOptions) {
    this.options = parseJudgeOptions(options);
    this.template = this.options.promptTemplate ?? DEFAULT_JUDGE_PROMPT;
    if (this.options.cachePath !== undefined) this.loadCache(this.options.cachePath);
    this.limiter = new Limiter(this.options.concurrency);
    this.client = new OpenAI({
      baseURL: this.options.baseURL,
      apiKey: this.options.apiKey ?? process.env.SANDFARM_JUDGE_API_KEY ?? "EMPTY",
      // Ours are the only retries; and the user's OpenAI org/project are not sent to a judge.
      maxRetries: 0,
      timeout: this.options.timeoutMs,
      organization: null,
      project: null,
    });
  }

  /** Throws `JudgeUnavailableError` when a judgment fails after its retries. */
  async score(input: { question: string; answer: string; truth: string }): Promise<ScoreResult> {
    const { model } = this.options;
    if (input.answer.trim() === "") {
      return { reward: 0, details: { verdicts: [], model, cached: false, reason: "empty answer" } };
    }
    const key = this.cacheKey(input);
    const hit = this.cache.get(key);
    if (hit) {
      this.stats.cacheHits++;
      return resultFrom(hit, true);
    }
    const running = this.inflight.get(key);
    if (running) {
      this.stats.cacheHits++;
      const result = await running;
      return { reward: result.reward, details: { ...result.details, cached: true } };
    }
    const judging = this.judge(key, input).finally(() => this.inflight.delete(key));
    this.inflight.set(key, judging);
    return judging;
  }

  private cacheKey(input: { question: string; truth: string; answer: string }): string {
    return createHash("sha256")
      .update(
        JSON.stringify([
          this.options.model,
          this.template,
          input.question,
          input.truth,
          input.answer,
        ]),
      )
      .digest("hex");
  }

  private async judge(
    key: string,
    input: { question: string; truth: string; answer: string },
  ): Promise<ScoreResult> {
    const prompt = fillTemplate(this.template, input);
    const siblings = new AbortController();
    let replies: string[];
    try {
      replies = await Promise.all(
        Array.from({ length: this.options.repeats }, () => this.judgeOnce(prompt, siblings.signal)),
      );
    } catch (error) {
      // One judgment is lost, so the answer is: stop its siblings' requests and backoffs.
      siblings.abort();
      throw error;
    }
    const verdicts = replies.map(parseVerdict);
    const unparsed = replies
      .filter((_reply, index) => verdicts[index] === null)
      .map((reply) => reply.slice(-UNPARSED_TAIL_CHARS));
    this.stats.noVerdict += unparsed.length;
    const judgment: CachedJudgment = {
      key,
      reward: verdicts.filter((verdict) => verdict === "CORRECT").length / verdicts.length,
      verdicts,
      model: this.options.model,
      ...(unparsed.length > 0 ? { unparsed } : {}),
    };
    this.cache.set(key, judgment);
    if (this.options.cachePath !== undefined)
      await this.appendToCache(this.options.cachePath, judgment);
    return resultFrom(judgment, false);
  }

  /** One judgment with its retries; returns the reply text. */
  private async judgeOnce(prompt: string, siblings: AbortSignal): Promise<string> {
    const { retries, model, baseURL } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.limiter.run(() => this.request(prompt, siblings));
      } catch (error) {
        if (siblings.aborted) throw error;
        this.stats.failures++;
        const failure =
          error instanceof AttemptError ? error : classify(error, this.options.timeoutMs);
        if (!failure.retryable || attempt >= retries) {
          const attempts = `${attempt + 1} attempt${attempt === 0 ? "" : "s"}`;
          throw new JudgeUnavailableError(
            `the judge model '${model}' at ${baseURL} gave no judgment after ${attempts}: ${failure.message}`,
            { cause: failure.cause },
          );
        }
        await sleep(backoffMs(attempt), undefined, { signal: siblings });
      }
    }
  }

  private async request(prompt: string, siblings: AbortSignal): Promise<string> {
    siblings.throwIfAborted();
    this.stats.requests++;
    const { model, temperature, maxTokens, timeoutMs } = this.options;
    // The client's own timeout stops at the response headers; this one covers the body too.
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const completion = await this.client.chat.completions.create(
        {
          model,
          messages: [{ role: "user", content: prompt }],
          temperature,
          ...(maxTokens !== undefined ? { max_completion_tokens: maxTokens } : {}),
        },
        { signal: AbortSignal.any([siblings, timeout]), timeout: timeoutMs },
      );
      return completion.choices[0]?.message.content ?? "";
    } catch (error) {
      if (timeout.aborted && !siblings.aborted) {
        throw new AttemptError(`timed out after ${timeoutMs} ms`, true, error);
      }
      throw error;
    }
  }

  private loadCache(path: string): void {
    let text = "";
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") {
        throw new JudgeConfigError(
          `invalid judge options:\n  judge.cachePath: cannot read ${path} (${code}); ${FIXES.cachePath}`,
        );
      }
      let folderIsDirectory = false;
      try {
        folderIsDirectory = statSync(dirname(path)).isDirectory();
      } catch {
        folderIsDirectory = false;
      }
      if (!folderIsDirectory) {
        throw new JudgeConfigError(
          `invalid judge options:\n  judge.cachePath: the folder ${dirname(path)} does not exist; create it or give another path`,
        );
      }
    }
    // A torn line (a crash mid-append) is skipped wherever it is: after a restart it is no
    // longer the last line, since new entries go after it on lines of their own.
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      const parsed = cachedJudgmentSchema.safeParse(entry);
      if (parsed.success) this.cache.set(parsed.data.key, parsed.data);
    }
    this.cacheNeedsNewline = text !== "" && !text.endsWith("\n");
  }

  private async appendToCache(path: string, judgment: CachedJudgment): Promise<void> {
    const prefix = this.cacheNeedsNewline ? "\n" : "";
    this.cacheNeedsNewline = false;
    const line = `${prefix}${JSON.stringify(judgment)}\n`;
    const write = this.cacheWrites
      .catch(() => undefined)
      .then(() => appendFile(path, line, "utf8"));
    this.cacheWrites = write;
    try {
      await write;
    } catch (error) {
      throw new Error(
        `could not append to the judge cache ${path} (${(error as Error).message}); the judgment is kept in memory`,
        { cause: error },
      );
    }
  }
}
