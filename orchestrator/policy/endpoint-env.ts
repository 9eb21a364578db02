/**
 * Where the policy is and how to authenticate, read the way the OpenAI SDK's users expect, by one
 * function every command uses (`run`, `eval`, `train`, `doctor`; the client and the vLLM admin
 * routes for the key; `bridge serve` takes its replicas from flags only, since naming one turns
 * policy updates on):
 * - the URL: the flag, else the config, else `SANDFARM_POLICY_URL`, else `OPENAI_BASE_URL`;
 * - the model: the flag, else the config, else `SANDFARM_POLICY_MODEL`;
 * - the key: `SANDFARM_POLICY_API_KEY`, else `OPENAI_API_KEY`, else `EMPTY` (what vLLM accepts
 *   without `--api-key`). A key never comes from a flag or a file.
 * Each value carries its source's name, so a command can say which variable it read (never the
 * value of a key).
 *
 * @example
 * const endpoint = policyEndpoint({ flagUrls: flags.policyUrl, flagModel: flags.model });
 * endpoint.urls?.sources; // e.g. "OPENAI_BASE_URL"
 */

export interface Sourced<T> {
  value: T;
  /** The flag, config key or environment variable it came from. */
  source: string;
}

export interface PolicyEndpointSources {
  urls?: Sourced<string[]>;
  model?: Sourced<string>;
  apiKey: Sourced<string>;
}

const URL_VARIABLES = ["SANDFARM_POLICY_URL", "OPENAI_BASE_URL"] as const;
const MODEL_VARIABLES = ["SANDFARM_POLICY_MODEL"] as const;
const KEY_VARIABLES = ["SANDFARM_POLICY_API_KEY", "OPENAI_API_KEY"] as const;

/** The key for the policy server and the variable it came from. */
export function policyApiKey(env: NodeJS.ProcessEnv = process.env): Sourced<string> {
  for (const name of KEY_VARIABLES) {
    const value = env[name];
    if (value) return { value, source: name };
  }
  return { value: "EMPTY", source: "none (EMPTY)" };
}

function fromEnv(
  names: readonly string[],
  env: NodeJS.ProcessEnv,
): { value: string; source: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { value, source: name };
  }
  return undefined;
}

/**
 * The policy's URLs, model and key from, in order, flags, a config's `policy` section and the
 * environment. A field nothing gives is left out: the caller says what is missing.
 */
export function policyEndpoint(
  given: {
    flagUrls?: readonly string[] | undefined;
    flagModel?: string | undefined;
    configUrls?: readonly string[] | undefined;
    configModel?: string | undefined;
    /** How the caller names its flags and config keys in `source`. */
    names?: { flagUrls?: string; flagModel?: string; configUrls?: string; configModel?: string };
  },
  env: NodeJS.ProcessEnv = process.env,
): PolicyEndpointSources {
  const names = {
    flagUrls: "--policy-url",
    flagModel: "--model",
    configUrls: "policy.urls",
    configModel: "policy.model",
    ...given.names,
  };
  const envUrl = fromEnv(URL_VARIABLES, env);
  // A config is user input: a lone string is not a list of URLs (zod then says so).
  const configUrls: readonly string[] | undefined = Array.isArray(given.configUrls)
    ? given.configUrls
    : undefined;
  const urls =
    given.flagUrls && given.flagUrls.length > 0
      ? { value: [...given.flagUrls], source: names.flagUrls }
      : configUrls && configUrls.length > 0
        ? { value: [...configUrls], source: names.configUrls }
        : envUrl
          ? { value: [envUrl.value.replace(/\/+$/, "")], source: envUrl.source }
          : undefined;
  const envModel = fromEnv(MODEL_VARIABLES, env);
  const model = given.flagModel
    ? { value: given.flagModel, source: names.flagModel }
    : given.configModel
      ? { value: given.configModel, source: names.configModel }
      : envModel;
  return {
    ...(urls ? { urls } : {}),
    ...(model ? { model } : {}),
    apiKey: policyApiKey(env),
  };
}

/** The message for a policy that nothing names. */
export const MISSING_POLICY =
  "give the policy: --policy-url http://HOST:PORT/v1 and --model NAME, or set SANDFARM_POLICY_URL " +
  "(or OPENAI_BASE_URL) and SANDFARM_POLICY_MODEL, or policy.urls and policy.model in the config";
