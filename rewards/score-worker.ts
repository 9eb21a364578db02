/** One scorer thread of the ScorerPool: scores jobs posted by the pool, one at a time. */
import { parentPort } from "node:worker_threads";
import { scorerNamed } from "./registry.js";
import type { ScoreInput } from "./types.js";

export interface ScoreJob {
  id: number;
  scorer: string;
  input: ScoreInput;
}

parentPort?.on("message", (job: ScoreJob) => {
  try {
    parentPort!.postMessage({ id: job.id, result: scorerNamed(job.scorer)(job.input) });
  } catch (error) {
    parentPort!.postMessage({
      id: job.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
});
// Loaded: the pool may start the clock on jobs sent here from now on.
parentPort?.postMessage({ ready: true });
