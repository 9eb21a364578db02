/**
 * The system and user messages for a task in either mode. Sandbox mode: a role line for the
 * domain, the task, the directories, a workflow that writes code to files and runs it, notes on
 * the three tools, encouraged approaches and a rule against hard-coding; the user message is the
 * problem and where and how to write the answer. Plain LLM mode: the documents inlined in
 * numbered BEGIN/END DOCUMENT blocks before the question; the answer is the response.
 *
 * Every template is text with `{{placeholders}}` and can be replaced from files
 * (`loadPromptTemplates`); the per-domain roles and per-answer-type output instructions too.
 *
 * @example
 * const { system, user } = buildPrompt(task, "sandbox");
 * const custom = await loadPromptTemplates("my-prompts/"); // any subset of the files
 * buildPrompt(task, "llm", custom);
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { AnswerType, Task } from "./task.js";
import { UserError } from "../common/errors.js";

/** The sandbox conventions every prompt states (docs/architecture.md, "Sandbox conventions"). */
export const SANDBOX_PATHS = {
  workingDir: "/testbed",
  documentsDir: "/testbed/documents",
  answerFile: "/testbed/answer.txt",
  outputDir: "/testbed/output",
} as const;

export type PromptMode = "sandbox" | "llm";

export interface Prompt {
  system: string;
  user: string;
}

/** What decides the output instruction: the answer type, refined for some domains. */
export type OutputKind = AnswerType | "physics";

export interface PromptTemplates {
  sandboxSystem: string;
  sandboxUser: string;
  llmSystem: string;
  llmUser: string;
  /** Role line by domain; `default` for any other domain. */
  roles: Record<string, string>;
  /** Output instructions by kind, in each mode. */
  sandboxOutput: Record<OutputKind, string>;
  llmOutput: Record<OutputKind, string>;
}

const SANDBOX_SYSTEM = `{{role}}

# Task
You have a Linux computer: a sandbox with Python 3, common scientific libraries and a shell. Use it
to solve the problem the user gives you, then write your answer to a file.

# Directories
- Working directory: {{working_dir}}
- Input documents (when the task has any): {{documents_dir}}/
- Your answer: {{answer_file}} (plain text)
- Other files you produce: {{output_dir}}/

# How to work
1. Read the problem, and every input document that bears on it.
2. Check the inputs: list the documents, look at their size and format before relying on them.
3. Plan the steps before running anything long.
4. Write code to a file (for example {{working_dir}}/solve.py) and run it; fix it and run it
   again until the result is right. Prefer running code to working things out in your head.
5. Write the final answer to {{answer_file}}, then call submit.

# Tools
- execute_bash runs one command in a fresh bash shell in {{working_dir}}; long output is cut,
  so print what you need, and write large results to files.
- str_replace_editor views, creates and edits files (view, create, str_replace, insert);
  paths are absolute.
- submit ends the task. Call it only after {{answer_file}} holds your answer.

# Approaches that work
- Use libraries rather than writing everything yourself, and install what is missing
  (pip install, apt-get install) when the sandbox has network access.
- Compute, simulate, search and count with code; check a result a second way when you can.
- Search documents with grep, or load them in Python, instead of reading long files whole.

# Rules
- Derive the answer by computation or from the documents. Do not hard-code an answer you
  guessed, and do not do the reasoning in code comments: code must compute.`;

const SANDBOX_USER = `{{question}}

{{documents_note}}{{output_instructions}}`;

const LLM_SYSTEM = `{{role}}`;

const LLM_USER = `{{documents}}{{question}}

{{output_instructions}}`;

const ROLES: Record<string, string> = {
  math: "You are an expert mathematician who solves competition problems rigorously.",
  physics: "You are an expert physicist who solves problems with careful derivation and units.",
  chemistry: "You are an expert chemist who answers questions with precise chemical reasoning.",
  biomedicine:
    "You are an expert in medicine and the life sciences who answers clinical and biological questions carefully.",
  long_context:
    "You are a meticulous analyst who answers questions from long documents, finding and combining the facts they contain.",
  instruction_following:
    "You are a careful writer who follows every instruction about content and format exactly.",
  general:
    "You are a careful reader who answers questions from the given documents, and only from them.",
  default: "You are a capable assistant who solves problems carefully.",
};

