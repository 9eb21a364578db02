/**
 * The wire-conformance suite against the tiny real policy's Python server, without and with
 * `--api-key`: the same cases as the TypeScript stub, so the two cannot drift apart. It has no
 * LoRA routes (its updates reload whole weights through /collective_rpc).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PYTHON, PYTHON_PACKAGE_DIR, startTinyServer } from "../tiny-server.js";
import { type WireServer, describeWireConformance } from "./suite.js";

async function tiny(options: { apiKey?: string }): Promise<WireServer> {
  const dir = mkdtempSync(join(tmpdir(), "sandfarm-tiny-wire-"));
  const weightsPath = join(dir, "ckpt");
  execFileSync(PYTHON, ["-m", "examples.tiny.init", "--seed", "1", "--out", weightsPath], {
    cwd: PYTHON_PACKAGE_DIR,
  });
  // A small context keeps the overflow case's longest generation short.
  const running = await startTinyServer({ maxModelLen: 1024, ...options });
  return {
    baseURL: running.baseURL,
    origin: running.origin,
    model: running.model,
    maxModelLen: running.maxModelLen,
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    weightsPath,
    lora: false,
    close: async () => {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeWireConformance("tiny PyTorch policy", () => tiny({}));
describeWireConformance("tiny PyTorch policy with --api-key", () =>
  tiny({ apiKey: "wire-secret" }),
);
