/**
 * Which scorer a task gets, and the rules that come before any scorer: how the episode ended
 * (the overlong penalty, infrastructure failures) and whether there is an answer at all.
 * Routing follows the reference: math and physics by math equivalence, choice letters, set F1
 * for multi-answer choices, math-or-ROUGE-L for open-ended answers, IF verifiers.
 *
 * @example
 * const plan = planReward({ task, answer: "\\boxed{4}", mode: "sandbox", stopReason: "submitted" });
 * if (plan.kind === "score") await rewarder.scoreWith(plan.scorer, plan.input);
 */

/** How an episode ended (docs/architecture.md, "Stop reasons"); the episode loop reports one. */
export const STOP_REASONS = [
  "submitted",
  "max_turns",
  "token_budget",
  "length",
  "prompt_too_long",
  "timeout",
  "cancelled",
  "sandbox_lost",
  "disk_limit",
  "policy_error",
  "sandbox_error",
] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** Ends that hit a limit: reward 0 under the overlong penalty (on by default). */
export const OVERLONG_STOP_REASONS: readonly StopReason[] = [
  "max_turns",
  "token_budget",
  "length",
  "prompt_too_long",
  "timeout",
];

/** Ends that are nobody's answer: the group is retried or masked, never trained on. */
export const INFRASTRUCTURE_STOP_REASONS: readonly StopReason[] = ["policy_error", "sandbox_error"];

/** The task fields scoring needs; `datasets`' `Task` has them all. */
export interface RewardTask {
  domain: string;
  question: string;
  answerType: string;
  groundTruth: string;
  instructions?: readonly { id: string; kwargs?: Record<string, unknown> }[];
  scorer?: string | undefined;
  scorerOptions?: Record<string, unknown>;
}

export interface RewardRequest {
  task: RewardTask;
  /** The answer file's content (sandbox mode) or the response (plain LLM mode); null if none. */
  answer: string | null | undefined;
  mode: "sandbox" | "llm";
  /** @default "submitted" */
  stopReason?: StopReason;
}

export interface RouteOptions {
  /** Scorer by domain, consulted before the answer type. @default math and physics -> math */
  byDomain?: Record<string, string>;
  /** Scorer by answer type. @default the reference's (see DEFAULT_ANSWER_TYPE_ROUTES) */
  byAnswerType?: Record<string, string>;
  /** Reward 0 for episodes that hit a limit. @default true */
  overlongPenalty?: boolean;
}

export const DEFAULT_DOMAIN_ROUTES: Record<string, string> = { math: "math", physics: "math" };

export const DEFAULT_ANSWER_TYPE_ROUTES: Record<string, string> = {
  single_choice: "choice",
  multiple_choice: "multi_choice",
  open_ended: "open_ended",
  math: "math",
  numeric: "numeric",
  instruction_following: "ifeval",
};

/** Paper-style evaluation: physics and long context go to the LLM judge (method-facts). */
export const EVALUATION_DOMAIN_ROUTES: Record<string, string> = {
  math: "math",
  physics: "judge",
  long_context: "judge",
};

export type RewardPlan =
  | {
      kind: "score";
      scorer: string;
      input: { answer: string; truth: string; question: string; options: Record<string, unknown> };
    }
  /** Decided without a scorer: reward 0 for `reason`. */
  | {
      kind: "zero";
      reason: string;
      status: "penalized" | "no_answer" | "sandbox_lost" | "disk_limit";
    }
  /** Not a reward at all: the rollout is masked (infrastructure) or dropped (cancelled). */
  | { kind: "untrainable"; reason: string; status: "infrastructure" | "cancelled" };

export function routeScorer(task: RewardTask, options: RouteOptions = {}): string {
  if (task.scorer) return task.scorer;
  // Instructions are the truth of an instruction-following task whatever its domain.
  if (task.answerType === "instruction_following") return "ifeval";
  const byDomain = options.byDomain ?? DEFAULT_DOMAIN_ROUTES;
  const byAnswerType = { ...DEFAULT_ANSWER_TYPE_ROUTES, ...options.byAnswerType };
  return byDomain[task.domain] ?? byAnswerType[task.answerType] ?? "open_ended";
}

/**
 * The final `Answer: ...` line of a plain-mode response, which the plain-mode prompts ask for;
 * the whole text when there is none.
 */
export function finalAnswerLine(response: string): string {
  const lines = [...response.matchAll(/^[ \t>*_#]*answer[*_]*\s*[:：][*_]*\s*(.+?)\s*$/gim)];
  const last = lines.at(-1);
  return last ? last[1]!.replace(/[*_]+$/, "").trim() : response;
}

/** Scorers that read a final line in plain mode; the others find their answer themselves. */
const READS_ANSWER_LINE = new Set([
  "open_ended",
  "numeric",
  "exact",
  "f1",
  "rouge_l",
  "multi_choice",
]);

export function planReward(request: RewardRequest, options: RouteOptions = {}): RewardPlan {
  const stopReason = request.stopReason ?? "submitted";
  if (INFRASTRUCTURE_STOP_REASONS.includes(stopReason))
    return { kind: "untrainable", status: "infrastructure", reason: `stop reason ${stopReason}` };
  if (stopReason === "cancelled")
    return { kind: "untrainable", status: "cancelled", reason: "the episode was cancelled" };
  if ((options.overlongPenalty ?? true) && OVERLONG_STOP_REASONS.includes(stopReason))
    return {
      kind: "zero",
      status: "penalized",
      reason: `overlong penalty: stop reason ${stopReason}`,
    };
  if (stopReason === "sandbox_lost")
    return { kind: "zero", status: "sandbox_lost", reason: "the model lost its sandbox" };
  if (stopReason === "disk_limit")
    return {
      kind: "zero",
      status: "disk_limit",
      reason: "the model wrote past its sandbox's disk limit",
    };
  const answer = request.answer ?? "";
  if (answer.trim() === "")
    return {
      kind: "zero",
      status: "no_answer",
      reason:
        request.answer === null || request.answer === undefined ? "no answer" : "empty answer",
    };
  const scorer = routeScorer(request.task, options);
  const scorerOptions: Record<string, unknown> = { ...request.task.scorerOptions };
  if (scorer === "ifeval") {
    scorerOptions.instructions ??= request.task.instructions ?? [];
    scorerOptions.prompt ??= request.task.question;
  }
  return {
    kind: "score",
    scorer,
    input: {
      answer:
        request.mode === "llm" && READS_ANSWER_LINE.has(scorer) ? finalAnswerLine(answer) : answer,
      truth: request.task.groundTruth,
      question: request.task.question,
      options: scorerOptions,
    },
  };
}
