/**
 * `npm run bench -- endpoint [--quick]`: sandfarm against a default vLLM deployment. The stub
 * policy (a test double speaking vLLM's wire format) serves a 32,768-token context, and
 * multi-turn sandbox episodes read long outputs until the context is full. Measured:
 * chat-completion requests per model call (target 1.00), `/tokenize` requests per call (apart),
 * overflow retries (target 0), and how much of the served context episodes use before they stop.
 * The baseline in the same run is the estimate sandfarm used before (previous prompt + completion,
 * so every call after a tool result overflowed and was sent again). Then command latency under
 * container churn: p50 / p99 / max and commands over 5 s (target 0).
 */
import type { Task } from "../datasets/task.js";
import type { Episode } from "../orchestrator/agent/episode-record.js";
import { runEpisode } from "../orchestrator/agent/episode.js";
import { requestSummary } from "../orchestrator/agent/request-summary.js";
import { episodeSchema } from "../orchestrator/config/sections.js";
import { fitToEndpoint } from "../orchestrator/launch/endpoint-limits.js";
import { episodeOptionsFor } from "../orchestrator/launch/episode-options.js";
import { PolicyClient } from "../orchestrator/policy/client.js";
import { SandboxPool } from "../orchestrator/sandbox/pool.js";
import { testSandboxBackend } from "../testing/sandboxes.js";
import type { Script } from "../testing/vllm-stub/scripts.js";
import { startVllmStub } from "../testing/vllm-stub/index.js";
import { measureCommandChurn } from "./command-churn.js";
import { writeResults } from "./report.js";

const CONTEXT = 32_768;

/** Each turn prints a long line (about 1,100 stub tokens of observation); never submits. */
const FILL: Script = Array.from({ length: 200 }, (_, turn) => ({
  toolCalls: [
    {
      name: "execute_bash",
      arguments: JSON.stringify({
        command: `python3 -c "print(' '.join('w${turn}x%d' % i for i in range(700)))"`,
      }),
    },
  ],
}));

function fillTask(index: number): Task {
  return {
    id: `fill-${index}`,
    domain: "long_context",
    question: `[script:fill] Read the outputs (${index}).`,
    documents: {},
    groundTruth: "none",
    answerType: "open_ended",
    instructions: [],
    scorerOptions: {},
    metadata: {},
  };
}

interface Figures {
  episodes: number;
  calls: number;
  chatPerCall: number;
  tokenizePerCall: number;
  overflowRetries: number;
  /** The last call's prompt + completion over the served context, averaged. */
  contextUsed: number;
  stopReasons: Record<string, number>;
}

async function runEpisodes(
  measured: boolean,
  count: number,
  pool: SandboxPool,
  baseURL: string,
): Promise<Figures> {
  const policy = new PolicyClient({ urls: [baseURL], model: "stub-model" });
  const fitted = await fitToEndpoint(
    { urls: [baseURL], model: "stub-model" },
    episodeSchema.parse({}),
  );
  try {
    const options = measured
      ? episodeOptionsFor(fitted.episode, { fitted })
      : episodeOptionsFor(fitted.episode);
    const episodes: Episode[] = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        runEpisode(
          fillTask(index),
          "sandbox",
          { policy, sandboxes: pool },
          { rolloutId: `${measured ? "m" : "e"}-${index}`, groupId: "g" },
          options,
        ),
      ),
    );
    const requests = requestSummary(episodes);
    const stopReasons: Record<string, number> = {};
    for (const episode of episodes)
      stopReasons[episode.stopReason] = (stopReasons[episode.stopReason] ?? 0) + 1;
    const used = episodes.map((episode) => {
      const last = episode.calls.at(-1);
      return last ? (last.usage.promptTokens + last.usage.completionTokens) / CONTEXT : 0;
    });
    return {
      episodes: episodes.length,
      calls: requests.calls,
      chatPerCall: requests.chatPerCall,
      tokenizePerCall: requests.tokenizePerCall,
      overflowRetries: requests.overflowRetries,
      contextUsed: used.reduce((sum, value) => sum + value, 0) / used.length,
      stopReasons,
    };
  } finally {
    policy.close();
  }
}

export async function runEndpointBenchmark(quick: boolean): Promise<void> {
  const stub = await startVllmStub({
    scripts: { fill: FILL },
    defaultScript: "fill",
    maxModelLen: CONTEXT,
  });
  const pool = new SandboxPool(testSandboxBackend(), { warmSize: 4 });
  const episodes = quick ? 2 : 4;
  let before: Figures;
  let after: Figures;
  try {
    await pool.start();
    before = await runEpisodes(false, episodes, pool, stub.baseURL);
    after = await runEpisodes(true, episodes, pool, stub.baseURL);
  } finally {
    await pool.close();
    await stub.close();
  }
  const churn = await measureCommandChurn({ commands: quick ? 500 : 2000, sandboxes: 16 });
  const stops = (figures: Figures) =>
    Object.entries(figures.stopReasons)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ");
  writeResults(
    "endpoint",
    [
      [`sandbox episodes filling a ${CONTEXT}-token context`, `${after.episodes}`],
      ["model calls (measured / estimate baseline)", `${after.calls} / ${before.calls}`],
      ["requests_per_model_call, measured", after.chatPerCall.toFixed(2)],
      ["requests_per_model_call, estimate (baseline)", before.chatPerCall.toFixed(2)],
      ["tokenize_calls_per_model_call, measured", after.tokenizePerCall.toFixed(2)],
      [
        "overflow_retries, measured / baseline",
        `${after.overflowRetries} / ${before.overflowRetries}`,
      ],
      ["context_used_fraction at episode end, measured", after.contextUsed.toFixed(3)],
      ["context_used_fraction at episode end, baseline", before.contextUsed.toFixed(3)],
      ["stop reasons, measured", stops(after)],
      ["stop reasons, baseline", stops(before)],
      [`commands under container churn (16 sandboxes)`, `${churn.commands}`],
      ["command latency p50 / p99 / max ms", `${churn.p50Ms} / ${churn.p99Ms} / ${churn.maxMs}`],
      ["commands_over_5s", `${churn.commandsOver5s}`],
      ["timed out but reported exit 0", `${churn.timedOutAsExit0}`],
    ],
    {
      context_tokens: CONTEXT,
      episodes: after.episodes,
      requests_per_model_call: after.chatPerCall,
      requests_per_model_call_baseline: before.chatPerCall,
      tokenize_calls_per_model_call: after.tokenizePerCall,
      overflow_retries: after.overflowRetries,
      overflow_retries_baseline: before.overflowRetries,
      context_used_fraction: after.contextUsed,
      context_used_fraction_baseline: before.contextUsed,
      churn_commands: churn.commands,
      command_latency_p50_ms: churn.p50Ms,
      command_latency_p99_ms: churn.p99Ms,
      command_latency_max_ms: churn.maxMs,
      commands_over_5s: churn.commandsOver5s,
      timed_out_as_exit_0: churn.timedOutAsExit0,
    },
  );
}
