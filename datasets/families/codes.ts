/**
 * The "codes" task family: a document `code.txt` holds a one-digit code and the question asks for
 * it. Answers vary over ten values (chance 10%), so no constant answer scores: a policy must
 * read the task. In plain LLM mode the document is inlined in the prompt; in sandbox mode it is
 * only in /testbed/documents/, so an answer above chance needs the tools (read the file, write
 * the answer, submit). The family the tiny demonstration policy learns on
 * (trainer-bridge/python/examples/tiny/); deterministic for a seed.
 *
 * @example
 * const tasks = codeTasks({ count: 64, seed: 1, prefix: "train" });
 */
import { writeFileSync } from "node:fs";
import { seededRandom } from "../schedule.js";
import type { Task } from "../task.js";

export const CODE_QUESTION = "What is the code in code.txt?";
export const CODE_DOCUMENT = "code.txt";
export const CODE_DOMAIN = "math";

/** `count` tasks, ids `<prefix>-<index>`, each code drawn uniformly from 0..9. */
export function codeTasks(options: { count: number; seed: number; prefix: string }): Task[] {
  const next = seededRandom(options.seed);
  return Array.from({ length: options.count }, (_, index) => {
    const code = String(Math.floor(next() * 10));
    return {
      id: `${options.prefix}-${index}`,
      domain: CODE_DOMAIN,
      question: CODE_QUESTION,
      documents: { [CODE_DOCUMENT]: `${code}\n` },
      groundTruth: code,
      answerType: "math",
      instructions: [],
      scorerOptions: {},
      metadata: { family: "codes" },
    };
  });
}

/** Writes `codeTasks(options)` to `path` as JSONL, one task a line; returns the tasks. */
export function writeCodeTasks(
  path: string,
  options: { count: number; seed: number; prefix: string },
): Task[] {
  const tasks = codeTasks(options);
  writeFileSync(path, tasks.map((task) => `${JSON.stringify(task)}\n`).join(""));
  return tasks;
}
