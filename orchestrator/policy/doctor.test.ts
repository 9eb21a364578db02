import { describe, expect, it } from "vitest";
import { sandfarm } from "../../testing/cli.js";
import { matching } from "../../testing/matchers.js";
import { useStubs } from "../../testing/vllm-stub/fixtures.js";
import type { DoctorCheck } from "../util/doctor-check.js";
import { checkPolicyEndpoint } from "./doctor.js";

const stub = useStubs();
const SCRIPTS = { ok: [{ content: "ok" }] };
const byName = (checks: DoctorCheck[]) =>
  Object.fromEntries(checks.map((check) => [check.name, check]));

describe("the policy endpoint preflight", () => {
  it("passes a vLLM-compatible endpoint with tools and token ids", async () => {
    const server = await stub({ scripts: SCRIPTS, defaultScript: "ok", maxModelLen: 65_536 });
    const checks = await checkPolicyEndpoint({ url: server.baseURL, model: "stub-model" });
    expect(checks.map((check) => [check.name, check.ok])).toEqual([
      ["reachable", true],
      ["model", true],
      ["context length", true],
      ["token ids", true],
      ["tool calling", true],
    ]);
    expect(byName(checks)["context length"]!.detail).toBe("65536 tokens");
    // A LoRA adapter's card has no context of its own: its base model's is the one.
    const loaded = await fetch(`${server.baseURL}/load_lora_adapter`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ lora_name: "adapter-1", lora_path: "/ckpt/1" }),
    });
    expect(loaded.status).toBe(200);
    const adapter = byName(await checkPolicyEndpoint({ url: server.baseURL, model: "adapter-1" }));
    expect(adapter["context length"]).toMatchObject({ ok: true, detail: "65536 tokens" });
  });

  it("names each failure with its fix", async () => {
    const server = await stub({
      scripts: SCRIPTS,
      defaultScript: "ok",
      maxModelLen: 2048,
      autoToolChoice: false,
      returnTokenIds: false,
    });
    const checks = byName(await checkPolicyEndpoint({ url: server.baseURL, model: "stub-model" }));
    expect(checks["context length"]).toMatchObject({
      ok: false,
      detail: "2048 tokens, under the 4096 a multi-turn episode needs to work",
    });
    expect(checks["token ids"]).toMatchObject({
      ok: false,
      fix: matching(/return_token_ids/),
    });
    expect(checks["tool calling"]!.ok).toBe(false);
    expect(checks["tool calling"]!.fix).toMatch(
      /--enable-auto-tool-choice --tool-call-parser hermes/,
    );
    const wrongModel = byName(await checkPolicyEndpoint({ url: server.baseURL, model: "other" }));
    expect(wrongModel.model).toMatchObject({
      ok: false,
      detail: "other is not served here; served: stub-model",
    });
    const keyed = await stub({ scripts: SCRIPTS, apiKey: "k-1" });
    expect(
      byName(
        await checkPolicyEndpoint({ url: keyed.baseURL, model: "stub-model", apiKey: "wrong" }),
      ).reachable!.fix,
    ).toMatch(/SANDFARM_POLICY_API_KEY/);
    const nobody = byName(
      await checkPolicyEndpoint({ url: "http://127.0.0.1:9/v1", model: "m", timeoutMs: 2000 }),
    );
    expect(nobody.reachable).toMatchObject({
      ok: false,
      fix: matching(/start vLLM/),
    });
  });

  it("runs as `sandfarm doctor`, exit 1 on a failure", async () => {
    const server = await stub({ scripts: SCRIPTS, defaultScript: "ok", autoToolChoice: false });
    const run = await sandfarm("doctor", "--policy-url", server.baseURL, "--model", "stub-model");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ok {3}reachable/m);
    expect(run.stdout).toMatch(/^FAIL tool calling/m);
    expect(run.stdout).toMatch(/fix: start vLLM with --enable-auto-tool-choice/);
  });

  it("sends the chat template's switches with its probe calls, as runs send them", async () => {
    const server = await stub({ scripts: SCRIPTS, defaultScript: "ok" });
    const run = await sandfarm(
      "doctor",
      "--policy-url",
      server.baseURL,
      "--model",
      "stub-model",
      "--chat-template-kwargs",
      '{"enable_thinking": false}',
    );
    expect(run.code).toBe(0);
    const probes = server.requests.filter((request) => request.path === "/v1/chat/completions");
    expect(probes).toHaveLength(2);
    for (const probe of probes)
      expect(probe.body).toMatchObject({ chat_template_kwargs: { enable_thinking: false } });
    const bad = await sandfarm(
      "doctor",
      "--policy-url",
      server.baseURL,
      "--chat-template-kwargs",
      "[1]",
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--chat-template-kwargs <json>' argument '\[1\]' is invalid\. must be a JSON object/,
    );
  });
});
