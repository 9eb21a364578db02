/** Runs the real `sandfarm` CLI from source in a child process, for CLI tests. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI_ENTRY = fileURLToPath(new URL("../orchestrator/cli/main.ts", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  pid: number;
}

export function sandfarm(...args: string[]): Promise<CliRun> {
  return sandfarmWithEnv(process.env, ...args);
}

/** The CLI with exactly this environment (e.g. to show which variables it reads). */
export function sandfarmWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", CLI_ENTRY, ...args],
      { timeout: 120_000, env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, pid: child.pid ?? -1 });
      },
    );
  });
}

/** `sandfarm eval` in plain LLM mode over `tasks` against one policy: the arguments. */
export function llmEvalArgs(
  tasks: string,
  policyUrl: string,
  outputDir: string,
  ...extra: string[]
): string[] {
  return [
    "eval",
    "--tasks",
    tasks,
    "--mode",
    "llm",
    "--policy-url",
    policyUrl,
    "--model",
    "stub-model",
    "--output-dir",
    outputDir,
    ...extra,
  ];
}
