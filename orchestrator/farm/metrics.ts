/**
 * What a training step did, reduced from its groups: rewards per domain, accuracy, turns,
 * tokens, stop reasons, capability usage, group verdicts, staleness, merge mismatches and
 * throughput. One `StepMetrics` per step goes to `metrics.jsonl`; the same numbers feed the
 * Prometheus registry (`FarmGauges`), served at /metrics when the config asks for a port.
 *
 * @example
 * const step = new StepTally(3);
 * step.addGroup(group);
 * writeLine(step.finish({ version: 1, throughput: { seconds: 12, rollouts: 64, turns: 640, tokens: 9e5 } }));
 */
import { type RequestSummary, combineRequests } from "../agent/request-summary.js";
import { type Server, createServer } from "node:http";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { CAPABILITIES, type Capability } from "../agent/capabilities.js";

/** One finished rollout, as the metrics need it. */
export interface RolloutSummary {
  domain: string;
  reward: number;
  stopReason: string;
  /** Model calls. */
  calls: number;
  /** Executed tool calls (sandbox turns). */
  turns: number;
  promptTokens: number;
  completionTokens: number;
  /** Turns tagged with each capability. */
  capabilities: Partial<Record<Capability, number>>;
  mergeMismatches: number;
  /** Requests to the policy server. */
  requests: RequestSummary;
}

/** One decided group. */
export interface GroupSummary {
  verdict:
    "batched" | "dropped_tie" | "dropped_stale" | "dropped_no_tokens" | "masked_infrastructure";
  rollouts: RolloutSummary[];
  /** Committed version when it was judged minus its oldest token's version (batched groups). */
  staleness?: number;
  /** Tokens in its training rows (batched groups). */
  trainedRows?: number;
}

export interface DomainMetrics {
  n: number;
  reward_mean: number;
  reward_std: number;
  /** Share of rollouts with reward 1. */
  accuracy: number;
}

export interface StepMetrics {
  step: number;
  version: number;
  at: string;
  /** Since the previous step finished. */
  seconds: number;
  groups: Record<GroupSummary["verdict"], number>;
  rollouts: number;
  reward_mean: number;
  reward_std: number;
  accuracy: number;
  domains: Record<string, DomainMetrics>;
  turns_mean: number;
  calls_mean: number;
  prompt_tokens: number;
  completion_tokens: number;
  stop_reasons: Record<string, number>;
  /** Share of sandbox turns using each capability. */
  capability_usage: Record<Capability, number>;
  staleness_mean: number;
  staleness_max: number;
  merge_mismatches: number;
  /** Requests to the policy server over the step's rollouts (chat_per_call: 1.00 is the target). */
  requests: RequestSummary;
  rollouts_per_s: number;
  turns_per_s: number;
  tokens_per_s: number;
  /** The sandbox engines when the step finished (sandbox mode with a fleet). */
  engines?: EngineAtStep[];
}

/** One sandbox engine as a finished step saw it. */
export interface EngineAtStep {
  name: string;
  healthy: boolean;
  in_use: number;
  warm: number;
  capacity: number;
  /** Times it was ejected so far in this session. */
  ejections: number;
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
const std = (values: readonly number[]) => {
  if (values.length === 0) return 0;
  const average = mean(values);
  return Math.sqrt(mean(values.map((value) => (value - average) ** 2)));
};
const round = (value: number) => Math.round(value * 1e6) / 1e6;

function roundedRates(summary: RequestSummary): RequestSummary {
  return {
    ...summary,
    chatPerCall: round(summary.chatPerCall),
    tokenizePerCall: round(summary.tokenizePerCall),
  };
}

/** Collects one step's groups and reduces them. */
export class StepTally {
  private readonly groups: GroupSummary[] = [];

  constructor(readonly step: number) {}

  addGroup(group: GroupSummary): void {
    this.groups.push(group);
  }

  get groupCount(): number {
    return this.groups.length;
  }

