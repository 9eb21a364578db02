/**
 * Test support: the tiny real policy (trainer-bridge/python/examples/tiny/) served over vLLM's
 * wire format by its Python server, started on a free port with Debian's /usr/bin/python3 (which
 * has torch), stopped with `close()`.
 *
 * @example
 * const tiny = await startTinyServer({ weights: "ckpt/0" });
 * await fetch(`${tiny.baseURL}/models`);
 * await tiny.close();
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

export const PYTHON = "/usr/bin/python3";
export const PYTHON_PACKAGE_DIR = resolve(import.meta.dirname, "../trainer-bridge/python");

export interface RunningTinyServer {
  baseURL: string;
  origin: string;
  model: string;
  maxModelLen: number;
  apiKey?: string;
  process: ChildProcess;
  close(): Promise<void>;
}

export async function startTinyServer(
  options: {
    weights?: string;
    seed?: number;
    model?: string;
    maxModelLen?: number;
    apiKey?: string;
  } = {},
): Promise<RunningTinyServer> {
  const model = options.model ?? "tiny";
  const maxModelLen = options.maxModelLen ?? 4096;
  const args = [
    "-m",
    "examples.tiny.server",
    "--port",
    "0",
    "--model",
    model,
    "--max-model-len",
    String(maxModelLen),
    "--seed",
    String(options.seed ?? 0),
    ...(options.weights ? ["--weights", options.weights] : []),
    ...(options.apiKey ? ["--api-key", options.apiKey] : []),
  ];
  const child = spawn(PYTHON, args, {
    cwd: PYTHON_PACKAGE_DIR,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, VLLM_API_KEY: "" },
  });
  let output = "";
  const origin = await new Promise<string>((done, failed) => {
    const timer = setTimeout(
      () => failed(new Error(`the tiny server did not start:\n${output}`)),
      60_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match[1]!);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => {
      clearTimeout(timer);
      failed(new Error(`the tiny server exited with ${code}:\n${output}`));
    });
  });
  return {
    baseURL: `${origin}/v1`,
    origin,
    model,
    maxModelLen,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    process: child,
    close: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}