const SANDBOX_OUTPUT: Record<OutputKind, string> = {
  math: "Write only the final answer to {{answer_file}}, in the form \\boxed{...}, with no other text.",
  physics:
    "Write only the final answer to {{answer_file}}, in the form \\boxed{...}, with no other text. If the problem asks for several quantities, put them in one box in the order asked, separated by commas, e.g. \\boxed{a, b}.",
  numeric:
    "Write only the final number to {{answer_file}}, with no units and no other text unless the question asks for them.",
  single_choice:
    "Write only the letter of the correct option to {{answer_file}} (for example: B), with no other text.",
  multiple_choice:
    "Write the letters of all correct options to {{answer_file}}, separated by commas and a space (for example: A, C, D), with no other text.",
  open_ended:
    "Write only the answer to {{answer_file}}: a short phrase or number, plain text, no explanation.",
  instruction_following:
    "Write your complete response to {{answer_file}}, exactly as it should be read: it is checked against every instruction in the task, so add nothing else to the file.",
};

const LLM_OUTPUT: Record<OutputKind, string> = {
  math: "Reason step by step, and put your final answer within \\boxed{}.",
  physics:
    "Reason step by step, and put your final answer within \\boxed{}. If the problem asks for several quantities, put them in one box in the order asked, separated by commas, e.g. \\boxed{a, b}.",
  numeric: "Reason step by step, and end with a final line of the form 'Answer: NUMBER'.",
  single_choice:
    "Think it through, and end with a final line of the form 'Answer: X', where X is the letter of the correct option.",
  multiple_choice:
    "Think it through, and end with a final line of the form 'Answer: A, C, D', listing the letters of all correct options.",
  open_ended:
    "Think it through, and end with a final line of the form 'Answer: ...' giving only the answer, a short phrase or number.",
  instruction_following: "",
};

export const DEFAULT_TEMPLATES: PromptTemplates = {
  sandboxSystem: SANDBOX_SYSTEM,
  sandboxUser: SANDBOX_USER,
  llmSystem: LLM_SYSTEM,
  llmUser: LLM_USER,
  roles: ROLES,
  sandboxOutput: SANDBOX_OUTPUT,
  llmOutput: LLM_OUTPUT,
};

/** Which placeholders each template may use; a template file using any other is rejected. */
const PLACEHOLDERS = {
  sandboxSystem: ["role", "working_dir", "documents_dir", "answer_file", "output_dir", "domain"],
  sandboxUser: [
    "question",
    "documents_note",
    "output_instructions",
    "working_dir",
    "documents_dir",
    "answer_file",
    "output_dir",
    "domain",
  ],
  llmSystem: ["role", "domain"],
  llmUser: ["documents", "question", "output_instructions", "domain"],
} as const;

const OUTPUT_PLACEHOLDERS = ["answer_file", "working_dir", "output_dir", "documents_dir"];

/** Replaces `{{name}}` from `values`; a name not in `values` is left for `checkPlaceholders`. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (match, name: string) => values[name] ?? match);
}

/** The kind of output instruction for a task: physics math answers get the multi-part form. */
export function outputKind(task: Pick<Task, "domain" | "answerType">): OutputKind {
  return task.domain === "physics" && task.answerType === "math" ? "physics" : task.answerType;
}

/** The documents as numbered blocks, for plain LLM mode. */
export function inlineDocuments(documents: Record<string, string>): string {
  return Object.entries(documents)
    .map(
      ([name, text], index) =>
        `[BEGIN DOCUMENT ${index + 1}: ${name}]\n${text}\n[END DOCUMENT ${index + 1}]\n\n`,
    )
    .join("");
}

function documentsNote(documents: Record<string, string>): string {
  const names = Object.keys(documents);
  if (names.length === 0) return "";
  const listed = names.map((name) => `- ${SANDBOX_PATHS.documentsDir}/${name}`).join("\n");
  return `All the documents for this task are in ${SANDBOX_PATHS.documentsDir}/:\n${listed}\n\n`;
}

