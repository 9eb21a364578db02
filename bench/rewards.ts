/**
 * `npm run bench -- rewards [--quick]`: scoring throughput through the worker pool (2 workers,
 * 64 answers in flight), cycling the math case table, and ROUGE-L on 1 KB answers; the same
 * scorers called in-process on one thread are the baseline in the same run.
 */
import { MATH_CASES } from "../rewards/fixtures/math-cases.js";
import { scoreMath } from "../rewards/math.js";
import { ScorerPool } from "../rewards/pool.js";
import { scoreRougeL } from "../rewards/text.js";
import type { ScoreInput } from "../rewards/types.js";
import { percentile, writeResults } from "./report.js";

const IN_FLIGHT = 64;

/** Seeded 1 KB texts from a small vocabulary, so the truth and answer share words. */
function kilobyteTexts(count: number): string[] {
  const words =
    "the model reads documents computes answers with python writes files checks results again".split(
      " ",
    );
  let seed = 7;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  return Array.from({ length: count }, () => {
    let text = "";
    while (text.length < 1024) text += `${words[next() % words.length]} `;
    return text.slice(0, 1024);
  });
}

async function throughPool(
  pool: ScorerPool,
  scorer: string,
  inputs: readonly ScoreInput[],
): Promise<{ perS: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < inputs.length) {
        const input = inputs[next++]!;
        const sent = performance.now();
        await pool.score(scorer, input);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return { perS: inputs.length / ((performance.now() - started) / 1000), latencies };
}

function inProcess(score: (input: ScoreInput) => unknown, inputs: readonly ScoreInput[]): number {
  const started = performance.now();
  for (const input of inputs) score(input);
  return inputs.length / ((performance.now() - started) / 1000);
}

export async function runRewardsBenchmark(quick: boolean): Promise<void> {
  const mathCount = quick ? 5_000 : 40_000;
  const rougeCount = quick ? 5_000 : 40_000;
  const mathInputs = Array.from({ length: mathCount }, (_, index) => {
    const [answer, truth] = MATH_CASES[index % MATH_CASES.length]!;
    return { answer, truth };
  });
  const texts = kilobyteTexts(512);
  const rougeInputs = Array.from({ length: rougeCount }, (_, index) => ({
    answer: texts[index % texts.length]!,
    truth: texts[(index * 7 + 3) % texts.length]!,
  }));
  const pool = new ScorerPool({ workers: 2, timeoutMs: 5000 });
  try {
    await throughPool(pool, "math", mathInputs.slice(0, 500));
    const math = await throughPool(pool, "math", mathInputs);
    const rouge = await throughPool(pool, "rouge_l", rougeInputs);
    const results = {
      math_per_s: Math.round(math.perS),
      math_p99_ms: percentile(math.latencies, 99),
      rougel_per_s: Math.round(rouge.perS),
      math_in_process_per_s: Math.round(inProcess(scoreMath, mathInputs)),
      rougel_in_process_per_s: Math.round(inProcess(scoreRougeL, rougeInputs)),
      math_cases: MATH_CASES.length,
      answers_per_scorer: mathCount,
    };
    writeResults(
      "rewards",
      [
        ["math answers/s through the pool (2 workers)", `${results.math_per_s}`],
        ["math latency p99 (ms), 64 in flight", `${results.math_p99_ms}`],
        ["math answers/s in-process, one thread", `${results.math_in_process_per_s}`],
        ["ROUGE-L scores/s on 1 KB answers, pool", `${results.rougel_per_s}`],
        ["ROUGE-L scores/s in-process, one thread", `${results.rougel_in_process_per_s}`],
      ],
      results,
    );
  } finally {
    await pool.close();
  }
}
