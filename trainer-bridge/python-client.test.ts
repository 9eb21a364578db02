import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { VllmPolicyControl } from "../orchestrator/policy/admin.js";
import { PolicyClient } from "../orchestrator/policy/client.js";
import { trainingGroup } from "../testing/training-rows.js";
import { startVllmStub } from "../testing/vllm-stub/index.js";
import { BridgeClient } from "./client.js";
import { PolicyUpdates } from "./policy-updates.js";
import { BridgeServer, type TrainerAck } from "./server.js";
import { matching } from "../testing/matchers.js";
import { Spool } from "./spool.js";

// Debian's grpcio and protobuf are visible only to /usr/bin/python3 (not the pyenv python3).
const PYTHON = "/usr/bin/python3";
const PACKAGE_DIR = fileURLToPath(new URL("./python/", import.meta.url));
const run = promisify(execFile);
const TOKEN = "python-token-0123456789";
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function farm(policy?: PolicyUpdates) {
  const dir = await mkdtemp(join(tmpdir(), "sandfarm-py-"));
  const spool = await Spool.open(dir, { runId: "py" });
  const acks: TrainerAck[] = [];
  const server = new BridgeServer({
    spool,
    token: TOKEN,
    onAck: (ack) => acks.push(ack),
    ...(policy ? { policy } : {}),
  });
  const port = await server.listen("127.0.0.1:0");
  cleanups.push(async () => {
    await server.close();
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { spool, server, acks, address: `127.0.0.1:${port}` };
}

/** Runs the Python client script; returns its JSON lines and exit code. */
async function python(args: string[]): Promise<{ lines: Record<string, unknown>[]; code: number }> {
  try {
    const { stdout } = await run(PYTHON, ["tests/pull_and_ack.py", ...args], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, PYTHONPATH: PACKAGE_DIR },
      timeout: 60_000,
    });
    return {
      lines: stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
      code: 0,
    };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    if (!failed.stdout) throw new Error(`python failed: ${failed.stderr ?? String(error)}`);
    return {
      lines: failed.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
      code: failed.code ?? -1,
    };
  }
}

describe("the Python trainer client (grpcio) against the farm", () => {
  it("pulls batches over real gRPC, byte for byte, and acks them with the step's metrics", async () => {
    const { spool, server, acks, address } = await farm();
    const committed = [];
    for (let group = 0; group < 3; group++)
      committed.push(await server.commit(trainingGroup(group, { tokens: 40_000 })));
    const { lines, code } = await python([address, "3", "--token", TOKEN]);
    expect(code).toBe(0);
    expect(lines.slice(0, 3)).toEqual(
      committed.map((batch) => ({
        batch_id: batch.batchId,
        sequence: batch.sequence,
        rows: 4,
        attempt: 1,
        bytes: batch.byteLength,
        sha256: batch.sha256,
      })),
    );
    expect(lines[3]).toEqual({ status: { acked: 3, run_id: "py" } });
    expect(spool.pending()).toEqual([]);
    expect(acks).toEqual(
      committed.map((batch) => ({
        batchId: batch.batchId,
        sequence: batch.sequence,
        rank: 0,
        trainerId: matching(/./),
        metrics: { loss: 0.25 + batch.sequence, grad_norm: 1.5 },
      })),
    );
  });

  it("is refused without the token, and a batch it never acked goes to the next trainer", async () => {
    const { server, address } = await farm();
    await server.commit(trainingGroup(1));
    await server.commit(trainingGroup(2));
    const refused = await python([address, "1"]);
    expect(refused.code).toBe(3);
    expect(refused.lines[0]).toMatchObject({ error: "UNAUTHENTICATED" });
    const partial = await python([address, "2", "--token", TOKEN, "--no-ack-last"]);
    expect(partial.lines.slice(0, 2).map((line) => line.batch_id)).toEqual(["py-0", "py-1"]);
    const next = new BridgeClient({ address, token: TOKEN });
    cleanups.push(() => next.close());
    const batch = await next.pull().next();
    expect(batch!.header).toMatchObject({ batchId: "py-1", attempt: 2 });
  });

  it("drives a policy update (begin, LoRA load, commit) from Python", async () => {
    const stub = await startVllmStub({});
    cleanups.push(() => stub.close());
    const policy = new PolicyClient({ urls: [stub.baseURL], model: "stub-model" });
    cleanups.push(() => policy.close());
    const updates = new PolicyUpdates(new VllmPolicyControl(policy));
    const { server, address } = await farm(updates);
    await server.commit(trainingGroup(1));
    const { lines, code } = await python([
      address,
      "1",
      "--token",
      TOKEN,
      "--update-version",
      "1",
      "--lora",
      "/ckpt/step-1",
    ]);
    expect(code).toBe(0);
    expect(lines.slice(0, 3)).toEqual([
      { update: true, committed: 0 },
      { update: true, committed: 0 },
      { update: false, committed: 1 },
    ]);
    expect(stub.loraAdapters.get("policy")).toBe("/ckpt/step-1");
    expect(policy.version).toBe(1);
  });

  it("passes its unit tests (numpy padding here; pyarrow and torch parts where installed)", async () => {
    const { stderr } = await run(
      PYTHON,
      ["-m", "unittest", "discover", "-s", "tests", "-p", "test_*.py", "-v"],
      {
        cwd: PACKAGE_DIR,
        timeout: 120_000,
      },
    );
    expect(stderr).toMatch(/test_rows_are_right_padded_to_the_longest \(.*\) \.\.\. ok/);
    expect(stderr).toMatch(/\nOK/);
  });
});
