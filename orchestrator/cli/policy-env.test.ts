import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandfarmWithEnv } from "../../testing/cli.js";
import { writeRlTasks } from "../../testing/farm-runs.js";
import { type RunningVllmStub, startVllmStub } from "../../testing/vllm-stub/index.js";
import { SCRIPT_SETS } from "../../testing/vllm-stub/script-sets.js";
import { policyApiKey, policyEndpoint } from "../policy/endpoint-env.js";

const KEY = "k-0123456789-secret";

/** The environment without any policy variable of the machine running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    "SANDFARM_POLICY_URL",
    "SANDFARM_POLICY_MODEL",
    "SANDFARM_POLICY_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
  ])
    delete env[name];
  return { ...env, ...extra };
}

describe("the policy's URL, model and key, read as the OpenAI SDK's users write them", () => {
  it("takes flags, then the config, then SANDFARM_POLICY_*, then OPENAI_*", () => {
    const env = {
      SANDFARM_POLICY_URL: "http://a:1/v1",
      OPENAI_BASE_URL: "http://b:2/v1/",
      SANDFARM_POLICY_MODEL: "m-env",
      OPENAI_API_KEY: "k-openai",
    };
    expect(policyEndpoint({ flagUrls: ["http://f:3/v1"], flagModel: "m-flag" }, env)).toEqual({
      urls: { value: ["http://f:3/v1"], source: "--policy-url" },
      model: { value: "m-flag", source: "--model" },
      apiKey: { value: "k-openai", source: "OPENAI_API_KEY" },
    });
    expect(
      policyEndpoint({ configUrls: ["http://c:4/v1"], configModel: "m-c" }, env),
    ).toMatchObject({
      urls: { value: ["http://c:4/v1"], source: "policy.urls" },
      model: { value: "m-c", source: "policy.model" },
    });
    expect(policyEndpoint({}, env)).toMatchObject({
      urls: { value: ["http://a:1/v1"], source: "SANDFARM_POLICY_URL" },
      model: { value: "m-env", source: "SANDFARM_POLICY_MODEL" },
    });
    const { SANDFARM_POLICY_URL: _url, SANDFARM_POLICY_MODEL: _model, ...openai } = env;
    expect(policyEndpoint({}, openai)).toEqual({
      urls: { value: ["http://b:2/v1"], source: "OPENAI_BASE_URL" },
      apiKey: { value: "k-openai", source: "OPENAI_API_KEY" },
    });
    expect(policyApiKey({ SANDFARM_POLICY_API_KEY: "k-s", OPENAI_API_KEY: "k-o" })).toEqual({
      value: "k-s",
      source: "SANDFARM_POLICY_API_KEY",
    });
    expect(policyApiKey({})).toEqual({ value: "EMPTY", source: "none (EMPTY)" });
  });

  describe("against a server that requires a key", () => {
    let dir: string;
    let keyed: RunningVllmStub;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "sandfarm-env-"));
      keyed = await startVllmStub({ scripts: SCRIPT_SETS.rl!, defaultScript: "rl-1", apiKey: KEY });
    });
    afterAll(async () => {
      await keyed.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("eval and doctor find it through OPENAI_BASE_URL and OPENAI_API_KEY alone", async () => {
      const env = cleanEnv({
        OPENAI_BASE_URL: keyed.baseURL,
        OPENAI_API_KEY: KEY,
        SANDFARM_POLICY_MODEL: "stub-model",
      });
      const tasks = writeRlTasks(dir, "tasks.jsonl", 2);
      const output = join(dir, "eval");
      const run = await sandfarmWithEnv(
        env,
        "eval",
        "--tasks",
        tasks,
        "--mode",
        "llm",
        "--output-dir",
        output,
      );
      expect(run.code).toBe(0);
      const config = JSON.parse(readFileSync(join(output, "config.json"), "utf8")) as {
        policy: { urls: string[] };
      };
      expect(config.policy.urls).toEqual([keyed.baseURL]);
      expect(JSON.stringify(config)).not.toContain(KEY);

      const doctor = await sandfarmWithEnv(env, "doctor");
      expect(doctor.code).toBe(0);
      expect(doctor.stdout).toContain(
        "URL from OPENAI_BASE_URL, model from SANDFARM_POLICY_MODEL, key from OPENAI_API_KEY",
      );
      expect(doctor.stdout).not.toContain(KEY);
    });

    it("doctor's 401 advice names the variable it read", async () => {
      const wrong = await sandfarmWithEnv(
        cleanEnv({ OPENAI_API_KEY: "k-wrong-0000000000" }),
        "doctor",
        "--policy-url",
        keyed.baseURL,
        "--model",
        "stub-model",
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain("the key from OPENAI_API_KEY was refused");
      const none = await sandfarmWithEnv(
        cleanEnv({}),
        "doctor",
        "--policy-url",
        keyed.baseURL,
        "--model",
        "stub-model",
      );
      expect(none.stdout).toContain(
        "no key was sent: set SANDFARM_POLICY_API_KEY (or OPENAI_API_KEY)",
      );
      const nothing = await sandfarmWithEnv(cleanEnv({}), "doctor");
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toContain("OPENAI_BASE_URL");
    });
  });
});