  /**
   * The step's metrics. Steps overlap (the next one's groups run while this one finishes), so
   * throughput is the farm's rate since the previous step finished, given in `throughput`.
   */
  finish(context: {
    version: number;
    at?: number;
    throughput: { seconds: number; rollouts: number; turns: number; tokens: number };
  }): StepMetrics {
    const at = context.at ?? Date.now();
    const rollouts = this.groups.flatMap((group) => group.rollouts);
    const rewards = rollouts.map((rollout) => rollout.reward);
    const byDomain = new Map<string, number[]>();
    for (const rollout of rollouts) {
      const list = byDomain.get(rollout.domain) ?? [];
      list.push(rollout.reward);
      byDomain.set(rollout.domain, list);
    }
    const verdicts: StepMetrics["groups"] = {
      batched: 0,
      dropped_tie: 0,
      dropped_stale: 0,
      dropped_no_tokens: 0,
      masked_infrastructure: 0,
    };
    for (const group of this.groups) verdicts[group.verdict]++;
    const stopReasons: Record<string, number> = {};
    for (const rollout of rollouts)
      stopReasons[rollout.stopReason] = (stopReasons[rollout.stopReason] ?? 0) + 1;
    const turns = rollouts.reduce((sum, rollout) => sum + rollout.turns, 0);
    const usage = Object.fromEntries(
      CAPABILITIES.map((capability) => [
        capability,
        turns === 0
          ? 0
          : round(rollouts.reduce((sum, r) => sum + (r.capabilities[capability] ?? 0), 0) / turns),
      ]),
    ) as Record<Capability, number>;
    const staleness = this.groups
      .filter((group) => group.staleness !== undefined)
      .map((group) => group.staleness!);
    const promptTokens = rollouts.reduce((sum, rollout) => sum + rollout.promptTokens, 0);
    const completionTokens = rollouts.reduce((sum, rollout) => sum + rollout.completionTokens, 0);
    const seconds = Math.max(1e-3, context.throughput.seconds);
    return {
      step: this.step,
      version: context.version,
      at: new Date(at).toISOString(),
      seconds: round(seconds),
      groups: verdicts,
      rollouts: rollouts.length,
      reward_mean: round(mean(rewards)),
      reward_std: round(std(rewards)),
      accuracy: round(mean(rewards.map((reward) => (reward >= 1 ? 1 : 0)))),
      domains: Object.fromEntries(
        [...byDomain].map(([domain, values]) => [
          domain,
          {
            n: values.length,
            reward_mean: round(mean(values)),
            reward_std: round(std(values)),
            accuracy: round(mean(values.map((reward) => (reward >= 1 ? 1 : 0)))),
          },
        ]),
      ),
      turns_mean: round(mean(rollouts.map((rollout) => rollout.turns))),
      calls_mean: round(mean(rollouts.map((rollout) => rollout.calls))),
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      stop_reasons: stopReasons,
      capability_usage: usage,
      staleness_mean: round(mean(staleness)),
      staleness_max: staleness.length === 0 ? 0 : Math.max(...staleness),
      merge_mismatches: rollouts.reduce((sum, rollout) => sum + rollout.mergeMismatches, 0),
      requests: roundedRates(combineRequests(rollouts.map((rollout) => rollout.requests))),
      rollouts_per_s: round(context.throughput.rollouts / seconds),
      turns_per_s: round(context.throughput.turns / seconds),
      tokens_per_s: round(context.throughput.tokens / seconds),
    };
  }
}

/** The farm's Prometheus metrics (prefix `sandfarm_`). */
export class FarmGauges {
  readonly registry = new Registry();
  readonly rollouts = new Counter({
    name: "sandfarm_rollouts_total",
    help: "Rollouts finished, by stop reason.",
    labelNames: ["stop_reason"],
    registers: [this.registry],
  });
  readonly groups = new Counter({
    name: "sandfarm_groups_total",
    help: "Groups decided, by verdict (batched, dropped_tie, dropped_stale, ...).",
    labelNames: ["verdict"],
    registers: [this.registry],
  });
  readonly turns = new Counter({
    name: "sandfarm_turns_total",
    help: "Sandbox turns executed.",
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: "sandfarm_tokens_total",
    help: "Tokens processed by the policy, by kind (prompt, completion).",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly stepsWithoutBatch = new Counter({
    name: "sandfarm_steps_without_batch_total",
    help: "Steps that produced no batch: every group tied, went stale or was masked.",
    registers: [this.registry],
  });
  readonly step = new Gauge({
    name: "sandfarm_step",
    help: "Training steps finished.",
    registers: [this.registry],
  });
  readonly version = new Gauge({
    name: "sandfarm_policy_version",
    help: "Committed policy version.",
    registers: [this.registry],
  });
  readonly running = new Gauge({
    name: "sandfarm_episodes_running",
    help: "Episodes running now.",
    registers: [this.registry],
  });
  readonly infraRetries = new Counter({
    name: "sandfarm_infra_retries_total",
    help: "Groups run again after an infrastructure failure, by cause: engine_lost (their engine was ejected under them; not counted against rollout.maxInfraFailures) or other.",
    labelNames: ["cause"],
    registers: [this.registry],
  });
  readonly admissionLimit = new Gauge({
    name: "sandfarm_admission_limit",
    help: "Rollouts the farm runs at once at most: rollout.episodes, or the sandbox fleet's healthy capacity when that is lower.",
    registers: [this.registry],
  });
  readonly admissionCapped = new Gauge({
    name: "sandfarm_admission_capped_by_fleet",
    help: "1 while the sandbox fleet's healthy capacity, not rollout.episodes, limits admission.",
    registers: [this.registry],
  });
  readonly rewardMean = new Gauge({
    name: "sandfarm_step_reward_mean",
    help: "Mean reward of the last finished step, by domain ('all' for every domain).",
    labelNames: ["domain"],
    registers: [this.registry],
  });
  readonly queuedTokens = new Gauge({
    name: "sandfarm_sink_queued_tokens",
    help: "Tokens committed and not yet acknowledged by a trainer.",
    registers: [this.registry],
  });
  readonly validation = new Gauge({
    name: "sandfarm_validation_score",
    help: "Mean validation score of the last evaluation, by mode and domain.",
    labelNames: ["mode", "domain"],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "sandfarm_process_" });
  }

  recordStep(metrics: StepMetrics): void {
    this.step.set(metrics.step + 1);
    this.version.set(metrics.version);
    this.rewardMean.set({ domain: "all" }, metrics.reward_mean);
    for (const [domain, values] of Object.entries(metrics.domains))
      this.rewardMean.set({ domain }, values.reward_mean);
  }

  /** Serves /metrics on 127.0.0.1 unless a host is given; resolves with the bound port. */
  async serve(port: number, host = "127.0.0.1"): Promise<{ port: number; server: Server }> {
    const server = createServer((request, response) => {
      if (request.url !== "/metrics") {
        response.writeHead(404).end("only /metrics here\n");
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
    const address = server.address();
    return { port: typeof address === "object" && address ? address.port : port, server };
  }
}
