/**
 * A farm process for the trainer bridge's crash tests and the README's tour: opens a spool, commits `--batches`
 * deterministic batches (groups 0..N-1 of `trainingGroup`) unless the spool already holds
 * commits (a restart), serves it, and prints `{"port": N, "pending": [...]}` once listening.
 * Killed with SIGKILL by the tests.
 *
 * @example
 * node --import tsx testing/bridge-farm.ts --dir /tmp/spool --run-id crash --batches 4
 */
import { parseArgs } from "node:util";
import { BridgeServer } from "../trainer-bridge/server.js";
import { Spool } from "../trainer-bridge/spool.js";
import { trainingGroup } from "./training-rows.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    "run-id": { type: "string", default: "demo" },
    batches: { type: "string", default: "4" },
    port: { type: "string", default: "0" },
  },
});
if (!values.dir) throw new Error("--dir is required");
const spool = await Spool.open(values.dir, { runId: values["run-id"] });
const server = new BridgeServer({ spool });
const port = await server.listen(`127.0.0.1:${values.port}`);
if (spool.pending().length === 0 && spool.ackedCount === 0) {
  for (let group = 0; group < Number(values.batches); group++)
    await server.commit(trainingGroup(group, { tokens: 2000 }));
}
process.stdout.write(
  `${JSON.stringify({ port, pending: spool.pending().map((batch) => batch.batchId) })}\n`,
);
