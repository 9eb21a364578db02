/**
 * The three tools as OpenAI function schemas, and zod schemas for their arguments. Names and
 * parameters are the contract models are trained on (method-facts.md); the wording is ours.
 */
import { z } from "zod";

export const EXECUTE_BASH = "execute_bash";
export const STR_REPLACE_EDITOR = "str_replace_editor";
export const SUBMIT = "submit";

export const EDITOR_COMMANDS = ["view", "create", "str_replace", "insert"] as const;
export const EDITOR_COMMANDS_WITH_UNDO = [...EDITOR_COMMANDS, "undo_edit"] as const;

/** An OpenAI `tools` entry. */
export interface FunctionTool {
  type: "function";
  function: {
    name: string;
    description: string;
    parameters: Record<string, unknown>;
  };
}

export interface ToolOptions {
  /** Offer `undo_edit` in the editor (the reference does not). @default false */
  enableUndoEdit?: boolean;
}

export function toolDefinitions(options: ToolOptions = {}): FunctionTool[] {
  const commands = options.enableUndoEdit ? EDITOR_COMMANDS_WITH_UNDO : EDITOR_COMMANDS;
  return [
    {
      type: "function",
      function: {
        name: EXECUTE_BASH,
        description:
          "Run a bash command in the sandbox (a Linux machine with Python and common tools). " +
          "Each call starts a fresh shell in /testbed: files persist between calls, the working " +
          "directory and environment variables do not. Long-running commands are killed at the " +
          "timeout; start servers in the background with '&'. Long output is cut in the middle, " +
          "so write big results to a file and inspect them with grep, head or tail.",
        parameters: {
          type: "object",
          properties: {
            command: { type: "string", description: "The bash command to run." },
          },
          required: ["command"],
        },
      },
    },
    {
      type: "function",
      function: {
        name: STR_REPLACE_EDITOR,
        description:
          "View, create and edit files in the sandbox, byte for byte.\n" +
          "- view: show a file with line numbers (like cat -n), or list a directory two levels deep.\n" +
          "- create: write a new file with file_text; fails if the file exists.\n" +
          "- str_replace: replace old_str, which must occur exactly once, with new_str.\n" +
          "- insert: insert new_str after line insert_line (0 inserts at the top).\n" +
          (options.enableUndoEdit ? "- undo_edit: revert the last edit of the file.\n" : "") +
          "Paths are absolute, e.g. /testbed/solve.py.",
        parameters: {
          type: "object",
          properties: {
            command: { type: "string", enum: [...commands], description: "The operation." },
            path: { type: "string", description: "Absolute path of the file or directory." },
            file_text: { type: "string", description: "Content of the new file (create)." },
            old_str: { type: "string", description: "Exact text to replace (str_replace)." },
            new_str: {
              type: "string",
              description:
                "Replacement text (str_replace, may be empty) or text to insert (insert).",
            },
            insert_line: {
              type: "integer",
              description: "Line after which new_str is inserted; 0 for the top (insert).",
            },
            view_range: {
              type: "array",
              items: { type: "integer" },
              description:
                "[start, end] lines to view, 1-based and inclusive; end -1 means the last line.",
            },
          },
          required: ["command", "path"],
        },
      },
    },
    {
      type: "function",
      function: {
        name: SUBMIT,
        description:
          "Finish the task. Write your final answer to /testbed/answer.txt before calling this; " +
          "it is read from that file.",
        parameters: { type: "object", properties: {}, required: [] },
      },
    },
  ];
}

export const executeBashArgs = z.object({ command: z.string() });

export const editorArgs = z.object({
  command: z.enum(EDITOR_COMMANDS_WITH_UNDO),
  path: z.string().min(1),
  file_text: z.string().optional(),
  old_str: z.string().optional(),
  new_str: z.string().optional(),
  insert_line: z.number().int().optional(),
  view_range: z.array(z.number().int()).length(2).optional(),
});

export type EditorArgs = z.infer<typeof editorArgs>;
