/**
 * `sandfarm dataset validate FILE...`: reads every row of JSONL, Parquet or Arrow IPC files and
 * prints counts by domain and answer type and every bad row; exits 1 when any row or file is bad.
 *
 * @example
 * sandfarm dataset validate train.parquet extra.jsonl
 * sandfarm dataset validate --mapping '{"question": "prompt"}' --json data.arrow
 * sandfarm dataset prompt datasets/samples/math.jsonl --id math-003 --mode llm
 * sandfarm dataset generate --family codes --count 256 --seed 1 --out train.jsonl
 */
import { Command, Option } from "commander";
import { BAD_ROW_POLICIES, type BadRowPolicy, readTasks } from "../../datasets/load.js";
import { DEFAULT_TEMPLATES, buildPrompt, loadPromptTemplates } from "../../datasets/prompts.js";
import { DATASET_FORMATS, type DatasetFormat } from "../../datasets/rows.js";
import type { ColumnMapping } from "../../datasets/task.js";
import { formatReport, validateDatasets } from "../../datasets/validate.js";
import { ConfigError, EXIT_CODES } from "../../common/errors.js";
import { writeCodeTasks } from "../../datasets/families/codes.js";
import { nonNegativeInteger, positiveInteger } from "./number-options.js";

const MAPPED_FIELDS = ["id", "domain", "question", "documents", "groundTruth", "answerType"];

/** Parses `--mapping`, naming the key and the fix when it is wrong. */
export function parseMapping(text: string): ColumnMapping {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `--mapping is not valid JSON (${(error as Error).message}); give an object like '{"question": "prompt"}'`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigError(`--mapping must be a JSON object of task field -> column name`);
  for (const [field, column] of Object.entries(value)) {
    if (!MAPPED_FIELDS.includes(field))
      throw new ConfigError(
        `--mapping key '${field}' is not a task field; use ${MAPPED_FIELDS.join(", ")}`,
      );
    if (typeof column !== "string" || column === "")
      throw new ConfigError(`--mapping.${field} must be a column name (a non-empty string)`);
  }
  return value;
}

export function datasetCommand(): Command {
  const dataset = new Command("dataset").description("check task datasets");
  dataset
    .command("validate")
    .description(
      "read every row; print counts by domain and answer type and every bad row; exit 1 if any is bad",
    )
    .argument("<files...>", "JSONL, Parquet or Arrow IPC files (format from the extension)")
    .option("--mapping <json>", 'column names for task fields, e.g. \'{"question": "prompt"}\'')
    .addOption(
      new Option("--format <format>", "format for every file, overriding extensions").choices(
        DATASET_FORMATS,
      ),
    )
    .option("--json", "print the report as one JSON object")
    .addOption(
      new Option(
        "--on-bad-row <policy>",
        "fail: bad rows make the exit status 1; skip: they are listed as skipped and the files pass",
      )
        .choices(BAD_ROW_POLICIES)
        .default("fail"),
    )
    .action(
      async (
        files: string[],
        flags: { mapping?: string; format?: DatasetFormat; json?: boolean; onBadRow: BadRowPolicy },
      ) => {
        const report = await validateDatasets(files, {
          ...(flags.mapping ? { mapping: parseMapping(flags.mapping) } : {}),
          ...(flags.format ? { format: flags.format } : {}),
        });
        process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report));
        // Rows a run would skip are not a failure under skip; a file that cannot be read still is.
        const badRowsFail = flags.onBadRow === "fail" && report.badRows.length > 0;
        if (badRowsFail || report.unreadable.length > 0) process.exitCode = EXIT_CODES.failed;
      },
    );
  dataset
    .command("prompt")
    .description("print the system and user messages a task gets, as the farm would send them")
    .argument("<file>", "a JSONL, Parquet or Arrow IPC file")
    .option("--id <id>", "the task's id (default: the first task)")
    .addOption(
      new Option("--mode <mode>", "sandbox or plain LLM mode")
        .choices(["sandbox", "llm"])
        .default("sandbox"),
    )
    .option("--prompts <dir>", "a directory of replacement templates (see the README)")
    .option("--mapping <json>", 'column names for task fields, e.g. \'{"question": "prompt"}\'')
    .option("--json", "print {system, user} as JSON")
    .action(
      async (
        file: string,
        flags: {
          id?: string;
          mode: "sandbox" | "llm";
          prompts?: string;
          mapping?: string;
          json?: boolean;
        },
      ) => {
        let templates = DEFAULT_TEMPLATES;
        if (flags.prompts) {
          templates = await loadPromptTemplates(flags.prompts);
        }
        const mapping = flags.mapping ? parseMapping(flags.mapping) : {};
        for await (const task of readTasks(file, { mapping, onBadRow: "skip" })) {
          if (flags.id !== undefined && task.id !== flags.id) continue;
          const prompt = buildPrompt(task, flags.mode, templates);
          process.stdout.write(
            flags.json
              ? `${JSON.stringify(prompt)}\n`
              : `--- system\n${prompt.system}\n--- user\n${prompt.user}\n`,
          );
          return;
        }
        throw new ConfigError(
          flags.id === undefined
            ? `${file} has no valid task`
            : `${file} has no task with id '${flags.id}'`,
        );
      },
    );
  dataset
    .command("generate")
    .description("write a generated task family as JSONL (codes: a digit to read from code.txt)")
    .addOption(new Option("--family <name>", "the task family").choices(["codes"]).default("codes"))
    .requiredOption("--count <n>", "how many tasks", positiveInteger)
    .option("--seed <n>", "the family's seed (same seed, same tasks)", nonNegativeInteger, 0)
    .option("--prefix <id>", "task ids are <prefix>-<index>", "codes")
    .requiredOption("--out <file>", "the JSONL file to write")
    .action((flags: { count: number; seed: number; prefix: string; out: string }) => {
      const tasks = writeCodeTasks(flags.out, flags);
      process.stderr.write(`sandfarm dataset generate: ${tasks.length} tasks in ${flags.out}\n`);
    });
  return dataset;
}
