/**
 * `sandfarm reward`: score answers with a named scorer, one case from flags or a JSONL file of
 * cases (one output line per input line, in order; a bad line gets an error line and exit 1).
 *
 * @example
 * sandfarm reward --scorer choice --answer "Answer: B" --truth B
 * sandfarm reward --input cases.jsonl
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Command } from "commander";
import { z } from "zod";
import { UnknownScorerError, scorerNamed } from "../../rewards/registry.js";
import type { ScoreResult } from "../../rewards/types.js";
import { ConfigError } from "../errors.js";

const caseSchema = z
  .object({
    scorer: z.string().min(1),
    answer: z.string(),
    truth: z.string(),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

function score(
  scorer: string,
  answer: string,
  truth: string,
  options?: Record<string, unknown>,
): ScoreResult {
  try {
    return scorerNamed(scorer)({ answer, truth, ...(options ? { options } : {}) });
  } catch (error) {
    if (error instanceof UnknownScorerError) throw new ConfigError(error.message, { cause: error });
    throw error;
  }
}

async function scoreFile(file: string): Promise<boolean> {
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
        const { scorer, answer, truth, options } = parsed.data;
        process.stdout.write(`${JSON.stringify(score(scorer, answer, truth, options))}\n`);
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

export function rewardCommand(): Command {
  return new Command("reward")
    .description("score an answer with a named scorer; prints {reward, details} as JSON")
    .option("--scorer <name>", "choice | multi_choice | exact | f1 | rouge_l | numeric | math")
    .option("--answer <text>", "the answer to score")
    .option("--truth <text>", "the official answer")
    .option("--options <json>", "scorer options as a JSON object, e.g. '{\"relTol\": 0.01}'")
    .option(
      "--input <file>",
      "JSONL of cases {scorer, answer, truth, options?}, one result line each",
    )
    .action(
      async (flags: {
        scorer?: string;
        answer?: string;
        truth?: string;
        options?: string;
        input?: string;
      }) => {
        if (flags.input) {
          process.exitCode = (await scoreFile(flags.input)) ? 0 : 1;
          return;
        }
        if (!flags.scorer || flags.answer === undefined || flags.truth === undefined) {
          throw new ConfigError("give --scorer, --answer and --truth, or --input FILE.jsonl");
        }
        let options: Record<string, unknown> | undefined;
        if (flags.options) {
          try {
            options = JSON.parse(flags.options) as Record<string, unknown>;
          } catch (error) {
            throw new ConfigError(
              `--options is not valid JSON (${(error as Error).message}); give an object like '{"relTol": 0.01}'`,
            );
          }
        }
        process.stdout.write(
          `${JSON.stringify(score(flags.scorer, flags.answer, flags.truth, options))}\n`,
        );
      },
    );
}
