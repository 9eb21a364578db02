/**
 * The eval report, computed from a run's records alone (so `rescore` and a resumed run get the
 * same figures as the first pass). Per domain and mode: the mean reward, pass@k, turns, tokens
 * and stop reasons; per domain the gain of sandbox mode over plain LLM mode; capability usage
 * rates of sandbox-mode turns; token consumption per mode and its sandbox/LLM ratio.
 *
 * Definitions (report.md repeats them under the table):
 * - score: mean reward of the scored rollouts. Rollouts that failed for infrastructure reasons
 *   (`trainable` false) are counted in `failed` and left out: an outage is not the model's 0.
 * - gain: sandbox score - LLM score, both in [0, 1].
 * - pass@k: the unbiased estimator 1 - C(n-c, k) / C(n, k) per task (n scored repeats, c of them
 *   with reward 1), averaged over the tasks with at least k scored repeats; k = 1, 2, 4, ... up
 *   to the most repeats of any task.
 * - capability usage: share of a domain's sandbox-mode turns whose tool call used the capability.
 * - tokens: the server's usage summed over every call (`prompt` counts a conversation's prefix
 *   again on each call: what the server prefilled, before prefix caching), over every rollout
 *   including failed ones (they were spent); `perRollout` divides by the rollouts; `ratio` is
 *   sandbox / LLM of the per-rollout means, overall and per domain.
 * - overall: the same over all rollouts (`score`), and `macroScore`, the mean of domain scores.
 *
 * @example
 * const report = computeReport(records, { runId: "eval-1", modes: ["sandbox", "llm"] });
 * report.domains.math.gain;
 */
import { type RequestSummary, requestSummary } from "../agent/request-summary.js";

export type { RequestSummary } from "../agent/request-summary.js";
import { type Capability, capabilityRates } from "../agent/capabilities.js";
import type { EvalRecord } from "./records.js";

export const REPORT_SCHEMA_VERSION = 1;

export type Mode = "sandbox" | "llm";

export interface TokenSummary {
  prompt: number;
  completion: number;
  total: number;
  rollouts: number;
  perRollout: { prompt: number; completion: number; total: number };
}

export interface ModeSummary {
  score: number;
  /** Scored rollouts. */
  n: number;
  /** Distinct tasks with at least one scored rollout. */
  tasks: number;
  /** Rollouts lost to infrastructure failures, not scored. */
  failed: number;
  /** pass@k by k ("1", "2", ...). */
  passAtK: Record<string, number>;
  /** By k, the tasks pass@k averages over (those with at least k scored repeats). */
  passAtKTasks: Record<string, number>;
  turns: { mean: number; max: number };
  tokens: TokenSummary;
  stopReasons: Record<string, number>;
}

export interface OverallModeSummary extends ModeSummary {
  /** Mean of the domain scores. */
  macroScore: number;
}

/** sandbox / LLM of the per-rollout means; null where a mode is missing or its value is 0. */
export interface TokenRatio {
  prompt: number | null;
  completion: number | null;
  total: number | null;
}

export type ModeTokens = Partial<Record<Mode, TokenSummary>> & { ratio: TokenRatio | null };

export type CapabilityUsage = Record<Capability, number> & { turns: number };

/** One turn of a sample rollout, shortened for reading. */
export interface ExampleTurn {
  tool: string | null;
  /** The call's arguments: the command for execute_bash, else the JSON (shortened). */
  input: string;
  capabilities: Capability[];
  /** The first lines of what the tool returned (shortened). */
  observation: string;
  isError: boolean;
}

/** A sample sandbox-mode rollout of a domain: how the policy used the sandbox. */
export interface ExampleRollout {
  taskId: string;
  question: string;
  reward: number;
  stopReason: string;
  answer: string | null;
  turns: ExampleTurn[];
}

