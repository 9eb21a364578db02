/**
 * `sandfarm reward`: score answers with a named scorer, one case from flags or a JSONL file of
 * cases (one output line per input line, in order; a bad line gets an error line and exit 1).
 * The judge needs `--judge-url` and `--judge-model` (its key comes from SANDFARM_JUDGE_API_KEY,
 * never a flag); custom scorers are added by name from a module or a command.
 *
 * @example
 * sandfarm reward --scorer choice --answer "Answer: B" --truth B
 * sandfarm reward --scorer ifeval --answer "hello" --truth '[{"id": "change_case:english_lowercase"}]'
 * sandfarm reward --scorer-command mine='python3 reward.py' --scorer mine --answer 4 --truth 4
 * sandfarm reward --input cases.jsonl
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import { type CustomScorerSpec, Rewarder } from "../../rewards/rewarder.js";
import type { ScoreInput, ScoreResult } from "../../rewards/types.js";
import { ConfigError } from "../../common/errors.js";

const caseSchema = z
  .object({
    scorer: z.string().min(1),
    answer: z.string(),
    truth: z.string(),
    question: z.string().optional(),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

function score(rewarder: Rewarder, scorer: string, input: ScoreInput): Promise<ScoreResult> {
  return rewarder.scoreWith(scorer, input);
}

async function scoreFile(rewarder: Rewarder, file: string): Promise<boolean> {
  const lines = createInterface({
    input: createReadStream(file, { encoding: "utf8" }),
    crlfDelay: Infinity,
  });
  let lineNumber = 0;
  let allGood = true;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    let problem: string | undefined;
    try {
      const parsed = caseSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        problem = parsed.error.issues
          .map((issue) => `${issue.path.join(".") || "(case)"}: ${issue.message}`)
          .join("; ");
      } else {
        const { scorer, ...input } = parsed.data;
        process.stdout.write(`${JSON.stringify(await score(rewarder, scorer, input))}\n`);
        continue;
      }
    } catch (error) {
      problem =
        error instanceof SyntaxError
          ? `(case): is not valid JSON (${error.message})`
          : (error as Error).message;
    }
    allGood = false;
    process.stdout.write(`${JSON.stringify({ error: `${file}:${lineNumber}: ${problem}` })}\n`);
  }
  return allGood;
}

/** `NAME=VALUE` for the repeatable custom-scorer flags. */
function namedValue(flag: string) {
  return (text: string, previous: [string, string][] = []): [string, string][] => {
    const split = text.indexOf("=");
    if (split <= 0 || split === text.length - 1)
      throw new InvalidArgumentError(`${flag} takes NAME=VALUE, e.g. ${flag} mine=./reward.js`);
    return [...previous, [text.slice(0, split), text.slice(split + 1)]];
  };
}

function parseOptions(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `--options is not valid JSON (${(error as Error).message}); give an object like '{"relTol": 0.01}'`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigError(`--options must be a JSON object, like '{"relTol": 0.01}'`);
  return value as Record<string, unknown>;
}

interface RewardFlags {
  scorer?: string;
  answer?: string;
  truth?: string;
  question?: string;
  options?: string;
  input?: string;
  judgeUrl?: string;
  judgeModel?: string;
  judgeRepeats?: string;
  scorerModule?: [string, string][];
  scorerCommand?: [string, string][];
}

async function createRewarder(flags: RewardFlags): Promise<Rewarder> {
  if ((flags.judgeUrl === undefined) !== (flags.judgeModel === undefined))
    throw new ConfigError("the judge needs both --judge-url and --judge-model");
  const custom: Record<string, CustomScorerSpec> = {};
  for (const [name, module] of flags.scorerModule ?? []) custom[name] = { module };
  for (const [name, command] of flags.scorerCommand ?? [])
    custom[name] = { command: command.trim().split(/\s+/) };
  return Rewarder.create({
    pool: "in-process",
    custom,
    ...(flags.judgeUrl && flags.judgeModel
      ? {
          judge: {
            baseURL: flags.judgeUrl,
            model: flags.judgeModel,
            ...(flags.judgeRepeats ? { repeats: Number(flags.judgeRepeats) } : {}),
          },
        }
      : {}),
  });
}

export function rewardCommand(): Command {
  return new Command("reward")
    .description("score an answer with a named scorer; prints {reward, details} as JSON")
    .option(
      "--scorer <name>",
      "math | choice | multi_choice | numeric | exact | f1 | rouge_l | open_ended | ifeval | judge | a custom name",
    )
    .option("--answer <text>", "the answer to score")
    .option("--truth <text>", "the official answer (ifeval: the instructions as a JSON array)")
    .option("--question <text>", "the question (the judge shows it to the judge model)")
    .option("--options <json>", "scorer options as a JSON object, e.g. '{\"relTol\": 0.01}'")
    .option(
      "--input <file>",
      "JSONL of cases {scorer, answer, truth, question?, options?}, one result line each",
    )
    .option(
      "--judge-url <url>",
      "the judge's OpenAI-compatible base URL (key: SANDFARM_JUDGE_API_KEY)",
    )
    .option("--judge-model <name>", "the judge model's name")
    .option("--judge-repeats <n>", "judgments averaged per answer (default 4)")
    .option(
      "--scorer-module <name=path>",
      "add a custom scorer from a JS/TS module exporting score() (repeatable)",
      namedValue("--scorer-module"),
    )
    .option(
      "--scorer-command <name=command>",
      "add a custom scorer run as a program: JSON case on stdin, {reward, details} on stdout (repeatable)",
      namedValue("--scorer-command"),
    )
    .action(async (flags: RewardFlags) => {
      if (
        !flags.input &&
        (!flags.scorer || flags.answer === undefined || flags.truth === undefined)
      )
        throw new ConfigError("give --scorer, --answer and --truth, or --input FILE.jsonl");
      const options = flags.options ? parseOptions(flags.options) : undefined;
      const rewarder = await createRewarder(flags);
      try {
        if (flags.input) {
          process.exitCode = (await scoreFile(rewarder, flags.input)) ? 0 : 1;
          return;
        }
        const result = await score(rewarder, flags.scorer!, {
          answer: flags.answer!,
          truth: flags.truth!,
          ...(flags.question !== undefined ? { question: flags.question } : {}),
          ...(options ? { options } : {}),
        });
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        await rewarder.close();
      }
    });
}
