/**
 * Runs a model's tool call against one sandbox and returns the observation. Every way a call can
 * be wrong (unknown tool, bad JSON, missing or mistyped fields) becomes an observation that tells
 * the model what to send instead; only sandbox losses and infrastructure failures throw.
 *
 * @example
 * const toolbox = new Toolbox(sandbox);
 * const outcome = await toolbox.execute({ name: "execute_bash", arguments: '{"command":"ls"}' });
 */
import type { z } from "zod";
import type { ExecResult, Sandbox } from "../sandbox/types.js";
import {
  EXECUTE_BASH,
  STR_REPLACE_EDITOR,
  SUBMIT,
  type FunctionTool,
  type ToolOptions,
  editorArgs,
  executeBashArgs,
  toolDefinitions,
} from "./definitions.js";
import { FileEditor, clipEditorOutput } from "./editor.js";
import { type BashObservationOptions, runExecuteBash } from "./execute-bash.js";

/** A tool call as a model sent it; `arguments` is the raw JSON string from the API. */
export interface ToolCall {
  name: string;
  arguments: string;
}

export interface ToolOutcome {
  observation: string;
  /** The call was invalid or failed; the observation says how to fix it. */
  isError: boolean;
  /** The model called `submit`. */
  submitted: boolean;
  /** The command's raw result, for `execute_bash` calls that ran. */
  exec?: ExecResult;
}

export interface ToolboxOptions extends ToolOptions, BashObservationOptions {
  /** Per-command timeout for `execute_bash`. @default 120 */
  commandTimeoutS?: number;
}

function invalid(observation: string): ToolOutcome {
  return { observation: clipEditorOutput(observation), isError: true, submitted: false };
}

function describeIssues(tool: string, error: z.ZodError): string {
  const problems = error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join(".") : "arguments";
    return `${field}: ${issue.message}`;
  });
  return `Invalid arguments for ${tool}: ${problems.join("; ")}. Check the tool's parameters and call it again.`;
}

export class Toolbox {
  readonly definitions: FunctionTool[];
  private readonly editor: FileEditor;
  private readonly names: Set<string>;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly options: ToolboxOptions = {},
  ) {
    this.definitions = toolDefinitions(options);
    this.names = new Set(this.definitions.map((tool) => tool.function.name));
    this.editor = new FileEditor(sandbox, { enableUndoEdit: options.enableUndoEdit ?? false });
  }

  async execute(call: ToolCall): Promise<ToolOutcome> {
    if (!this.names.has(call.name)) {
      return invalid(
        `There is no tool named '${call.name}'. Call one of: ${[...this.names].join(", ")}.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
    } catch (error) {
      return invalid(
        `The arguments of ${call.name} are not valid JSON (${(error as Error).message}). Send a JSON object, e.g. {"command": "ls"}.`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return invalid(
        `The arguments of ${call.name} must be a JSON object, e.g. {"command": "ls"}.`,
      );
    }
    switch (call.name) {
      case EXECUTE_BASH: {
        const args = executeBashArgs.safeParse(parsed);
        if (!args.success) return invalid(describeIssues(call.name, args.error));
        if (args.data.command.trim() === "")
          return invalid("The command is empty. Send the bash command to run.");
        const timeoutS = this.options.commandTimeoutS ?? 120;
        const { observation, result } = await runExecuteBash(
          this.sandbox,
          args.data.command,
          timeoutS,
          this.options,
        );
        return { observation, isError: false, submitted: false, exec: result };
      }
      case STR_REPLACE_EDITOR: {
        const args = editorArgs.safeParse(parsed);
        if (!args.success) return invalid(describeIssues(call.name, args.error));
        if (args.data.command === "undo_edit" && !this.options.enableUndoEdit) {
          return invalid("undo_edit is not enabled. Use view, create, str_replace or insert.");
        }
        const result = await this.editor.run(args.data);
        return { ...result, submitted: false };
      }
      case SUBMIT:
        return {
          observation: "Submitted. The answer is read from /testbed/answer.txt.",
          isError: false,
          submitted: true,
        };
    }
    return invalid(`There is no tool named '${call.name}'.`);
  }
}