export function buildPrompt(
  task: Task,
  mode: PromptMode,
  templates: PromptTemplates = DEFAULT_TEMPLATES,
): Prompt {
  const paths = {
    working_dir: SANDBOX_PATHS.workingDir,
    documents_dir: SANDBOX_PATHS.documentsDir,
    answer_file: SANDBOX_PATHS.answerFile,
    output_dir: SANDBOX_PATHS.outputDir,
  };
  const kind = outputKind(task);
  const role = templates.roles[task.domain] ?? templates.roles.default ?? "";
  const common = { role, domain: task.domain, question: task.question.trim() };
  if (mode === "sandbox") {
    const values = {
      ...common,
      ...paths,
      documents_note: documentsNote(task.documents),
      output_instructions: fill(templates.sandboxOutput[kind], paths),
    };
    return {
      system: fill(templates.sandboxSystem, values).trim(),
      user: fill(templates.sandboxUser, values).trim(),
    };
  }
  const values = {
    ...common,
    documents: inlineDocuments(task.documents),
    output_instructions: templates.llmOutput[kind],
  };
  return {
    system: fill(templates.llmSystem, values).trim(),
    user: fill(templates.llmUser, values).trim(),
  };
}

/** A prompt template file that cannot be used: which file, what is wrong, the fix. */
export class PromptTemplateError extends UserError {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** Template file names in a prompts directory, and the template each replaces. */
export const TEMPLATE_FILES = {
  "sandbox-system.md": "sandboxSystem",
  "sandbox-user.md": "sandboxUser",
  "llm-system.md": "llmSystem",
  "llm-user.md": "llmUser",
} as const;

const outputKinds = Object.keys(SANDBOX_OUTPUT) as OutputKind[];
const tablesSchema = z
  .object({
    roles: z.record(z.string(), z.string()).optional(),
    sandboxOutput: z.partialRecord(z.enum(outputKinds), z.string()).optional(),
    llmOutput: z.partialRecord(z.enum(outputKinds), z.string()).optional(),
  })
  .strict();

function checkPlaceholders(file: string, text: string, allowed: readonly string[]): void {
  for (const [, name] of text.matchAll(/\{\{(\w+)\}\}/g)) {
    if (!allowed.includes(name!)) {
      throw new PromptTemplateError(
        file,
        `unknown placeholder {{${name}}}; this template can use ${allowed.map((known) => `{{${known}}}`).join(", ")}`,
      );
    }
  }
}

/**
 * Our templates with any of them replaced from `directory`: `sandbox-system.md`,
 * `sandbox-user.md`, `llm-system.md`, `llm-user.md`, and `prompts.json` holding `roles`,
 * `sandboxOutput` and `llmOutput` tables (entries replace ours one by one). Unknown files,
 * unknown placeholders and a user template without `{{question}}` are rejected.
 */
export async function loadPromptTemplates(directory: string): Promise<PromptTemplates> {
  const templates: PromptTemplates = {
    ...DEFAULT_TEMPLATES,
    roles: { ...ROLES },
    sandboxOutput: { ...SANDBOX_OUTPUT },
    llmOutput: { ...LLM_OUTPUT },
  };
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    throw new PromptTemplateError(
      directory,
      `cannot read the prompts directory (${(error as Error).message})`,
    );
  }
  const known = [...Object.keys(TEMPLATE_FILES), "prompts.json"];
  for (const name of entries) {
    const file = join(directory, name);
    if (!known.includes(name)) {
      throw new PromptTemplateError(file, `is not a prompt file; use ${known.join(", ")}`);
    }
    const text = await readFile(file, "utf8");
    if (name === "prompts.json") {
      let parsed: z.infer<typeof tablesSchema>;
      try {
        parsed = tablesSchema.parse(JSON.parse(text));
      } catch (error) {
        const detail =
          error instanceof z.ZodError
            ? error.issues
                .map((issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`)
                .join("; ")
            : (error as Error).message;
        throw new PromptTemplateError(
          file,
          `${detail}; it holds {"roles": {domain: text}, "sandboxOutput": {kind: text}, "llmOutput": {kind: text}} with kinds ${outputKinds.join(", ")}`,
        );
      }
      Object.assign(templates.roles, parsed.roles);
      Object.assign(templates.sandboxOutput, parsed.sandboxOutput);
      Object.assign(templates.llmOutput, parsed.llmOutput);
      for (const output of Object.values(parsed.sandboxOutput ?? {}))
        checkPlaceholders(file, output, OUTPUT_PLACEHOLDERS);
      continue;
    }
    const key = TEMPLATE_FILES[name as keyof typeof TEMPLATE_FILES];
    checkPlaceholders(file, text, PLACEHOLDERS[key]);
    if (key.endsWith("User") && !text.includes("{{question}}")) {
      throw new PromptTemplateError(
        file,
        "has no {{question}}; a user template must place the question",
      );
    }
    templates[key] = text;
  }
  return templates;
}
