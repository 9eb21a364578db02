/**
 * `sandfarm doctor --policy-url URL --model NAME`: preflight of a policy endpoint (reachable,
 * model served, context length, token ids and logprobs, tool calling), each failure with its
 * fix, then the episode limits a run would use there: the configured ones fitted to the served
 * context by the same function `train`, `eval` and `run` use; with `--engine` or `--config`, one
 * line per sandbox engine (sandbox/engine-report.ts). Exit 0 only when all pass. The URL,
 * model and key are read as every command reads them (`policy/endpoint-env.ts`), and the first
 * line says which flag or variable each came from.
 *
 * @example
 * sandfarm doctor --policy-url http://gpu:8000/v1 --model Qwen/Qwen3-4B-Instruct-2507
 */
import { Command } from "commander";
import Docker from "dockerode";
import { ConfigError, SandfarmError } from "../../common/errors.js";
import { EPISODE_DEFAULTS, MIN_CONTEXT_TOKENS } from "../config/defaults.js";
import { episodeSchema } from "../config/sections.js";
import { fitToEndpoint } from "../launch/endpoint-limits.js";
import { checkPolicyEndpoint } from "../policy/doctor.js";
import { MISSING_POLICY, policyEndpoint } from "../policy/endpoint-env.js";
import type { DoctorCheck } from "../util/doctor-check.js";
import { DEFAULT_SANDBOX_IMAGE } from "../sandbox/config.js";
import { engineCheck } from "../sandbox/engine-report.js";
import { engineConnection, resolveEngines } from "../sandbox/engines.js";
import { imageOn } from "../sandbox/images.js";
import { reportChecks } from "./checks.js";
import { engineOption, enginesForCommand } from "./engine-flags.js";
import { jsonObjectOption, positiveInteger } from "./number-options.js";

interface DoctorFlags {
  policyUrl?: string;
  model?: string;
  minContext: number;
  contextTokens?: number;
  maxTotalTokens?: number;
  chatTemplateKwargs?: Record<string, unknown>;
  json?: boolean;
  engine?: string[];
  config?: string;
}

/** Every engine of `--config FILE`'s sandbox.engines and `--engine`, one check each. */
async function engineChecks(flags: DoctorFlags): Promise<DoctorCheck[]> {
  const { engines, sandbox } = enginesForCommand(flags);
  const image = typeof sandbox.image === "string" ? sandbox.image : DEFAULT_SANDBOX_IMAGE;
  const local = resolveEngines([], process.env)[0]!;
  let expected: string | undefined;
  try {
    expected = (await imageOn(new Docker(engineConnection(local)), image))?.id;
  } catch {
    expected = undefined; // No local engine: each engine's image is reported as it is.
  }
  return Promise.all(engines.map((engine) => engineCheck(engine, image, expected)));
}

/** The limits a run with the default (or given) episode budget would use on this endpoint. */
async function episodeLimitsCheck(
  flags: DoctorFlags & { policyUrl: string; model: string },
): Promise<DoctorCheck> {
  const episode = episodeSchema.parse(
    flags.maxTotalTokens
      ? {
          maxTotalTokens: flags.maxTotalTokens,
          maxTokensPerCall: Math.min(flags.maxTotalTokens, EPISODE_DEFAULTS.maxTokensPerCall),
        }
      : {},
  );
  try {
    const fitted = await fitToEndpoint(
      { urls: [flags.policyUrl], model: flags.model, contextTokens: flags.contextTokens },
      episode,
    );
    const lowered = fitted.warnings.length > 0 ? ` (fitted: ${fitted.warnings.join("; ")})` : "";
    return {
      name: "episode limits",
      ok: true,
      detail:
        `context ${fitted.contextTokens} tokens (${fitted.contextSource === "server" ? "served" : "--context-tokens"}); ` +
        `episodes use maxTotalTokens ${fitted.episode.maxTotalTokens}, maxTokensPerCall ${fitted.episode.maxTokensPerCall}${lowered}`,
    };
  } catch (error) {
    if (!(error instanceof SandfarmError)) throw error;
    return {
      name: "episode limits",
      ok: false,
      detail: error.message,
      fix: "give --context-tokens N (policy.contextTokens in a config) when the server does not report its context",
    };
  }
}

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check a policy endpoint before a run; exit 0 only when all checks pass")
    .option(
      "--policy-url <url>",
      "the vLLM base URL, ending in /v1 (env SANDFARM_POLICY_URL, else OPENAI_BASE_URL)",
    )
    .option("--model <name>", "the served model name (env SANDFARM_POLICY_MODEL)")
    .option(
      "--min-context <tokens>",
      "the smallest context accepted; larger budgets are fitted to the server",
      positiveInteger,
      MIN_CONTEXT_TOKENS,
    )
    .option(
      "--context-tokens <tokens>",
      "the model's context, for a server that does not report max_model_len",
      positiveInteger,
    )
    .option(
      "--max-total-tokens <tokens>",
      "the episode budget to fit (default: episode.maxTotalTokens's default)",
      positiveInteger,
    )
    .option(
      "--chat-template-kwargs <json>",
      `sent with the probe calls as runs send it, e.g. '{"enable_thinking": false}' (policy.chatTemplateKwargs)`,
      jsonObjectOption,
    )
    .option("--config <file>", "also check every engine of this run config's sandbox.engines")
    .addOption(engineOption())
    .option("--json", "print the checks as JSON")
    .action(async (flags: DoctorFlags) => {
      const endpoint = policyEndpoint({
        flagUrls: flags.policyUrl ? [flags.policyUrl] : undefined,
        flagModel: flags.model,
      });
      const wantsEngines = Boolean(flags.engine?.length || flags.config);
      if (!endpoint.urls || !endpoint.model) {
        // Only the engines were asked about.
        if (wantsEngines) return reportChecks(await engineChecks(flags), flags.json);
        throw new ConfigError(MISSING_POLICY);
      }
      const target = { ...flags, policyUrl: endpoint.urls.value[0]!, model: endpoint.model.value };
      // Which variables were read, never a key's value: a 401 is then easy to place.
      const sources: DoctorCheck = {
        name: "policy from",
        ok: true,
        detail: `URL from ${endpoint.urls.source}, model from ${endpoint.model.source}, key from ${endpoint.apiKey.source}`,
      };
      const checks = [
        sources,
        ...(await checkPolicyEndpoint({
          url: target.policyUrl,
          model: target.model,
          minContextTokens: flags.minContext,
          ...(flags.chatTemplateKwargs ? { chatTemplateKwargs: flags.chatTemplateKwargs } : {}),
        })),
      ];
      const served = checks.find((check) => check.name === "model")?.ok === true;
      if (served) checks.push(await episodeLimitsCheck(target));
      if (wantsEngines) checks.push(...(await engineChecks(flags)));
      reportChecks(checks, flags.json);
    });
}
