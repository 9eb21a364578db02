/**
 * The reward for an episode: routes the task to a scorer, applies the stop-reason rules first,
 * and runs the scorer where it belongs: built-in and module scorers on the worker pool (time
 * limit, input cap), the LLM judge and command scorers on their own clients with their own
 * timeouts. Scorer failures never become a silent 0 that gets trained on: an unavailable judge
 * or a broken custom scorer makes the outcome untrainable.
 *
 * @example
 * const rewarder = await Rewarder.create({ judge: { baseURL, model: "judge" } });
 * const outcome = await rewarder.reward({ task, answer, mode: "sandbox", stopReason: "submitted" });
 * await rewarder.close();
 */
import { type AsyncScorer, CustomScorerError, commandScorer, loadModuleScorer } from "./custom.js";
import { type JudgeOptions, JudgeUnavailableError, LlmJudge } from "./judge.js";
import { DEFAULT_MAX_ANSWER_CHARS, ScorerPool, type ScorerPoolOptions } from "./pool.js";
import { SCORERS, UnknownScorerError } from "./registry.js";
import { type RewardRequest, type RouteOptions, planReward } from "./route.js";
import type { ScoreInput, ScoreResult } from "./types.js";
import { ConfigError } from "../common/errors.js";

/** A custom scorer: a JS/TS module, or a program reading JSON on stdin. */
export type CustomScorerSpec =
  | { module: string }
  | { command: string[]; timeoutMs?: number; cwd?: string; env?: Record<string, string> };

export interface RewarderOptions extends RouteOptions {
  /**
   * Where the built-in and module scorers run: a worker pool (its options), or `"in-process"`
   * for one-off use such as the CLI, without the pool's time limit. @default a pool with defaults
   */
  pool?: ScorerPoolOptions | "in-process";
  /** Enables the `judge` scorer. */
  judge?: JudgeOptions;
  /** Custom scorers by name; a name may not shadow a built-in one. */
  custom?: Record<string, CustomScorerSpec>;
}

export type OutcomeStatus =
  | "scored"
  | "penalized"
  | "no_answer"
  | "sandbox_lost"
  | "disk_limit"
  | "infrastructure"
  | "cancelled"
  | "scorer_error";

export interface RewardOutcome {
  reward: number;
  /** False: mask the rollout's group (infrastructure) or drop it; never train on it. */
  trainable: boolean;
  status: OutcomeStatus;
  /** The scorer that ran, if one did. */
  scorer?: string;
  details: Record<string, unknown>;
}

export class RewarderConfigError extends ConfigError {}

export class Rewarder {
  private constructor(
    private readonly options: RewarderOptions,
    private readonly pool: ScorerPool | undefined,
    private readonly moduleScorers: Map<string, AsyncScorer>,
    private readonly commandScorers: Map<string, AsyncScorer>,
    private readonly judge: LlmJudge | undefined,
  ) {}

  /** Checks every custom scorer (modules are loaded once here) before anything runs. */
  static async create(options: RewarderOptions = {}): Promise<Rewarder> {
    const modules: Record<string, string> = {};
    const moduleScorers = new Map<string, AsyncScorer>();
    const commandScorers = new Map<string, AsyncScorer>();
    for (const [name, spec] of Object.entries(options.custom ?? {})) {
      if (Object.hasOwn(SCORERS, name) || name === "judge")
        throw new RewarderConfigError(
          `custom.${name}: '${name}' is a built-in scorer; give the custom scorer another name`,
        );
      try {
        if ("module" in spec) {
          moduleScorers.set(name, await loadModuleScorer(spec.module));
          modules[name] = spec.module;
        } else {
          commandScorers.set(name, commandScorer(spec));
        }
      } catch (error) {
        if (!(error instanceof CustomScorerError)) throw error;
        throw new RewarderConfigError(`custom.${name}: ${error.message}`, { cause: error });
      }
    }
    const judge = options.judge ? new LlmJudge(options.judge) : undefined;
    const pool =
      options.pool === "in-process" ? undefined : new ScorerPool({ ...options.pool, modules });
    return new Rewarder(options, pool, moduleScorers, commandScorers, judge);
  }

  has(name: string): boolean {
    return this.names().includes(name);
  }

  /** Every scorer name this rewarder can run. */
  names(): string[] {
    return [
      ...Object.keys(SCORERS),
      ...(this.judge ? ["judge"] : []),
      ...this.moduleScorers.keys(),
      ...this.commandScorers.keys(),
    ];
  }

  /**
   * Scores with a named scorer, no routing or stop-reason rules. Throws `UnknownScorerError`,
   * and the judge's and custom scorers' errors.
   */
  async scoreWith(name: string, input: ScoreInput): Promise<ScoreResult> {
    const pool = this.options.pool;
    const cap = (pool !== "in-process" && pool?.maxAnswerChars) || DEFAULT_MAX_ANSWER_CHARS;
    if (input.answer.length > cap && this.has(name)) {
      // The pool's cap, for every scorer: no 1 MB answer reaches a judge or a command either.
      return {
        reward: 0,
        details: {
          reason: `answer of ${input.answer.length} characters is over the ${cap}-character cap`,
        },
      };
    }
    if (name === "judge" && this.judge) {
      return this.judge.score({
        question: input.question ?? "",
        answer: input.answer,
        truth: input.truth,
      });
    }
    const command = this.commandScorers.get(name);
    if (command) return command(input);
    if (this.pool) return this.pool.score(name, input);
    const builtIn = Object.hasOwn(SCORERS, name) ? SCORERS[name] : undefined;
    if (builtIn) return builtIn(input);
    const module = this.moduleScorers.get(name);
    if (module) return module(input);
    throw new UnknownScorerError(name, this.names());
  }

  async reward(request: RewardRequest): Promise<RewardOutcome> {
    const plan = planReward(request, this.options);
    if (plan.kind === "untrainable")
      return { reward: 0, trainable: false, status: plan.status, details: { reason: plan.reason } };
    if (plan.kind === "zero")
      return { reward: 0, trainable: true, status: plan.status, details: { reason: plan.reason } };
    try {
      const result = await this.scoreWith(plan.scorer, plan.input);
      return { ...result, trainable: true, status: "scored", scorer: plan.scorer };
    } catch (error) {
      if (error instanceof JudgeUnavailableError || error instanceof CustomScorerError) {
        return {
          reward: 0,
          trainable: false,
          status: error instanceof JudgeUnavailableError ? "infrastructure" : "scorer_error",
          scorer: plan.scorer,
          details: { reason: error.message },
        };
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
