/**
 * Writes the tiny demonstration policy's vocabulary pieces
 * (trainer-bridge/python/examples/tiny/pieces.json): the texts the farm sends for the "codes"
 * task family (both modes' prompts, the observation's fixed parts, the reminder) and the texts
 * the policy writes (its three tool calls, the boxed answer, the digits), plus sandfarm's tool
 * definitions, from which the tiny chat template renders its tools block. Each piece becomes one
 * token; anything else is spelled with byte-fallback tokens. A test keeps the file current.
 *
 * @example
 * npx tsx scripts/tiny-pieces.ts > trainer-bridge/python/examples/tiny/pieces.json
 */
import { buildPrompt } from "../datasets/prompts.js";
import { codeTasks } from "../datasets/families/codes.js";
import { NO_TOOL_CALL_REMINDER } from "../orchestrator/agent/episode.js";
import { toolDefinitions } from "../orchestrator/tools/definitions.js";

/** The split points of a text around its task's code digit. */
function around(text: string, code: string): string[] {
  const at = text.indexOf(code);
  if (at < 0) return [text];
  return [text.slice(0, at), text.slice(at + code.length)];
}

/** The conversations' fixed parts, for the warm start's transcripts (examples/tiny/pretrain.py). */
export interface TinyPrompts {
  sandbox: { system: string; user: string };
  /** The plain-mode user message is `userBefore + "\n" + code + "\n" + userAfter`. */
  llm: { system: string; userBefore: string; userAfter: string };
  /** An execute_bash observation is `observation + stdout + stepsRemaining + N + "]"`. */
  observation: string;
  stepsRemaining: string;
  /** The policy's three tool calls: read the document, write the answer, submit. */
  calls: { read: string; answerBefore: string; answerAfter: string; submit: string };
  /** The plain-mode answer is `boxedBefore + digit + boxedAfter`. */
  boxedBefore: string;
  boxedAfter: string;
}

export function tinyPieces(): { texts: string[]; tools: unknown[]; prompts: TinyPrompts } {
  const [task] = codeTasks({ count: 1, seed: 1, prefix: "pieces" });
  const sandbox = buildPrompt(task!, "sandbox");
  const llm = buildPrompt(task!, "llm");
  const call = (name: string, args: string) =>
    `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`;
  const answerFile = "/testbed/answer.txt";
  const [userBefore, userAfter] = around(llm.user, `\n${task!.groundTruth}\n`);
  const prompts: TinyPrompts = {
    sandbox,
    llm: { system: llm.system, userBefore: userBefore!, userAfter: userAfter! },
    observation: "Exit code: 0\n[stdout]\n",
    stepsRemaining: "\n\n[Steps remaining: ",
    calls: {
      read: call("execute_bash", '{"command": "cat /testbed/documents/code.txt"}'),
      answerBefore: `<tool_call>\n{"name": "execute_bash", "arguments": {"command": "echo '\\\\boxed{`,
      answerAfter: `}' > ${answerFile}"}}\n</tool_call>`,
      submit: call("submit", "{}"),
    },
    boxedBefore: "\\boxed{",
    boxedAfter: "}",
  };
  const texts = [
    prompts.sandbox.system,
    prompts.sandbox.user,
    prompts.llm.system,
    prompts.llm.userBefore,
    prompts.llm.userAfter,
    prompts.observation,
    "(no output)",
    prompts.stepsRemaining,
    NO_TOOL_CALL_REMINDER,
    ...Object.values(prompts.calls),
    prompts.boxedBefore,
    prompts.boxedAfter,
    ..."0123456789",
    "\n",
  ];
  return {
    texts: [...new Set(texts)].filter((text) => text !== ""),
    tools: toolDefinitions(),
    prompts,
  };
}

if (process.argv[1]?.endsWith("tiny-pieces.ts"))
  process.stdout.write(`${JSON.stringify(tinyPieces(), null, 2)}\n`);
