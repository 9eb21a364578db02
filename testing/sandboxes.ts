/** Test sandboxes: real engines, network none, small limits so hostile tests stay cheap. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import {
  type ManagedSandbox,
  type SandboxBackend,
  createBackend,
} from "../orchestrator/sandbox/backend.js";
import { type SandboxConfigInput, parseSandboxConfig } from "../orchestrator/sandbox/config.js";
import Docker from "dockerode";
import { DockerBackend, DockerSandbox } from "../orchestrator/sandbox/docker-sandbox.js";
import { LocalSandbox } from "../orchestrator/sandbox/local-sandbox.js";

const TEST_DEFAULTS: SandboxConfigInput = {
  network: "none",
  memoryMb: 512,
  cpus: 1,
  pidsLimit: 256,
  ttlS: 900,
  runId: "vitest",
  commandTimeoutS: 30,
};

/** A Docker backend, for tests about Docker itself. */
export function testBackend(overrides: SandboxConfigInput = {}): DockerBackend {
  return new DockerBackend(parseSandboxConfig({ ...TEST_DEFAULTS, ...overrides }));
}

/** The backend the config names, for suites that run on every variant. */
export function testSandboxBackend(overrides: SandboxConfigInput = {}): SandboxBackend {
  return createBackend(parseSandboxConfig({ ...TEST_DEFAULTS, ...overrides }));
}

/**
 * Registers hooks that create one sandbox before a file's tests and close it after, whatever
 * happens; returns a getter for it.
 */
export function useSandbox(overrides: SandboxConfigInput = {}): () => ManagedSandbox {
  let sandbox: ManagedSandbox | undefined;
  beforeAll(async () => {
    sandbox = await testSandboxBackend(overrides).create();
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
 * sandbox (the runner, one exec per command), gVisor's runsc runtime, and the local backend.
 */
export const SANDBOX_VARIANTS: [string, SandboxConfigInput][] = [
  ["runner", { execMode: "runner" }],
  ["exec", { execMode: "exec" }],
  ["gvisor", { execMode: "runner", runtime: "runsc" }],
  ["local", { backend: "local" }],
];

/** Kills the sandbox the way an operator or a crash would, from outside sandfarm. */
export async function killFromOutside(sandbox: ManagedSandbox): Promise<void> {
  if (sandbox instanceof DockerSandbox) {
    await new Docker().getContainer(sandbox.id).kill();
  } else if (sandbox instanceof LocalSandbox && sandbox.hostPid) {
    const pid = sandbox.hostPid;
    process.kill(pid, "SIGKILL");
    // Like `docker kill`, done when the sandbox is: the signal lands asynchronously, and under
    // load a command sent at once could still reach the dying sandbox.
    for (let waited = 0; waited < 100 && processExists(pid); waited++)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes the sandbox from outside sandfarm between commands. */
export async function removeFromOutside(sandbox: ManagedSandbox): Promise<void> {
  if (sandbox instanceof DockerSandbox)
    await new Docker().getContainer(sandbox.id).remove({ force: true });
  else await killFromOutside(sandbox);
}

/** Processes in the sandbox as its cgroup counts them, or undefined once it is gone. */
export async function pidsInUse(sandbox: ManagedSandbox): Promise<number | undefined> {
  if (sandbox instanceof DockerSandbox) {
    const stats = (await new Docker()
      .getContainer(sandbox.id)
      .stats({ stream: false })
      .catch(() => undefined)) as { pids_stats?: { current?: number } } | undefined;
    return stats?.pids_stats?.current;
  }
  try {
    return Number(readFileSync(`/sys/fs/cgroup/pids/sandfarm/${sandbox.id}/pids.current`, "utf8"));
  } catch {
    return undefined;
  }
}
