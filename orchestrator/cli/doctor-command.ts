/**
 * `sandfarm doctor --policy-url URL --model NAME`: preflight of a policy endpoint (reachable,
 * model served, context length, token ids and logprobs, tool calling), each failure with its
 * fix; exit 0 only when all pass. The key comes from SANDFARM_POLICY_API_KEY.
 *
 * @example
 * sandfarm doctor --policy-url http://gpu:8000/v1 --model Qwen/Qwen3-4B-Instruct-2507
 */
import { Command } from "commander";
import { checkPolicyEndpoint } from "../policy/doctor.js";
import { reportChecks } from "./checks.js";
import { positiveInteger } from "./number-options.js";

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check a policy endpoint before a run; exit 0 only when all checks pass")
    .requiredOption("--policy-url <url>", "the vLLM base URL, ending in /v1")
    .requiredOption("--model <name>", "the served model name")
    .option("--min-context <tokens>", "the context length episodes need", positiveInteger, 32_768)
    .option("--json", "print the checks as JSON")
    .action(
      async (flags: { policyUrl: string; model: string; minContext: number; json?: boolean }) => {
        const checks = await checkPolicyEndpoint({
          url: flags.policyUrl,
          model: flags.model,
          minContextTokens: flags.minContext,
        });
        reportChecks(checks, flags.json);
      },
    );
}
