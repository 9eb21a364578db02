/** Test sandboxes: real Docker, network none, small limits so hostile tests stay cheap. */
import { afterAll, beforeAll } from "vitest";
import { type SandboxConfigInput, parseSandboxConfig } from "../orchestrator/sandbox/config.js";
import { DockerBackend, type DockerSandbox } from "../orchestrator/sandbox/docker-sandbox.js";

export function testBackend(overrides: SandboxConfigInput = {}): DockerBackend {
  return new DockerBackend(
    parseSandboxConfig({
      network: "none",
      memoryMb: 512,
      cpus: 1,
      pidsLimit: 256,
      ttlS: 900,
      runId: "vitest",
      commandTimeoutS: 30,
      ...overrides,
    }),
  );
}

/**
 * Registers hooks that create one sandbox before a file's tests and close it after, whatever
 * happens; returns a getter for it.
 */
export function useSandbox(overrides: SandboxConfigInput = {}): () => DockerSandbox {
  let sandbox: DockerSandbox | undefined;
  beforeAll(async () => {
    sandbox = await testBackend(overrides).create();
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  return () => {
    if (!sandbox) throw new Error("the test sandbox was not created");
    return sandbox;
  };
}

/**
 * The sandbox variants the tool and hostile suites run on: both ways commands reach a Docker
 * sandbox (the runner, one exec per command), and gVisor's runsc runtime.
 */
export const SANDBOX_VARIANTS: [string, SandboxConfigInput][] = [
  ["runner", { execMode: "runner" }],
  ["exec", { execMode: "exec" }],
  ["gvisor", { execMode: "runner", runtime: "runsc" }],
];
