/**
 * `sandfarm run`: one task, one episode, as the reference CLI's `run`. `--input-dir`'s files go
 * to /testbed/documents/; the answer (the answer file's content, or the response in plain mode)
 * is printed as the last line of stdout; the trajectory JSON and a copy of /testbed/output/ are
 * written to the output directory.
 *
 * @example
 * sandfarm run --query "What is 2^100 mod 7?" --policy-url http://127.0.0.1:8000/v1 --model Qwen/Qwen3-4B
 * sandfarm run --query "Who signed the memo?" --input-dir ./docs --mode llm --policy-url ... --model ...
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Command, Option } from "commander";
import { ANSWER_TYPES, type AnswerType, type Task } from "../../datasets/task.js";
import { type Episode } from "../agent/episode-record.js";
import { runEpisode } from "../agent/episode.js";
import { ConfigError, EXIT_CODES } from "../../common/errors.js";
import { EPISODE_DEFAULTS } from "../config/defaults.js";
import { parseConfigWith } from "../config/parse.js";
import { episodeSchema, policySchema } from "../config/sections.js";
import { fitToEndpoint } from "../launch/endpoint-limits.js";
import { MISSING_POLICY, policyEndpoint } from "../policy/endpoint-env.js";
import { episodeOptionsFor } from "../launch/episode-options.js";
import { evalSampling } from "../config/sampling.js";
import { policyClientFor } from "../launch/policy.js";
import type { ManagedSandbox } from "../sandbox/backend.js";
import { fleetFromConfig } from "../sandbox/fleet-setup.js";
import { jsonObjectOption, positiveNumber, samplingTemperature } from "./number-options.js";
import { type SandboxFlags, configFrom, withSandboxFlags } from "./sandbox-command.js";

interface RunFlags extends SandboxFlags {
  query: string;
  contextTokens?: number;
  inputDir?: string;
  policyUrl?: string[];
  model?: string;
  mode: "sandbox" | "llm";
  maxTurns?: number;
  maxTokens?: number;
  outputDir?: string;
  domain: string;
  answerType: AnswerType;
  temperature?: number;
  chatTemplateKwargs?: Record<string, unknown>;
  timeout?: number;
}

const OUTPUT_FILE_MAX_BYTES = 10 << 20;

/** The files under `dir`, as document name (relative path) -> UTF-8 text. */
function readDocuments(dir: string): Record<string, string> {
  const documents: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) documents[relative(dir, path)] = readFileSync(path, "utf8");
    }
  };
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    walk(dir);
  } catch (error) {
    throw new ConfigError(
      `--input-dir ${dir}: ${(error as Error).message}; give a folder of documents`,
    );
  }
  return documents;
}

/** Copies /testbed/output/ file by file (each up to 10 MiB) into `target`. */
async function copyOutputs(sandbox: ManagedSandbox, target: string): Promise<number> {
  const listing = await sandbox.exec(
    "cd /testbed/output 2>/dev/null && find . -type f -size -10240k -print0",
    { timeoutS: 30 },
  );
  const files = listing.stdout.split("\0").filter((name) => name.startsWith("./"));
  for (const name of files) {
    const file = await sandbox.readFile(`/testbed/output/${name.slice(2)}`, OUTPUT_FILE_MAX_BYTES);
    const destination = join(target, name.slice(2));
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(destination, file.content);
  }
  return files.length;
}

