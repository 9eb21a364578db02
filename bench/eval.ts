/**
 * `npm run bench -- eval [--quick]`: `sandfarm eval` on the bundled samples in both modes against
 * the stub (a test double, in its own process) replaying the recorded solutions, with real
 * sandboxes: wall time and rollouts/s at the default concurrency (8), against the baseline of the
 * same run one rollout at a time (how a simple evaluation script runs). Twice: with a policy that
 * answers at once (what the sandboxes and sandfarm cost alone), and with one that takes 400 ms
 * a call (standing for a model decoding a turn, where running episodes side by side pays).
 * Then the work on saved trajectories: the report from the records (compute + Markdown + HTML),
 * a re-score with another scorer, and an SFT export, each timed on the run just made.
 *
 * --quick: two tasks per domain (28 rollouts) instead of all 85 (170).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEvalConfig } from "../orchestrator/config/eval.js";
import { exportSft } from "../orchestrator/eval/export-sft.js";
import { readEvalRecords } from "../orchestrator/eval/records.js";
import { renderReportHtml } from "../orchestrator/eval/report-html.js";
import { renderReportMarkdown } from "../orchestrator/eval/render-md.js";
import { computeReport } from "../orchestrator/eval/report.js";
import { rescoreRun } from "../orchestrator/eval/rescore.js";
import { runEvaluation } from "../orchestrator/eval/run-eval.js";
import { writeResults } from "./report.js";
import { startStubProcess } from "./stub-process.js";

const SAMPLES = [
  "math",
  "physics",
  "chemistry",
  "biomedicine",
  "long_context",
  "instruction_following",
  "general",
].map((name) => `datasets/samples/${name}.jsonl`);

interface EvalMeasure {
  seconds: number;
  rollouts: number;
  rolloutsPerS: number;
  runDir: string;
}

async function measure(
  dir: string,
  baseURL: string,
  concurrency: number,
  limit: number | undefined,
  label: string,
): Promise<EvalMeasure> {
  const started = performance.now();
  const result = await runEvaluation({
    config: parseEvalConfig({
      tasks: SAMPLES,
      ...(limit ? { limit } : {}),
      mode: "both",
      concurrency,
      outputDir: join(dir, `${label}-c${concurrency}`),
      policy: { urls: [baseURL], model: "stub-model" },
      sandbox: { network: "none", memoryMb: 1024 },
      episode: { maxTotalTokens: 131_072 },
    }),
  });
  const seconds = (performance.now() - started) / 1000;
  const rollouts = result.records.length;
  const wrong = result.records.filter((record) => record.reward !== 1).length;
  if (wrong > 0) throw new Error(`${wrong} recorded solution(s) did not score 1`);
  process.stderr.write(
    `  ${label}, concurrency ${concurrency}: ${rollouts} rollouts in ${seconds.toFixed(1)} s\n`,
  );
  return { seconds, rollouts, rolloutsPerS: rollouts / seconds, runDir: result.runDir };
}

const timed = async (body: () => unknown): Promise<number> => {
  const started = performance.now();
  await body();
  return performance.now() - started;
};

const startStub = (delayMs: number) =>
  startStubProcess(
    [
      "--scripts",
      "recorded",
      "--default-script",
      "recorded",
      "--max-model-len",
      "1048576",
      "--delay-ms",
      String(delayMs),
    ],
    { detached: true },
  );

export async function runEvalBenchmark(quick: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sandfarm-bench-eval-"));
  const instant = await startStub(0);
  const slow = await startStub(400);
  try {
    const limit = quick ? 2 : undefined;
    process.stderr.write("eval benchmark: the bundled samples, both modes\n");
    const parallel = await measure(dir, instant.baseURL, 8, limit, "instant");
    const serial = await measure(dir, instant.baseURL, 1, limit, "instant");
    const slowParallel = await measure(dir, slow.baseURL, 8, limit, "400ms");
    const slowSerial = await measure(dir, slow.baseURL, 1, limit, "400ms");
    const records = await readEvalRecords(join(parallel.runDir, "trajectories.jsonl"));
    const reportMs = await timed(() => {
      const report = computeReport(records, { runId: "bench", modes: ["sandbox", "llm"] });
      renderReportMarkdown(report);
      renderReportHtml(report);
    });
    const rescoreMs = await timed(() =>
      rescoreRun(parallel.runDir, { scorer: "exact", outputDir: join(dir, "rescored") }),
    );
    const sftMs = await timed(() => exportSft(parallel.runDir, { output: join(dir, "sft.jsonl") }));
    const speedup = parallel.rolloutsPerS / serial.rolloutsPerS;
    const slowSpeedup = slowParallel.rolloutsPerS / slowSerial.rolloutsPerS;
    writeResults(
      "eval",
      [
        ["rollouts (both modes)", String(parallel.rollouts)],
        ["instant policy, concurrency 8: rollouts/s", parallel.rolloutsPerS.toFixed(2)],
        ["instant policy, one at a time (baseline): rollouts/s", serial.rolloutsPerS.toFixed(2)],
        ["instant policy: speedup", `${speedup.toFixed(2)}x`],
        ["400 ms/call policy, concurrency 8: rollouts/s", slowParallel.rolloutsPerS.toFixed(2)],
        [
          "400 ms/call policy, one at a time (baseline): rollouts/s",
          slowSerial.rolloutsPerS.toFixed(2),
        ],
        ["400 ms/call policy: speedup", `${slowSpeedup.toFixed(2)}x`],
        ["report from records (json+md+html) ms", reportMs.toFixed(0)],
        ["rescore (exact, scorer threads included) ms", rescoreMs.toFixed(0)],
        ["export-sft ms", sftMs.toFixed(0)],
      ],
      {
        rollouts: parallel.rollouts,
        rollouts_per_s_c8: parallel.rolloutsPerS,
        rollouts_per_s_c1: serial.rolloutsPerS,
        speedup,
        rollouts_per_s_c8_400ms: slowParallel.rolloutsPerS,
        rollouts_per_s_c1_400ms: slowSerial.rolloutsPerS,
        speedup_400ms: slowSpeedup,
        report_ms: reportMs,
        rescore_ms: rescoreMs,
        export_sft_ms: sftMs,
      },
    );
  } finally {
    instant.child.kill("SIGTERM");
    slow.child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}
