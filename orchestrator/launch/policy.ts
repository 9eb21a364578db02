/**
 * The policy as a run's config describes it: the client (`policyClientFor`) and the endpoint's
 * preflight (`preflightPolicy`, the checks of `sandfarm doctor`), shared by `train`, `eval` and
 * `run` so that they build and check the policy the same way.
 *
 * @example
 * await preflightPolicy(config.policy, config.episode.maxTotalTokens, true);
 * const policy = policyClientFor(config.policy);
 */
import { ConfigError } from "../../common/errors.js";
import type { PolicySection } from "../config/sections.js";
import { PolicyClient, type PolicyClientOptions } from "../policy/client.js";
import { checkPolicyEndpoint } from "../policy/doctor.js";

/**
 * The policy client a config's `policy` section describes. Sampling is not the client's: each
 * use passes its own with the episode (`rolloutSampling` for training, `evalSampling` else).
 */
export function policyClientFor(
  policy: PolicySection,
  overrides: Partial<PolicyClientOptions> = {},
): PolicyClient {
  return new PolicyClient({
    urls: policy.urls,
    model: policy.model,
    ...(policy.chatTemplateKwargs ? { chatTemplateKwargs: policy.chatTemplateKwargs } : {}),
    requestTimeoutMs: policy.requestTimeoutS * 1000,
    retries: policy.retries,
    cacheSaltPerVersion: policy.cacheSaltPerVersion,
    ...overrides,
  });
}

/**
 * The policy endpoints' preflight (`sandfarm doctor`'s checks): every required check must pass;
 * tool calling only matters when sandbox episodes run.
 */
export async function preflightPolicy(
  policy: {
    urls: readonly string[];
    model: string;
    chatTemplateKwargs?: Record<string, unknown> | undefined;
  },
  minContextTokens: number,
  needsTools: boolean,
): Promise<void> {
  const problems: string[] = [];
  for (const url of policy.urls) {
    const checks = await checkPolicyEndpoint({
      url,
      model: policy.model,
      minContextTokens,
      ...(policy.chatTemplateKwargs ? { chatTemplateKwargs: policy.chatTemplateKwargs } : {}),
    });
    for (const check of checks) {
      if (check.ok || check.optional) continue;
      if (check.name === "tool calling" && !needsTools) continue;
      problems.push(
        `${url} ${check.name}: ${check.detail}${check.fix ? `\n    fix: ${check.fix}` : ""}`,
      );
    }
  }
  if (problems.length > 0)
    throw new ConfigError(
      `the policy endpoint failed its preflight (\`sandfarm doctor\`):\n  ${problems.join("\n  ")}`,
    );
}
