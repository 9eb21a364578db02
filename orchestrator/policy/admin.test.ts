import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type VllmStubOptions, startVllmStub } from "../../testing/vllm-stub/index.js";
import { BridgeClient } from "../../trainer-bridge/client.js";
import { type PolicyUpdateOptions, PolicyUpdates } from "../../trainer-bridge/policy-updates.js";
import { BridgeServer } from "../../trainer-bridge/server.js";
import { Spool } from "../../trainer-bridge/spool.js";
import { VllmPolicyControl } from "./admin.js";
import { PolicyClient } from "./client.js";
import { matching } from "../../testing/matchers.js";

const SCRIPTS = { hi: [{ content: "Hello." }] };
const hello = [{ role: "user" as const, content: "[script:hi] Greet me." }];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stub replica, the farm's policy client and update protocol, and a trainer over gRPC. */
async function setUp(stubOptions: VllmStubOptions = {}, updateOptions: PolicyUpdateOptions = {}) {
  const stub = await startVllmStub({ scripts: SCRIPTS, ...stubOptions });
  cleanups.push(() => stub.close());
  const policy = new PolicyClient({
    urls: [stub.baseURL],
    model: "stub-model",
    backoffBaseMs: 5,
    backoffMaxMs: 20,
  });
  cleanups.push(() => policy.close());
  const updates = new PolicyUpdates(new VllmPolicyControl(policy), updateOptions);
  const dir = await mkdtemp(join(tmpdir(), "sandfarm-update-"));
  const spool = await Spool.open(dir, { runId: "upd" });
  const server = new BridgeServer({ spool, policy: updates });
  const port = await server.listen("127.0.0.1:0");
  const trainer = new BridgeClient({ address: `127.0.0.1:${port}` });
  cleanups.push(async () => {
    trainer.close();
    await server.close();
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });
  const adminCalls = () =>
    stub.requests
      .filter((request) => !request.path.startsWith("/v1/chat") && request.path !== "/v1/models")
      .map((request) => request.path);
  return { stub, policy, updates, trainer, adminCalls };
}

const complete = (policy: PolicyClient, rolloutId = "r") =>
  policy.complete({ rolloutId, messages: hello, maxTokens: 64 });

