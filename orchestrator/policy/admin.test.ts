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
import { VllmPolicyControl, resumeLeftPaused } from "./admin.js";
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
  const control = new VllmPolicyControl(policy);
  const updates = new PolicyUpdates(control, updateOptions);
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
  return { stub, policy, control, updates, trainer, adminCalls };
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

  it("samples from the adapter after a LoRA update, and unloads the one it replaced once its last call is answered", async () => {
    const { stub, policy, control, trainer } = await setUp({
      // The second chat call is slow: it is on the wire with the old adapter during update 2.
      faults: (_request, callIndex) => (callIndex === 1 ? { delayMs: 600 } : undefined),
    });
    const modelsSent = () =>
      stub.requests
        .filter((request) => request.path === "/v1/chat/completions")
        .map((request) => (request.body as { model: string }).model);
    await trainer.beginPolicyUpdate(1);
    await trainer.loadLoraAdapter(1, { name: "policy-v1", path: "/ckpt/1" });
    await trainer.commitPolicyUpdate(1);
    expect(policy.model).toBe("policy-v1");
    expect((await complete(policy)).model).toBe("policy-v1");

    const slow = complete(policy, "slow");
    await expect.poll(() => stub.chatCalls).toBe(2);
    await trainer.beginPolicyUpdate(2, "keep");
    await trainer.loadLoraAdapter(2, { name: "policy-v2", path: "/ckpt/2" });
    await trainer.commitPolicyUpdate(2);
    // The old adapter stays while a call sent with it is on the wire.
    expect([...stub.loraAdapters.keys()]).toEqual(["policy-v1", "policy-v2"]);
    expect((await slow).model).toBe("policy-v1");
    await Promise.all(control.unloads);
    expect([...stub.loraAdapters.keys()]).toEqual(["policy-v2"]);
    expect((await complete(policy)).model).toBe("policy-v2");
    expect(modelsSent()).toEqual(["policy-v1", "policy-v1", "policy-v2"]);

    // The served name again, not in place: refused before any replica is asked.
    const loadsBefore = stub.requests.filter((r) => r.path === "/v1/load_lora_adapter").length;
    await trainer.beginPolicyUpdate(3);
    await expect(
      trainer.loadLoraAdapter(3, { name: "policy-v2", path: "/ckpt/3" }),
    ).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      message: matching(/serve adapter 'policy-v2' now.*'policy-v<version>'.*load_inplace/),
    });
    expect(stub.requests.filter((r) => r.path === "/v1/load_lora_adapter").length).toBe(
      loadsBefore,
    );
    // In place: the same name, new weights, nothing unloaded.
    await trainer.loadLoraAdapter(3, { name: "policy-v2", path: "/ckpt/3", loadInplace: true });
    await trainer.commitPolicyUpdate(3);
    expect(Object.fromEntries(stub.loraAdapters)).toEqual({ "policy-v2": "/ckpt/3" });
    expect(control.unloads).toHaveLength(1);

    // An aborted update unloads the adapter it loaded; calls stay on the served one.
    await trainer.beginPolicyUpdate(4);
    await trainer.loadLoraAdapter(4, { name: "policy-v4", path: "/ckpt/4" });
    await trainer.abortPolicyUpdate(4);
    await Promise.all(control.unloads);
    expect([...stub.loraAdapters.keys()]).toEqual(["policy-v2"]);
    expect(policy.model).toBe("policy-v2");
    expect((await complete(policy)).version).toBe(3);
  });

  it("resumes replicas a crashed farm left paused, and leaves serving ones alone", async () => {
    const { stub } = await setUp();
    const other = await startVllmStub({ scripts: SCRIPTS });
    cleanups.push(() => other.close());
    await fetch(`${stub.origin}/pause?mode=keep`, { method: "POST" });
    expect(await resumeLeftPaused([stub.baseURL, other.baseURL])).toEqual([stub.baseURL]);
    expect(await (await fetch(`${stub.origin}/is_paused`)).json()).toEqual({ is_paused: false });
    expect(other.pauses).toEqual([]);
  });

  it("refuses an adapter named as the base model", async () => {
    const { trainer } = await setUp();
    await trainer.beginPolicyUpdate(1);
    await expect(
      trainer.loadLoraAdapter(1, { name: "stub-model", path: "/ckpt/1" }),
    ).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      message: matching(/the base model's name/),
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