export interface ReportMeta {
  runId: string;
  modes: readonly Mode[];
  createdAt?: string;
  policy?: { model: string; urls: string[] };
  sandfarm?: { version: string; git: string };
  /** The sandbox image the run used (backend, image, id, recipe label), for sandbox mode. */
  sandbox?: Record<string, string>;
  taskFiles?: { file: string; sha256: string; tasks: number }[];
  /** Scorer routing as the run used it. */
  scoring?: { judge: string | null; routes: Record<string, string> };
  /** Free-form notes printed at the top of the report (e.g. "the policy is the stub"). */
  notes?: string[];
  /** Task rows passed over with `onBadRow: skip`, each as `FILE:LINE: field: problem`. */
  skippedRows?: string[];
  /** What the calls were sent and the limits they ran under. */
  generation?: GenerationFacts;
  /** The sandbox engines at the end of the run (sandbox mode), with rollouts run again. */
  engines?: EnginesFacts;
}

/** The fleet an eval ran on: each engine's health and ejections, and rollouts run again. */
export interface EnginesFacts {
  engines: { name: string; healthy: boolean; ejections: number; capacity: number }[];
  /** Rollouts whose engine was ejected under them, run again elsewhere. */
  rerun: number;
}

/** The sampling each mode's calls carried (only the keys set), the template switches, the fit. */
export interface GenerationFacts {
  sampling: Partial<Record<Mode, Record<string, unknown>>>;
  chatTemplateKwargs?: Record<string, unknown>;
  endpoint?: {
    contextTokens: number;
    contextSource: string;
    maxTotalTokens: number;
    maxTokensPerCall: number;
  };
}

export interface EvalReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: "sandfarm-eval-report";
  runId: string;
  createdAt: string;
  modes: Mode[];
  policy: { model: string; urls: string[] } | null;
  sandfarm: { version: string; git: string } | null;
  sandbox: Record<string, string> | null;
  taskFiles: { file: string; sha256: string; tasks: number }[];
  scoring: { judge: string | null; routes: Record<string, string> } | null;
  notes: string[];
  /** Task rows passed over with `onBadRow: skip` (absent in older reports). */
  skippedRows?: string[];
  /** What the calls were sent and the limits they ran under (absent in older reports). */
  generation?: GenerationFacts;
  /** The sandbox engines (sandbox mode; absent in older reports). */
  engines?: EnginesFacts;
  /** Rollouts by mode: scored + failed. */
  rollouts: Partial<Record<Mode, number>>;
  domains: Record<string, Partial<Record<Mode, ModeSummary>> & { gain: number | null }>;
  overall: Partial<Record<Mode, OverallModeSummary>> & { gain: number | null };
  capability_usage: Record<string, CapabilityUsage>;
  /** Over all rollouts, and per domain. */
  tokens: ModeTokens & { byDomain: Record<string, ModeTokens> };
  stop_reasons: Partial<Record<Mode, Record<string, number>>>;
  /** What the rollouts asked of the policy server, by mode (absent in older reports). */
  requests?: Partial<Record<Mode, RequestSummary>>;
  /**
   * Per domain, one sandbox-mode rollout to read: the best-rewarded one (the first such in the
   * run), with each turn's tool input and the start of its output, shortened.
   */
  examples: Record<string, ExampleRollout>;
}

/** A reward counts as a success for pass@k when it is 1 (up to float noise). */
const SUCCESS = 1 - 1e-9;

