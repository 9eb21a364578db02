/**
 * Runs the stub policy server (a test double speaking vLLM's wire format, never a model) as its
 * own process, so a benchmark or a demo measures sandfarm and not the stub. Prints one JSON line
 * `{"baseURL": ...}` on stdout once it listens; stops on SIGTERM.
 *
 * @example
 * npx tsx testing/vllm-stub/main.ts --scripts bench --max-model-len 65536
 * npx tsx testing/vllm-stub/main.ts --scripts rl --default-script rl-1
 * npx tsx testing/vllm-stub/main.ts --scripts recorded --default-script recorded --delay-ms 400
 *
 * `--delay-ms` answers every chat call only after that long, standing for the time a real model
 * takes to decode a turn.
 */
import { parseArgs } from "node:util";
import { SCRIPT_SETS } from "./script-sets.js";
import { startVllmStub } from "./server.js";

const { values } = parseArgs({
  options: {
    scripts: { type: "string", default: "bench" },
    "max-model-len": { type: "string", default: "65536" },
    "default-script": { type: "string" },
    "delay-ms": { type: "string", default: "0" },
  },
});
const scripts = SCRIPT_SETS[values.scripts];
if (!scripts) {
  process.stderr.write(
    `unknown script set '${values.scripts}'; use ${Object.keys(SCRIPT_SETS).join(", ")}\n`,
  );
  process.exit(2);
}
const delayMs = Number(values["delay-ms"]);
if (!Number.isFinite(delayMs) || delayMs < 0) {
  process.stderr.write(`--delay-ms must be a number >= 0, got '${values["delay-ms"]}'\n`);
  process.exit(2);
}
const stub = await startVllmStub({
  scripts,
  ...(delayMs > 0 ? { faults: () => ({ delayMs }) } : {}),
  maxModelLen: Number(values["max-model-len"]),
  ...(values["default-script"] ? { defaultScript: values["default-script"] } : {}),
});
process.stdout.write(`${JSON.stringify({ baseURL: stub.baseURL })}\n`);
process.once("SIGTERM", () => {
  void stub.close().then(() => process.exit(0));
});