export function runCommand(): Command {
  return withSandboxFlags(new Command("run"))
    .description("run one task in a sandbox (or plain LLM mode); prints the answer last")
    .requiredOption("--query <text>", "the task")
    .option("--input-dir <dir>", "documents for the task, copied to /testbed/documents/")
    .option(
      "--policy-url <url>",
      "the policy's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (repeat for replicas; env SANDFARM_POLICY_URL, else OPENAI_BASE_URL)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--model <name>", "the served model name (env SANDFARM_POLICY_MODEL)")
    .addOption(
      new Option("--mode <mode>", "sandbox or llm").choices(["sandbox", "llm"]).default("sandbox"),
    )
    .option(
      "--max-turns <n>",
      `model calls at most (default ${EPISODE_DEFAULTS.maxTurns})`,
      positiveNumber,
    )
    .option(
      "--max-tokens <n>",
      `tokens per call and per conversation (default ${EPISODE_DEFAULTS.maxTotalTokens})`,
      positiveNumber,
    )
    .option(
      "--timeout <s>",
      `wall-clock limit of the episode in seconds (default ${EPISODE_DEFAULTS.timeoutS})`,
      positiveNumber,
    )
    .option("--temperature <t>", "sampling temperature (default the server's)", samplingTemperature)
    .option(
      "--chat-template-kwargs <json>",
      `the chat template's switches, e.g. '{"enable_thinking": false}' (policy.chatTemplateKwargs)`,
      jsonObjectOption,
    )
    .option(
      "--context-tokens <n>",
      "the model's context, for a server that does not report max_model_len",
      positiveNumber,
    )
    .option("--domain <name>", "the task's domain: picks the prompt's role line", "general")
    .addOption(
      new Option("--answer-type <type>", "what kind of answer the prompt asks for")
        .choices(ANSWER_TYPES)
        .default("open_ended"),
    )
    .option(
      "--output-dir <dir>",
      "where the trajectory and /testbed/output/ go (default ./sandfarm-runs/<id>)",
    )
    .action(async (flags: RunFlags) => {
      const endpoint = policyEndpoint({ flagUrls: flags.policyUrl, flagModel: flags.model });
      if (!endpoint.urls || !endpoint.model) throw new ConfigError(MISSING_POLICY);
      const urls = endpoint.urls.value;
      const model = endpoint.model.value;
      const rolloutId = `run-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      const outputDir = flags.outputDir ?? join("sandfarm-runs", rolloutId);
      // No ground truth: `run` answers, it does not score.
      const task: Task = {
        id: rolloutId,
        domain: flags.domain,
        question: flags.query,
        documents: flags.inputDir ? readDocuments(flags.inputDir) : {},
        groundTruth: "",
        answerType: flags.answerType,
        instructions: [],
        scorerOptions: {},
        metadata: {},
      };
      // The flags as config sections, so `run` builds the policy and the episode exactly as
      // `train` and `eval` do from a file (same defaults, same bounds).
      const policySection = parseConfigWith(
        policySchema,
        {
          urls,
          model,
          ...(flags.contextTokens !== undefined ? { contextTokens: flags.contextTokens } : {}),
          ...(flags.temperature !== undefined
            ? { sampling: { temperature: flags.temperature } }
            : {}),
          ...(flags.chatTemplateKwargs ? { chatTemplateKwargs: flags.chatTemplateKwargs } : {}),
        },
        "the policy flags",
        "policy",
      );
      const episodeSection = parseConfigWith(
        episodeSchema,
        {
          ...(flags.maxTurns ? { maxTurns: flags.maxTurns } : {}),
          ...(flags.maxTokens
            ? { maxTokensPerCall: flags.maxTokens, maxTotalTokens: flags.maxTokens }
            : {}),
          ...(flags.timeout ? { timeoutS: flags.timeout } : {}),
        },
        "the episode flags",
        "episode",
      );
      const fitted = await fitToEndpoint(policySection, episodeSection);
      for (const warning of fitted.warnings)
        process.stderr.write(`sandfarm run: warning: ${warning}\n`);
      const policy = policyClientFor(policySection);
      // No warm sandboxes: the one sandbox goes to the least loaded engine (--engine).
      const fleet =
        flags.mode === "sandbox"
          ? fleetFromConfig(configFrom(flags), {
              warmSize: 0,
              maxConcurrentStarts: 1,
              reapOrphansOnStart: false,
            })
          : undefined;
      let copied = 0;
      let episode: Episode;
      try {
        episode = await runEpisode(
          task,
          flags.mode,
          {
            policy,
            ...(fleet ? { sandboxes: fleet } : {}),
          },
          { rolloutId, groupId: rolloutId },
          {
            ...episodeOptionsFor(episodeSection, {
              fitted,
              sampling: evalSampling(policySection.sampling, flags.mode),
            }),
            beforeRelease: async (sandbox) => {
              copied = await copyOutputs(sandbox, join(outputDir, "output"));
            },
          },
        );
      } finally {
        policy.close();
        await fleet?.close();
      }
      mkdirSync(outputDir, { recursive: true });
      writeFileSync(join(outputDir, "trajectory.json"), `${JSON.stringify(episode, null, 2)}\n`);
      process.stderr.write(
        `sandfarm run: ${episode.stopReason} after ${episode.calls.length} call(s), ${episode.turns.length} turn(s); ` +
          `trajectory ${join(outputDir, "trajectory.json")}` +
          (copied > 0 ? `, ${copied} output file(s) in ${join(outputDir, "output")}` : "") +
          "\n",
      );
      process.stdout.write(`${episode.answer ?? ""}\n`);
      if (episode.stopReason === "policy_error" || episode.stopReason === "sandbox_error")
        process.exitCode = EXIT_CODES.infrastructure;
    });
}
