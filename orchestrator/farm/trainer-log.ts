/**
 * The trainer's side of a run (`RUN_DIR/trainer.jsonl`): one line per batch the first time a
 * trainer acks it, with the metrics the ack carried (loss, kl, clip fraction, grad norm, logprob
 * mismatch, ...), so the run's report shows them beside the farm's `metrics.jsonl`.
 *
 * @example
 * const log = new TrainerLog(runDir);
 * bridge = new BridgeServer({ ..., onAck: (ack) => log.append(ack) });
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainerAck } from "../../trainer-bridge/server.js";

export const TRAINER_LOG_FILE = "trainer.jsonl";

export class TrainerLog {
  readonly path: string;

  constructor(runDir: string) {
    this.path = join(runDir, TRAINER_LOG_FILE);
  }

  append(ack: TrainerAck): void {
    appendFileSync(this.path, `${JSON.stringify({ at: new Date().toISOString(), ...ack })}\n`);
  }
}
