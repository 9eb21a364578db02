/**
 * `sandfarm doctor --policy-url URL --model NAME`: the preflight of a policy endpoint, run by
 * `sandfarm train` at start too. Each check that fails carries its fix:
 * reachable (`GET /v1/models`), the model served, its context length, exact token ids and
 * logprobs returned (without them no rollout is trainable), and tool calling enabled (without
 * it sandbox mode cannot work).
 *
 * @example
 * const checks = await checkPolicyEndpoint({ url: "http://gpu:8000/v1", model: "Qwen/Qwen3-4B" });
 */
import { MIN_CONTEXT_TOKENS } from "../config/defaults.js";
import { policyApiKey } from "./endpoint-env.js";
import { contextOfModel } from "./model-cards.js";
import type { DoctorCheck } from "../util/doctor-check.js";
import { EXECUTE_BASH, toolDefinitions } from "../tools/definitions.js";

export interface PolicyDoctorOptions {
  /** Base URL ending in /v1. */
  url: string;
  model: string;
  /** @default `policyApiKey()` (SANDFARM_POLICY_API_KEY, else OPENAI_API_KEY) */
  apiKey?: string;
  /** A context shorter than this fails the context check. @default MIN_CONTEXT_TOKENS */
  minContextTokens?: number;
  /** Per request. @default 30000 */
  timeoutMs?: number;
  /** Sent as `chat_template_kwargs` with each probe call, as every model call sends it. */
  chatTemplateKwargs?: Record<string, unknown>;
}

/** The probe offers sandfarm's own execute_bash tool, as a sandbox episode would. */
const PROBE_TOOLS = toolDefinitions().filter((tool) => tool.function.name === EXECUTE_BASH);

interface Reply {
  status: number;
  body: unknown;
  text: string;
}

export async function checkPolicyEndpoint(options: PolicyDoctorOptions): Promise<DoctorCheck[]> {
  const base = options.url.replace(/\/+$/, "");
  const key = options.apiKey ? { value: options.apiKey, source: "the given key" } : policyApiKey();
  const apiKey = key.value;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const request = async (method: "GET" | "POST", path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text };
  };
  const checks: DoctorCheck[] = [];

  let models: Reply;
  try {
    models = await request("GET", "/models");
  } catch (error) {
    checks.push({
      name: "reachable",
      ok: false,
      detail: `${base}/models: ${(error as Error).message}`,
      fix: "start vLLM (vllm serve MODEL) and give its base URL ending in /v1, e.g. http://host:8000/v1",
    });
    return checks;
  }
  if (models.status === 401) {
    checks.push({
      name: "reachable",
      ok: false,
      detail: `${base}/models answered 401`,
      fix:
        key.source === "none (EMPTY)"
          ? "no key was sent: set SANDFARM_POLICY_API_KEY (or OPENAI_API_KEY) to the key vLLM was started with (--api-key)"
          : `the key from ${key.source} was refused: set SANDFARM_POLICY_API_KEY (read first, then OPENAI_API_KEY) to the key vLLM was started with (--api-key)`,
    });
    return checks;
  }
  const cards = (
    models.body as { data?: { id?: string; max_model_len?: number | null }[] } | undefined
  )?.data;
  if (models.status !== 200 || !Array.isArray(cards)) {
    checks.push({
      name: "reachable",
      ok: false,
      detail: `${base}/models answered ${models.status}: ${models.text.slice(0, 200)}`,
      fix: "point --policy-url at an OpenAI-compatible server's /v1 (vLLM's, for training)",
    });
    return checks;
  }
  checks.push({ name: "reachable", ok: true, detail: `${base} answers` });
  const card = cards.find((entry) => entry.id === options.model);
  const served = cards.map((entry) => entry.id).join(", ");
  checks.push(
    card
      ? { name: "model", ok: true, detail: `${options.model} is served` }
      : {
          name: "model",
          ok: false,
          detail: `${options.model} is not served here; served: ${served || "none"}`,
          fix: `give --model one of: ${served}, or serve it (vllm serve ${options.model})`,
        },
  );
  if (!card) return checks;
  const context = contextOfModel(cards, options.model);
  const minimum = options.minContextTokens ?? MIN_CONTEXT_TOKENS;
  checks.push(
    typeof context !== "number"
      ? { name: "context length", ok: true, optional: true, detail: "not reported (not vLLM?)" }
      : context >= minimum
        ? { name: "context length", ok: true, detail: `${context} tokens` }
        : {
            name: "context length",
            ok: false,
            detail: `${context} tokens, under the ${minimum} a multi-turn episode needs to work`,
            fix: `serve with --max-model-len ${minimum} or more`,
          },
  );

  const messages = [{ role: "user", content: "Reply with the word ok." }];
  const templateKwargs = options.chatTemplateKwargs
    ? { chat_template_kwargs: options.chatTemplateKwargs }
    : {};
  const tokens = await request("POST", "/chat/completions", {
    model: options.model,
    messages,
    ...templateKwargs,
    max_tokens: 4,
    logprobs: true,
    return_token_ids: true,
    return_tokens_as_token_ids: true,
  }).catch((error: unknown) => ({ status: 0, body: undefined, text: (error as Error).message }));
  const body = tokens.body as
    | {
        prompt_token_ids?: unknown;
        choices?: { token_ids?: unknown; logprobs?: { content?: unknown[] } | null }[];
      }
    | undefined;
  const choice = body?.choices?.[0];
  const haveIds = Array.isArray(body?.prompt_token_ids) && Array.isArray(choice?.token_ids);
  const haveLogprobs = Array.isArray(choice?.logprobs?.content);
  checks.push(
    tokens.status === 200 && haveIds && haveLogprobs
      ? { name: "token ids", ok: true, detail: "prompt_token_ids, token_ids and logprobs returned" }
      : {
          name: "token ids",
          ok: false,
          detail:
            tokens.status !== 200
              ? `a probe call answered ${tokens.status}: ${tokens.text.slice(0, 200)}`
              : `missing: ${[!haveIds && "prompt_token_ids/token_ids", !haveLogprobs && "logprobs"].filter(Boolean).join(", ")}; rollouts would not be trainable`,
          fix: "use a vLLM that supports return_token_ids on chat completions (and do not disable logprobs)",
        },
  );

  const tools = await request("POST", "/chat/completions", {
    model: options.model,
    messages,
    ...templateKwargs,
    tools: PROBE_TOOLS,
    tool_choice: "auto",
    max_tokens: 4,
  }).catch((error: unknown) => ({ status: 0, body: undefined, text: (error as Error).message }));
  checks.push(
    tools.status === 200
      ? { name: "tool calling", ok: true, detail: "tools accepted with tool_choice auto" }
      : {
          name: "tool calling",
          ok: false,
          detail: `a call offering a tool answered ${tools.status}: ${tools.text.slice(0, 200)}`,
          fix: "start vLLM with --enable-auto-tool-choice --tool-call-parser hermes (or your model's parser)",
        },
  );
  return checks;
}