describe("policy updates through the bridge against a vLLM replica (stub)", () => {
  it("pauses, loads a LoRA adapter, resumes, in that order; later tokens carry the new version", async () => {
    const { stub, policy, trainer, adminCalls } = await setUp();
    expect((await complete(policy)).version).toBe(0);
    const begun = await trainer.beginPolicyUpdate(1, "keep");
    expect(begun).toMatchObject({ state: 2, committedVersion: 0, pendingVersion: 1 });
    expect(begun.replicas).toEqual([expect.objectContaining({ url: stub.baseURL, ok: true })]);
    // A model call made during the update waits: nothing reaches the replica until commit.
    const chatsBefore = stub.chatCalls;
    const waiting = complete(policy, "during-update");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stub.chatCalls).toBe(chatsBefore);
    await trainer.loadLoraAdapter(1, { name: "policy", path: "/ckpt/step-1" });
    expect(stub.loraAdapters.get("policy")).toBe("/ckpt/step-1");
    const committed = await trainer.commitPolicyUpdate(1);
    expect(committed).toMatchObject({ state: 1, committedVersion: 1, pendingVersion: 2 });
    expect((await waiting).version).toBe(1);
    expect((await complete(policy)).version).toBe(1);
    expect(adminCalls()).toEqual(["/pause", "/v1/load_lora_adapter", "/resume"]);
    expect(stub.pauses.map((event) => [event.action, event.mode])).toEqual([
      ["pause", "keep"],
      ["resume", undefined],
    ]);
    expect((await trainer.status()).committedVersion).toBe(1);
    // Commit is idempotent for the version just committed; the next update is 2.
    expect((await trainer.commitPolicyUpdate(1)).committedVersion).toBe(1);
    await expect(trainer.beginPolicyUpdate(3)).rejects.toMatchObject({
      code: GrpcStatus.FAILED_PRECONDITION,
      message: matching(/version 3 cannot follow the committed version 1; begin 2/),
    });
  });

  it("loads a checkpoint path through collective_rpc, and a mode=keep call keeps its start version", async () => {
    const { stub, policy, trainer } = await setUp({
      faults: (_request, callIndex) => (callIndex === 0 ? { delayMs: 400 } : undefined),
    });
    const inFlight = complete(policy, "slow");
    await expect.poll(() => stub.chatCalls).toBe(1);
    await trainer.beginPolicyUpdate(1, "keep");
    await trainer.loadWeightsPath(1, "/ckpt/step-1");
    expect(stub.collectiveRpcs).toEqual([
      { method: "reload_weights", kwargs: { weights_path: "/ckpt/step-1" } },
    ]);
    await trainer.commitPolicyUpdate(1);
    // Frozen across the update by the replica, tagged with the version at its start, and
    // marked as having spanned the update.
    const frozen = await inFlight;
    expect(frozen.version).toBe(0);
    expect(frozen.spannedUpdate).toBe(true);
    expect((await complete(policy)).spannedUpdate).toBe(false);
  });

  it("retries a call aborted by pause?mode=abort after the commit, without ejecting the replica", async () => {
    const { stub, policy, trainer } = await setUp({
      faults: (_request, callIndex) => (callIndex === 0 ? { delayMs: 5_000 } : undefined),
    });
    const aborted = complete(policy, "aborted");
    await expect.poll(() => stub.chatCalls).toBe(1);
    await trainer.beginPolicyUpdate(1, "abort");
    await trainer.commitPolicyUpdate(1);
    const completion = await aborted;
    expect(completion.version).toBe(1);
    expect(completion.attempts).toBe(2);
    expect(policy.replicas[0]!.healthy).toBe(true);
  });

  it("aborts an update: replicas resume at the old version", async () => {
    const { policy, trainer, adminCalls, updates } = await setUp();
    await trainer.beginPolicyUpdate(1);
    expect(policy.isHeld).toBe(true);
    const aborted = await trainer.abortPolicyUpdate(1, "the trainer changed its mind");
    expect(aborted).toMatchObject({ state: 1, committedVersion: 0 });
    expect(policy.isHeld).toBe(false);
    expect((await complete(policy)).version).toBe(0);
    expect(adminCalls()).toEqual(["/pause", "/resume"]);
    expect(updates.events.map((event) => [event.step, event.ok])).toEqual([
      ["begin", true],
      ["abort", true],
    ]);
    await expect(trainer.commitPolicyUpdate(1)).rejects.toMatchObject({
      code: GrpcStatus.FAILED_PRECONDITION,
      message: matching(/no update is open; call BeginPolicyUpdate\(1\) first/),
    });
    await expect(trainer.loadLoraAdapter(1, { name: "a", path: "/p" })).rejects.toMatchObject({
      code: GrpcStatus.FAILED_PRECONDITION,
    });
  });

  it("times out a replica slow to pause, and restores service", async () => {
    const { policy, trainer, adminCalls } = await setUp(
      { adminFaults: (path) => (path === "/pause" ? { delayMs: 3_000 } : undefined) },
      { pauseTimeoutMs: 200 },
    );
    await expect(trainer.beginPolicyUpdate(1)).rejects.toMatchObject({
      code: GrpcStatus.DEADLINE_EXCEEDED,
      message: matching(/pause did not finish within 200 ms/),
    });
    expect(policy.isHeld).toBe(false);
    expect(adminCalls()).toContain("/resume");
    expect((await trainer.status()).updateState).toBe(1);
    expect((await complete(policy)).version).toBe(0);
  });

  it("times out a slow weight load and reports a failing replica, staying paused for a retry or abort", async () => {
    let loraFault: "slow" | "broken" = "slow";
    const { policy, trainer } = await setUp(
      {
        adminFaults: (path) =>
          path === "/v1/load_lora_adapter"
            ? loraFault === "slow"
              ? { delayMs: 3_000 }
              : { status: 500 }
            : undefined,
      },
      { loadTimeoutMs: 200 },
    );
    await trainer.beginPolicyUpdate(1);
    await expect(trainer.loadLoraAdapter(1, { name: "p", path: "/ckpt" })).rejects.toMatchObject({
      code: GrpcStatus.DEADLINE_EXCEEDED,
    });
    loraFault = "broken";
    await expect(trainer.loadLoraAdapter(1, { name: "p", path: "/ckpt" })).rejects.toMatchObject({
      code: GrpcStatus.UNAVAILABLE,
      message: matching(/load failed on 1 of 1 replicas: .*HTTP 500/),
    });
    expect((await trainer.status()).updateState).toBe(2);
    expect(policy.isHeld).toBe(true);
    await trainer.abortPolicyUpdate(1);
    expect(policy.isHeld).toBe(false);
  });

  it("aborts an update the trainer never commits once updateTimeoutMs passes", async () => {
    const { policy, trainer, updates, adminCalls } = await setUp({}, { updateTimeoutMs: 300 });
    await trainer.beginPolicyUpdate(1);
    // The event is recorded once the replicas have resumed, after the state turned serving.
    await expect.poll(() => updates.events.length, { timeout: 3_000 }).toBe(2);
    expect(updates.snapshot().state).toBe("serving");
    expect(updates.events.map((event) => event.step)).toEqual(["begin", "expired"]);
    expect(updates.events[1]!.detail).toMatch(/not committed within updateTimeoutMs \(300 ms\)/);
    expect(adminCalls()).toEqual(["/pause", "/resume"]);
    expect(policy.isHeld).toBe(false);
    expect(updates.committedVersion).toBe(0);
  });

  it("commits even when a replica is slow to resume: the version moves and calls flow", async () => {
    const { policy, trainer, updates } = await setUp(
      { adminFaults: (path) => (path === "/resume" ? { delayMs: 3_000 } : undefined) },
      { resumeTimeoutMs: 200 },
    );
    await trainer.beginPolicyUpdate(1);
    const reply = await trainer.commitPolicyUpdate(1);
    expect(reply.committedVersion).toBe(1);
    expect(updates.events.at(-1)).toMatchObject({ step: "commit", ok: false });
    expect(updates.events.at(-1)!.detail).toMatch(/resume did not finish within 200 ms/);
    expect(policy.isHeld).toBe(false);
    expect(policy.version).toBe(1);
  });

  it("does not leave the replicas paused when the farm shuts down mid-update", async () => {
    const { policy, trainer, updates, adminCalls } = await setUp();
    await trainer.beginPolicyUpdate(1);
    await updates.close();
    expect(adminCalls()).toEqual(["/pause", "/resume"]);
    expect(policy.isHeld).toBe(false);
    expect(updates.snapshot()).toMatchObject({ state: "serving", committedVersion: 0 });
  });

  it("answers UNIMPLEMENTED when the farm has no policy control", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sandfarm-nopolicy-"));
    const spool = await Spool.open(dir, { runId: "np" });
    const server = new BridgeServer({ spool });
    const port = await server.listen("127.0.0.1:0");
    const trainer = new BridgeClient({ address: `127.0.0.1:${port}` });
    cleanups.push(async () => {
      trainer.close();
      await server.close();
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    });
    await expect(trainer.beginPolicyUpdate(1)).rejects.toMatchObject({
      code: GrpcStatus.UNIMPLEMENTED,
    });
  });
});
