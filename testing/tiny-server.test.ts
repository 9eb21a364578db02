/**
 * The tiny real policy's server, beyond the shared wire-conformance suite: its vocabulary is
 * current with the prompts sandfarm sends, `sandfarm doctor` passes against it, the task
 * family's prompts encode to few tokens and exactly as /tokenize counts them, and weights
 * reloaded through /collective_rpc are the ones that sample.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPrompt } from "../datasets/prompts.js";
import { codeTasks } from "../datasets/families/codes.js";
import { toolDefinitions } from "../orchestrator/tools/definitions.js";
import { tinyPieces } from "../scripts/tiny-pieces.js";
import { sandfarm } from "./cli.js";
import {
  PYTHON,
  PYTHON_PACKAGE_DIR,
  type RunningTinyServer,
  startTinyServer,
} from "./tiny-server.js";

let tiny: RunningTinyServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sandfarm-tiny-"));
  tiny = await startTinyServer({ seed: 0 });
}, 60_000);

afterAll(async () => {
  await tiny?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The fields of the replies these tests read (chat completion, /tokenize, errors). */
interface Reply {
  choices: { token_ids: number[] }[];
  prompt_token_ids: number[];
  tokens: number[];
  count: number;
  error: { message: string };
}

async function post(path: string, body: unknown): Promise<{ status: number; body: Reply }> {
  const response = await fetch(`${tiny.origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Reply };
}

describe("the tiny policy's vLLM-wire server", () => {
  it("has the vocabulary of the prompts sandfarm sends (pieces.json is current)", () => {
    const committed = JSON.parse(
      readFileSync(join(PYTHON_PACKAGE_DIR, "examples/tiny/pieces.json"), "utf8"),
    ) as unknown;
    expect(committed).toEqual(tinyPieces());
  });

  it("passes sandfarm doctor", async () => {
    const run = await sandfarm("doctor", "--policy-url", tiny.baseURL, "--model", "tiny");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok {3}context length +4096 tokens/m);
    expect(run.stdout).toMatch(/^ok {3}tool calling/m);
  });

  it("encodes the task family's prompts in few tokens, exactly as /tokenize counts them", async () => {
    const [task] = codeTasks({ count: 1, seed: 5, prefix: "t" });
    for (const mode of ["sandbox", "llm"] as const) {
      const prompt = buildPrompt(task!, mode);
      const messages = [
        { role: "system", content: prompt.system },
        { role: "user", content: prompt.user },
      ];
      const tools = mode === "sandbox" ? toolDefinitions() : undefined;
      const chat = await post("/v1/chat/completions", {
        model: "tiny",
        messages,
        ...(tools ? { tools } : {}),
        max_tokens: 4,
        seed: 1,
        return_token_ids: true,
      });
      expect(chat.status).toBe(200);
      const counted = await post("/tokenize", {
        model: "tiny",
        messages,
        ...(tools ? { tools } : {}),
        add_generation_prompt: true,
      });
      expect(counted.body.tokens).toEqual(chat.body.prompt_token_ids);
      // System prompt, tools block and user prompt are whole tokens: the markup dominates.
      expect(counted.body.count).toBeLessThan(mode === "sandbox" ? 16 : 24);
    }
  });

  it("samples with the weights /collective_rpc reload_weights loads", async () => {
    const checkpoint = join(dir, "seed-3");
    execFileSync(PYTHON, ["-m", "examples.tiny.init", "--seed", "3", "--out", checkpoint], {
      cwd: PYTHON_PACKAGE_DIR,
    });
    const greedy = {
      model: "tiny",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 12,
      temperature: 0,
      return_token_ids: true,
      logprobs: true,
    };
    const before = (await post("/v1/chat/completions", greedy)).body;
    const other = await startTinyServer({ weights: checkpoint });
    try {
      const expected = (await (
        await fetch(`${other.baseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(greedy),
        })
      ).json()) as Reply;
      expect(expected.choices[0]!.token_ids).not.toEqual(before.choices[0]!.token_ids);
      const reload = await post("/collective_rpc", {
        method: "reload_weights",
        kwargs: { weights_path: checkpoint },
      });
      expect(reload).toEqual({ status: 200, body: { results: [null] } });
      const after = (await post("/v1/chat/completions", greedy)).body;
      expect(after.choices[0]!.token_ids).toEqual(expected.choices[0]!.token_ids);
    } finally {
      await other.close();
    }
    const missing = await post("/collective_rpc", {
      method: "reload_weights",
      kwargs: { weights_path: join(dir, "nope") },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/no checkpoint at weights_path/);
  }, 60_000);
});
