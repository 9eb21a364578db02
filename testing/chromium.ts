/**
 * Headless Chromium for tests that must see a page as a browser renders it: a screenshot, or
 * the DOM after parsing. Each call launches a fresh browser with its own throwaway profile and
 * no network chatter of its own, kills its whole process group on timeout, and names the fix
 * when the binary is missing.
 *
 * @example
 * const dom = await renderedDom("/tmp/report.html");
 * await screenshotPage("/tmp/report.html", "/tmp/report.png", { width: 1200, height: 3000 });
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

export interface ChromiumOptions {
  /** The browser binary. @default $CHROMIUM, else "chromium" from PATH */
  binary?: string;
  /** Milliseconds before the browser is killed and the call fails. @default 30_000 */
  timeoutMs?: number;
}

export interface WindowSize {
  width: number;
  height: number;
}

const MISSING_BINARY_FIX = "install it with `apt-get install chromium` (or set CHROMIUM=/path)";

/** Runs Chromium on one local file with `args`; resolves to its stdout. */
async function runChromium(
  htmlPath: string,
  args: readonly string[],
  options: ChromiumOptions,
): Promise<string> {
  const binary = options.binary ?? process.env.CHROMIUM ?? "chromium";
  const timeoutMs = options.timeoutMs ?? 30_000;
  const path = resolve(htmlPath);
  if (!existsSync(path)) throw new Error(`chromium: no such page ${path}`);
  const profile = mkdtempSync(join(tmpdir(), "sandfarm-chromium-"));
  const url = pathToFileURL(path).href;
  try {
    return await new Promise<string>((resolvePromise, reject) => {
      const child = spawn(
        binary,
        [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args, url],
        // Its own process group, so a timeout kills the renderer and helpers along with it.
        { detached: true, stdio: ["ignore", "pipe", "pipe"] },
      );
      const stdout: Buffer[] = [];
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // The group is already gone: nothing left to stop.
        }
      }, timeoutMs);
      child.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          error.code === "ENOENT"
            ? new Error(`chromium: ${binary} not found; ${MISSING_BINARY_FIX}`, { cause: error })
            : new Error(`chromium: ${binary} failed to start: ${error.message}`, { cause: error }),
        );
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut)
          reject(
            new Error(`chromium: gave up on ${url} after ${timeoutMs} ms; its stderr:\n${stderr}`),
          );
        else if (code !== 0)
          reject(
            new Error(`chromium: exited with ${code ?? signal} on ${url}; its stderr:\n${stderr}`),
          );
        else resolvePromise(Buffer.concat(stdout).toString("utf8"));
      });
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM after Chromium parsed and laid out the page, serialized (`--dump-dom`). */
export async function renderedDom(
  htmlPath: string,
  options: ChromiumOptions = {},
): Promise<string> {
  return runChromium(htmlPath, ["--dump-dom"], options);
}

/** A PNG of the top `size` of the page, as a window of that size shows it. */
export async function screenshotPage(
  htmlPath: string,
  pngPath: string,
  size: WindowSize,
  options: ChromiumOptions = {},
): Promise<void> {
  const out = resolve(pngPath);
  rmSync(out, { force: true });
  await runChromium(
    htmlPath,
    [`--screenshot=${out}`, `--window-size=${size.width},${size.height}`],
    options,
  );
  if (!existsSync(out))
    throw new Error(`chromium: exited cleanly but wrote no screenshot to ${out}`);
}
