/**
 * The wire-conformance suite against the TypeScript vLLM stub, without and with `--api-key`.
 * Every conversation falls to the default script, so plain prompts get replies.
 */
import { startVllmStub } from "../vllm-stub/index.js";
import { type WireServer, describeWireConformance } from "./suite.js";

async function stub(options: { apiKey?: string; maxModelLen?: number }): Promise<WireServer> {
  const model = "stub-model";
  const maxModelLen = options.maxModelLen ?? 32768;
  const running = await startVllmStub({
    model,
    maxModelLen,
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    scripts: {
      hi: [{ content: "Hello there." }, { content: "Still here." }, { content: "Bye." }],
    },
    defaultScript: "hi",
  });
  return {
    baseURL: running.baseURL,
    origin: running.origin,
    model,
    maxModelLen,
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    // The stub accepts any path: it records the call instead of loading weights.
    weightsPath: "/checkpoints/step-1",
    lora: true,
    close: () => running.close(),
  };
}

describeWireConformance("TypeScript stub", () => stub({}));
describeWireConformance("TypeScript stub with --api-key", () =>
  stub({ apiKey: "wire-secret", maxModelLen: 4096 }),
);