/** C(n, k) / C(m, k) ratios as products, stable for the sizes repeats have. */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@${k} needs at least ${k} samples, got ${n}`);
  if (n - c < k) return 1;
  let missAll = 1;
  for (let i = n - c + 1; i <= n; i++) missAll *= 1 - k / i;
  return 1 - missAll;
}

function tokenSummary(records: readonly EvalRecord[]): TokenSummary {
  let prompt = 0;
  let completion = 0;
  for (const record of records) {
    for (const call of record.episode.calls) {
      prompt += call.usage.promptTokens;
      completion += call.usage.completionTokens;
    }
  }
  const rollouts = records.length;
  const per = (value: number) => (rollouts === 0 ? 0 : value / rollouts);
  return {
    prompt,
    completion,
    total: prompt + completion,
    rollouts,
    perRollout: {
      prompt: per(prompt),
      completion: per(completion),
      total: per(prompt + completion),
    },
  };
}

/** Turns of a rollout: tool turns in sandbox mode, model calls in plain mode. */
function turnsOf(record: EvalRecord): number {
  return record.mode === "sandbox" ? record.episode.turns.length : record.episode.calls.length;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function modeSummary(records: readonly EvalRecord[]): ModeSummary {
  const scored = records.filter((record) => record.trainable);
  const byTask = new Map<string, number[]>();
  for (const record of scored) {
    const rewards = byTask.get(record.task.id) ?? [];
    rewards.push(record.reward);
    byTask.set(record.task.id, rewards);
  }
  // k = 1, 2, 4, ... up to the most repeats a task has; each k is averaged over the tasks
  // with at least k scored repeats (an infrastructure failure leaves a task fewer).
  const most = Math.max(0, ...[...byTask.values()].map((rewards) => rewards.length));
  const passes: Record<string, number> = {};
  const passTasks: Record<string, number> = {};
  const ks: number[] = [];
  for (let k = 1; k <= most; k *= 2) ks.push(k);
  if (most > 0 && ks.at(-1) !== most) ks.push(most);
  for (const k of ks) {
    const eligible = [...byTask.values()].filter((rewards) => rewards.length >= k);
    let sum = 0;
    for (const rewards of eligible) {
      const successes = rewards.filter((reward) => reward >= SUCCESS).length;
      sum += passAtK(rewards.length, successes, k);
    }
    passes[String(k)] = sum / eligible.length;
    passTasks[String(k)] = eligible.length;
  }
  const turns = records.map(turnsOf);
  return {
    score:
      scored.length === 0
        ? 0
        : scored.reduce((sum, record) => sum + record.reward, 0) / scored.length,
    n: scored.length,
    tasks: byTask.size,
    failed: records.length - scored.length,
    passAtK: passes,
    passAtKTasks: passTasks,
    turns: {
      mean: turns.length === 0 ? 0 : turns.reduce((sum, value) => sum + value, 0) / turns.length,
      max: turns.length === 0 ? 0 : Math.max(...turns),
    },
    tokens: tokenSummary(records),
    stopReasons: countBy(records, (record) => record.episode.stopReason),
  };
}

function capabilityUsage(records: readonly EvalRecord[]): CapabilityUsage {
  const turns = records
    .filter((record) => record.mode === "sandbox")
    .flatMap((record) => record.episode.turns.map((turn) => turn.capabilities));
  return { turns: turns.length, ...capabilityRates(turns) };
}

const EXAMPLE_INPUT_CHARS = 600;
const EXAMPLE_OUTPUT_CHARS = 400;
const EXAMPLE_TURNS = 12;

const shorten = (text: string, limit: number): string =>
  text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;

function exampleOf(records: readonly EvalRecord[]): ExampleRollout | undefined {
  const candidates = records.filter((record) => record.mode === "sandbox" && record.trainable);
  const best = candidates.reduce<EvalRecord | undefined>(
    (chosen, record) => (chosen === undefined || record.reward > chosen.reward ? record : chosen),
    undefined,
  );
  if (!best) return undefined;
  const turns = best.episode.turns.slice(0, EXAMPLE_TURNS).map((turn): ExampleTurn => {
    let input = turn.toolCall?.arguments ?? "";
    try {
      const parsed = JSON.parse(input) as Record<string, unknown>;
      if (typeof parsed.command === "string" && turn.toolCall?.name === "execute_bash")
        input = parsed.command;
    } catch {
      // Not JSON: shown as the model wrote it.
    }
    return {
      tool: turn.toolCall?.name ?? null,
      input: shorten(input, EXAMPLE_INPUT_CHARS),
      capabilities: turn.capabilities,
      observation: shorten(turn.observation, EXAMPLE_OUTPUT_CHARS),
      isError: turn.isError,
    };
  });
  return {
    taskId: best.task.id,
    question: shorten(best.task.question, EXAMPLE_INPUT_CHARS),
    reward: best.reward,
    stopReason: best.episode.stopReason,
    answer:
      best.episode.answer === null ? null : shorten(best.episode.answer, EXAMPLE_OUTPUT_CHARS),
    turns,
  };
}

const gainOf = (entry: Partial<Record<Mode, ModeSummary>>): number | null =>
  entry.sandbox && entry.llm && entry.sandbox.n > 0 && entry.llm.n > 0
    ? entry.sandbox.score - entry.llm.score
    : null;

function tokenRatio(tokens: Partial<Record<Mode, TokenSummary>>): TokenRatio | null {
  const { sandbox, llm } = tokens;
  if (!sandbox || !llm) return null;
  const ratio = (kind: keyof TokenSummary["perRollout"]) =>
    llm.perRollout[kind] === 0 ? null : sandbox.perRollout[kind] / llm.perRollout[kind];
  return { prompt: ratio("prompt"), completion: ratio("completion"), total: ratio("total") };
}

export function computeReport(records: readonly EvalRecord[], meta: ReportMeta): EvalReport {
  const modes = [...meta.modes];
  const domainNames = [...new Set(records.map((record) => record.task.domain))].sort();
  const domains: EvalReport["domains"] = {};
  const capability_usage: EvalReport["capability_usage"] = {};
  const byDomain: EvalReport["tokens"]["byDomain"] = {};
  const examples: EvalReport["examples"] = {};
  for (const domain of domainNames) {
    const mine = records.filter((record) => record.task.domain === domain);
    const entry: EvalReport["domains"][string] = { gain: null };
    const tokens: ModeTokens = { ratio: null };
    for (const mode of modes) {
      const ofMode = mine.filter((record) => record.mode === mode);
      if (ofMode.length === 0) continue;
      entry[mode] = modeSummary(ofMode);
      tokens[mode] = entry[mode].tokens;
    }
    entry.gain = gainOf(entry);
    tokens.ratio = tokenRatio(tokens);
    domains[domain] = entry;
    byDomain[domain] = tokens;
    if (mine.some((record) => record.mode === "sandbox"))
      capability_usage[domain] = capabilityUsage(mine);
    const example = exampleOf(mine);
    if (example) examples[domain] = example;
  }
  if (domainNames.length > 1 && records.some((record) => record.mode === "sandbox"))
    capability_usage.overall = capabilityUsage(records);

  const overall: EvalReport["overall"] = { gain: null };
  const tokens: EvalReport["tokens"] = { ratio: null, byDomain };
  const stop_reasons: EvalReport["stop_reasons"] = {};
  const requests: NonNullable<EvalReport["requests"]> = {};
  const rollouts: EvalReport["rollouts"] = {};
  for (const mode of modes) {
    const ofMode = records.filter((record) => record.mode === mode);
    rollouts[mode] = ofMode.length;
    if (ofMode.length === 0) continue;
    const scoredDomains = domainNames
      .map((domain) => domains[domain]![mode])
      .filter((summary): summary is ModeSummary => summary !== undefined && summary.n > 0);
    overall[mode] = {
      ...modeSummary(ofMode),
      macroScore:
        scoredDomains.length === 0
          ? 0
          : scoredDomains.reduce((sum, summary) => sum + summary.score, 0) / scoredDomains.length,
    };
    tokens[mode] = overall[mode].tokens;
    stop_reasons[mode] = overall[mode].stopReasons;
    requests[mode] = requestSummary(ofMode.map((record) => record.episode));
  }
  overall.gain = gainOf(overall);
  tokens.ratio = tokenRatio(tokens);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: "sandfarm-eval-report",
    runId: meta.runId,
    createdAt: meta.createdAt ?? new Date().toISOString(),
    modes,
    policy: meta.policy ?? null,
    sandfarm: meta.sandfarm ?? null,
    sandbox: meta.sandbox ?? null,
    ...(meta.engines ? { engines: meta.engines } : {}),
    taskFiles: meta.taskFiles ?? [],
    scoring: meta.scoring ?? null,
    notes: meta.notes ?? [],
    skippedRows: meta.skippedRows ?? [],
    ...(meta.generation ? { generation: meta.generation } : {}),
    rollouts,
    domains,
    overall,
    capability_usage,
    tokens,
    stop_reasons,
    requests,
    examples,
  };
}
