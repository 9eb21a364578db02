/** The stub policy server (a test double) in its own process, for benchmarks. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * Starts `testing/vllm-stub/main.ts` with `args`; resolves with its base URL once it listens.
 * `detached` puts it in its own session (and so its own scheduling autogroup).
 */
export async function startStubProcess(
  args: readonly string[],
  options: { detached?: boolean } = {},
): Promise<{ baseURL: string; child: ChildProcess }> {
  const main = fileURLToPath(new URL("../testing/vllm-stub/main.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: options.detached ?? false,
  });
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  return { baseURL: (JSON.parse(line) as { baseURL: string }).baseURL, child };
}
