/**
 * Runs the stub policy server (a test double speaking vLLM's wire format, never a model) as its
 * own process, so a benchmark or a demo measures sandfarm and not the stub. Prints one JSON line
 * `{"baseURL": ...}` on stdout once it listens; stops on SIGTERM.
 *
 * @example
 * npx tsx testing/vllm-stub/main.ts --scripts bench --max-model-len 65536
 * npx tsx testing/vllm-stub/main.ts --scripts rl --default-script rl-1
 */
import { parseArgs } from "node:util";
import { SCRIPT_SETS } from "./script-sets.js";
import { startVllmStub } from "./server.js";

const { values } = parseArgs({
  options: {
    scripts: { type: "string", default: "bench" },
    "max-model-len": { type: "string", default: "65536" },
    "default-script": { type: "string" },
  },
});
const scripts = SCRIPT_SETS[values.scripts];
if (!scripts) {
  process.stderr.write(
    `unknown script set '${values.scripts}'; use ${Object.keys(SCRIPT_SETS).join(", ")}\n`,
  );
  process.exit(2);
}
const stub = await startVllmStub({
  scripts,
  maxModelLen: Number(values["max-model-len"]),
  ...(values["default-script"] ? { defaultScript: values["default-script"] } : {}),
});
process.stdout.write(`${JSON.stringify({ baseURL: stub.baseURL })}\n`);
process.once("SIGTERM", () => {
  void stub.close().then(() => process.exit(0));
});
