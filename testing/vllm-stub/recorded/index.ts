/**
 * The `recorded` script of the stub policy server (a test double, never a model): it recognises
 * which bundled sample task a conversation is about (by the task's question in the first user
 * message) and replays that task's recorded solution, the sandbox turns when the system prompt
 * describes the sandbox and the written response otherwise. A conversation about any other task
 * gets a turn saying there is no recording, then submits.
 *
 * With `cutEveryOther` (the `recorded-rl` script, for training demos) the k-th conversation of a
 * task, counted at its first call, replays the recording when k is even and gives up at once
 * when k is odd (submits with no answer file; says it cannot tell in plain mode), so a group of
 * rollouts of one task has rewards that differ.
 *
 * @example
 * const stub = await startVllmStub({ scripts: { recorded: recordedScript() }, defaultScript: "recorded" });
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SUBMIT_TURN, type Script, type ScriptTurn } from "../scripts.js";
import { type RunningVllmStub, startVllmStub } from "../server.js";
import { type ChatMessage, contentText } from "../template.js";
import { biomedicineSolutions } from "./biomedicine.js";
import { chemistrySolutions } from "./chemistry.js";
import { generalSolutions } from "./general.js";
import { instructionFollowingSolutions } from "./instruction-following.js";
import { longContextSolutions } from "./long-context.js";
import { mathSolutions } from "./math.js";
import { physicsSolutions } from "./physics.js";
import type { RecordedSolution } from "./types.js";

export type { RecordedSolution } from "./types.js";

export const RECORDED_SOLUTIONS: readonly RecordedSolution[] = [
  ...mathSolutions,
  ...physicsSolutions,
  ...chemistrySolutions,
  ...biomedicineSolutions,
  ...instructionFollowingSolutions,
  ...generalSolutions,
  ...longContextSolutions,
];

export const SAMPLES_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../../datasets/samples",
);

/** Turns a replayed sandbox conversation may take; past its recording, the stub submits. */
const MAX_REPLAYED_TURNS = 64;

interface Recognised {
  solution: RecordedSolution | undefined;
  taskId: string | undefined;
}

/** The bundled samples' questions, by task id (each file's rows, read once). */
function sampleQuestions(): Map<string, string> {
  const questions = new Map<string, string>();
  for (const name of readdirSync(SAMPLES_DIR)
    .filter((file) => file.endsWith(".jsonl"))
    .sort()) {
    for (const line of readFileSync(join(SAMPLES_DIR, name), "utf8").split("\n")) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { id: string; question: string };
      questions.set(row.id, row.question);
    }
  }
  return questions;
}

export interface RecordedScriptOptions {
  solutions?: readonly RecordedSolution[];
  /** Cut every other conversation of a task short. @default false */
  cutEveryOther?: boolean;
}

/** The turn of a conversation that gives up. */
export const GIVE_UP: Record<"sandbox" | "llm", ScriptTurn> = {
  sandbox: {
    content: "I could not work this one out; submitting without an answer.",
    toolCalls: SUBMIT_TURN.toolCalls!,
  },
  llm: { content: "I cannot tell from what I have." },
};

/** A fresh `recorded` script (it keeps a cache of the conversations it has recognised). */
export function recordedScript(options: RecordedScriptOptions = {}): Script {
  const solutions = options.solutions ?? RECORDED_SOLUTIONS;
  const starts = new Map<string, number>();
  const byId = new Map(solutions.map((solution) => [solution.id, solution]));
  const questions = [...sampleQuestions()];
  const seen = new Map<string, Recognised>();
  const recognise = (messages: readonly ChatMessage[]): Recognised => {
    const user = contentText(messages.find((message) => message.role === "user")?.content ?? "");
    const cached = seen.get(user);
    if (cached) return cached;
    // The longest question that the message contains, so a question that is a prefix of
    // another's cannot shadow it.
    let taskId: string | undefined;
    let length = 0;
    for (const [id, question] of questions) {
      if (question.length > length && user.includes(question))
        [taskId, length] = [id, question.length];
    }
    const found = { solution: taskId === undefined ? undefined : byId.get(taskId), taskId };
    if (seen.size > 1024) seen.clear();
    seen.set(user, found);
    return found;
  };
  const step = (messages: readonly ChatMessage[], turnIndex: number): ScriptTurn => {
    const sandbox = messages.some(
      (message) => message.role === "system" && contentText(message.content).includes("/testbed"),
    );
    const { solution, taskId } = recognise(messages);
    if (!solution) {
      const note = `The stub has no recorded solution for ${taskId ?? "this task (not a bundled sample)"}.`;
      return sandbox ? { content: note, toolCalls: SUBMIT_TURN.toolCalls! } : { content: note };
    }
    if (options.cutEveryOther && turnIndex === 0) {
      const key = contentText(messages.find((message) => message.role === "user")?.content ?? "");
      const count = starts.get(key) ?? 0;
      starts.set(key, count + 1);
      if (count % 2 === 1) return GIVE_UP[sandbox ? "sandbox" : "llm"];
    }
    if (!sandbox) return { content: solution.llm };
    return solution.sandbox[turnIndex] ?? SUBMIT_TURN;
  };
  return Array.from({ length: MAX_REPLAYED_TURNS }, () => step);
}

/**
 * The stub policy server with a `recorded` script as its default, and a context (2^20 tokens)
 * that holds plain-mode long-context prompts in the stub tokenizer's units.
 */
export function startRecordedStub(options: RecordedScriptOptions = {}): Promise<RunningVllmStub> {
  return startVllmStub({
    scripts: { recorded: recordedScript(options) },
    defaultScript: "recorded",
    maxModelLen: 1 << 20,
  });
}
