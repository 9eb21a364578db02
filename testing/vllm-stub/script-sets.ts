/**
 * Named script sets for running the stub policy server (a test double) as its own process:
 * `bench` (long episodes of trivial commands, for `npm run bench -- episode`), `demo` (a task
 * solved the way the method intends: write code to a file, run it, write the answer file; with
 * the `rl` scripts too, for the demo's training run), `rl` (groups with reward variance, for
 * `sandfarm train`'s tests and `npm run bench -- farm`) and `recorded` (the recorded solutions of
 * the bundled samples, `recorded/`: `recorded` replays them, `recorded-rl` cuts every other
 * conversation of a task short, for a training demo with reward variance).
 */
import { recordedScript } from "./recorded/index.js";
import type { Script } from "./scripts.js";
import { type ChatMessage, contentText } from "./template.js";

const bash = (command: string) => ({
  name: "execute_bash",
  arguments: JSON.stringify({ command }),
});

/** `bench-N`: N-1 turns of `true`, then one that writes the answer; submit follows. */
function benchScript(turns: number): Script {
  return [
    ...Array.from({ length: turns - 1 }, (_, turn) => ({ toolCalls: [bash(`true # ${turn}`)] })),
    { toolCalls: [bash("echo done > /testbed/answer.txt")] },
  ];
}

/** The first stdout line of the latest tool result. */
function lastOutput(messages: readonly ChatMessage[]): string {
  const tool = messages.findLast((message) => message.role === "tool");
  const text = typeof tool?.content === "string" ? tool.content : "";
  return /\[stdout\]\n(.*)/.exec(text)?.[1]?.trim() ?? "";
}

const demoMath: Script = [
  {
    reasoning: "I will compute it with a short Python script rather than by hand.",
    toolCalls: [
      {
        name: "str_replace_editor",
        arguments: JSON.stringify({
          command: "create",
          path: "/testbed/solve.py",
          file_text: "print(pow(2, 100, 7))\n",
        }),
      },
    ],
  },
  { reasoning: "Run it.", toolCalls: [bash("python3 /testbed/solve.py")] },
  (messages) => ({
    reasoning: `The script printed ${lastOutput(messages)}.`,
    toolCalls: [bash(`echo '\\boxed{${lastOutput(messages)}}' > /testbed/answer.txt`)],
  }),
  {
    content: "The answer is in /testbed/answer.txt.",
    toolCalls: [{ name: "submit", arguments: "{}" }],
  },
];

/** The `[answer:X]` marker of a conversation's task: the right answer the stub gives or misses. */
function markedAnswer(messages: readonly ChatMessage[]): string {
  for (const message of messages) {
    const text = typeof message.content === "string" ? message.content : "";
    const found = /\[answer:([^\]]+)\]/.exec(text)?.[1];
    if (found !== undefined) return found;
  }
  return "";
}

/**
 * `rl-N`: the k-th conversation of a task (counted at its first call, across the stub's life)
 * answers right when k is even and wrong (the right answer + 1) when odd, so any G consecutive
 * rollouts of one task, a group, get rewards that differ, half of them 1. Sandbox mode: the
 * first turn writes the answer file, N-1 turns of `true` follow, then submit. Plain LLM mode (no
 * tools offered): the answer as the response.
 */
function rlScript(turns: number): Script {
  const seen = new Map<string, number>();
  return [
    (messages) => {
      const key = messages.map((message) => contentText(message.content)).join("\n");
      const count = seen.get(key) ?? 0;
      seen.set(key, count + 1);
      const truth = markedAnswer(messages);
      const answer = count % 2 === 0 ? truth : String(Number(truth) + 1);
      const sandbox = messages.some(
        (message) => message.role === "system" && contentText(message.content).includes("/testbed"),
      );
      if (!sandbox) return { content: `The answer is \\boxed{${answer}}.` };
      return { toolCalls: [bash(`printf '%s' '${answer}' > /testbed/answer.txt`)] };
    },
    ...Array.from({ length: turns - 1 }, (_, turn) => ({ toolCalls: [bash(`true # ${turn}`)] })),
  ];
}

/** `rl-tie`: every rollout answers right, so its groups tie and are dropped. */
const rlTie: Script = [
  (messages) => ({
    toolCalls: [bash(`printf '%s' '${markedAnswer(messages)}' > /testbed/answer.txt`)],
  }),
];

const rlScripts: Record<string, Script> = {
  "rl-1": rlScript(1),
  "rl-3": rlScript(3),
  "rl-10": rlScript(10),
  "rl-20": rlScript(20),
  "rl-40": rlScript(40),
  "rl-80": rlScript(80),
  "rl-tie": rlTie,
};

export const SCRIPT_SETS: Record<string, Record<string, Script>> = {
  bench: { "bench-50": benchScript(50), "bench-20": benchScript(20), "bench-10": benchScript(10) },
  demo: { "demo-math": demoMath, ...rlScripts },
  rl: rlScripts,
  recorded: {
    recorded: recordedScript(),
    "recorded-rl": recordedScript({ cutEveryOther: true }),
  },
};
