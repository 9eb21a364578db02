/**
 * A recorded solution of one bundled sample task (datasets/samples/), replayed by the stub policy
 * server (a test double, never a model) for the demo and the tests. Sandbox mode replays real
 * tool calls that solve the task inside the sandbox: where the answer can be computed or found
 * (math, physics, calculations and look-ups over the documents, instruction checks), the answer
 * file is written by the commands that compute or find it. For pure-knowledge choice questions
 * (most of biomedicine, one of chemistry) and one reading question, a reasoning turn names the
 * letter and a command writes it. Plain LLM mode replays one written response ending in an
 * `Answer:` line.
 *
 * @example
 * const solution: RecordedSolution = {
 *   id: "math-001",
 *   sandbox: [
 *     create("/testbed/solve.py", "print(sum(1 for n in range(1, 1001) if (n*n+n+1) % 7 == 0))\n"),
 *     bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
 *     submit(),
 *   ],
 *   llm: "n^2+n+1 = 0 (mod 7) for n = 2, 4 (mod 7): 143 + 143.\n\nAnswer: \\boxed{286}",
 * };
 */
import type { ScriptTurn } from "../scripts.js";

export interface RecordedSolution {
  /** The sample task's id, e.g. `math-001`. */
  id: string;
  /** The assistant turns in sandbox mode, in order; the last one calls `submit`. */
  sandbox: ScriptTurn[];
  /** The response in plain LLM mode. */
  llm: string;
}

/** A turn running one shell command, with the reasoning that precedes it. */
export function bash(command: string, reasoning?: string): ScriptTurn {
  return {
    ...(reasoning ? { reasoning } : {}),
    toolCalls: [{ name: "execute_bash", arguments: JSON.stringify({ command }) }],
  };
}

/** A turn creating a file with str_replace_editor. */
export function create(path: string, fileText: string, reasoning?: string): ScriptTurn {
  return {
    ...(reasoning ? { reasoning } : {}),
    toolCalls: [
      {
        name: "str_replace_editor",
        arguments: JSON.stringify({ command: "create", path, file_text: fileText }),
      },
    ],
  };
}

/** The closing turn. */
export function submit(content = "The answer is in /testbed/answer.txt."): ScriptTurn {
  return { content, toolCalls: [{ name: "submit", arguments: "{}" }] };
}
