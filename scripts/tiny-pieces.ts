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

export function tinyPieces(): { texts: string[]; tools: unknown[] } {
  const [task] = codeTasks({ count: 1, seed: 1, prefix: "pieces" });
  const sandbox = buildPrompt(task!, "sandbox");
  const llm = buildPrompt(task!, "llm");
  const call = (name: string, args: string) =>
    `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`;
  const answerFile = "/testbed/answer.txt";
  const texts = [
    sandbox.system,
    sandbox.user,
    llm.system,
    ...around(llm.user, `\n${task!.groundTruth}\n`),
    "Exit code: 0\n[stdout]\n",
    "\n\n[Steps remaining: ",
    NO_TOOL_CALL_REMINDER,
    call("execute_bash", '{"command": "cat /testbed/documents/code.txt"}'),
    `<tool_call>\n{"name": "execute_bash", "arguments": {"command": "echo '\\\\boxed{`,
    `}' > ${answerFile}"}}\n</tool_call>`,
    call("submit", "{}"),
    "\\boxed{",
    "}",
    ..."0123456789",
    "\n",
  ];
  return { texts: [...new Set(texts)].filter((text) => text !== ""), tools: toolDefinitions() };
}

if (process.argv[1]?.endsWith("tiny-pieces.ts"))
  process.stdout.write(`${JSON.stringify(tinyPieces(), null, 2)}\n`);
