/**
 * What a model sees of a command's output: terminal control stripped, long output cut in the
 * middle by lines and then by characters, so no single huge line reaches the model whole.
 */

/** CSI sequences (colours, cursor moves), OSC sequences (titles, links), and 2-byte escapes. */
// eslint-disable-next-line no-control-regex
const ANSI_PATTERN = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;

/**
 * Removes ANSI escapes and carriage returns. A bare `\r` rewrites its line on a terminal
 * (progress bars), so only the text after a line's last `\r` is kept, as a terminal would show.
 */
export function cleanTerminalText(text: string): string {
  const withoutAnsi = text.replace(ANSI_PATTERN, "").replaceAll("\r\n", "\n");
  if (!withoutAnsi.includes("\r")) return withoutAnsi;
  return withoutAnsi
    .split("\n")
    .map((line) => {
      if (!line.includes("\r")) return line;
      const segments = line.split("\r").filter((segment) => segment !== "");
      return segments.at(-1) ?? "";
    })
    .join("\n");
}

export interface ClipLimits {
  headLines: number;
  tailLines: number;
  maxChars: number;
}

export const BASH_CLIP: ClipLimits = { headLines: 40, tailLines: 40, maxChars: 16_000 };

/** Keeps the first `headLines` and last `tailLines` lines with a marker between. */
export function cutLines(text: string, headLines: number, tailLines: number): string {
  const lines = text.split("\n");
  const trailingNewline = lines.at(-1) === "";
  if (trailingNewline) lines.pop();
  if (lines.length <= headLines + tailLines) return text;
  const omitted = lines.length - headLines - tailLines;
  const kept = [
    ...lines.slice(0, headLines),
    `[... ${omitted} lines omitted ...]`,
    ...lines.slice(lines.length - tailLines),
  ];
  return kept.join("\n") + (trailingNewline ? "\n" : "");
}

/** Keeps the first and last halves of `maxChars` characters with a marker between. */
export function capChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = Math.ceil(maxChars / 2);
  const tail = Math.floor(maxChars / 2);
  const omitted = text.length - head - tail;
  return `${text.slice(0, head)}\n[... ${omitted} characters omitted ...]\n${text.slice(text.length - tail)}`;
}

/**
 * Clips stdout and stderr under one shared character budget: a stream that needs less than half
 * leaves the rest to the other.
 */
export function clipStreams(
  stdout: string,
  stderr: string,
  limits: ClipLimits = BASH_CLIP,
): { stdout: string; stderr: string } {
  const out = cutLines(cleanTerminalText(stdout), limits.headLines, limits.tailLines);
  const err = cutLines(cleanTerminalText(stderr), limits.headLines, limits.tailLines);
  const half = Math.floor(limits.maxChars / 2);
  const outBudget = Math.max(half, limits.maxChars - Math.min(err.length, half));
  const errBudget = Math.max(half, limits.maxChars - Math.min(out.length, half));
  return { stdout: capChars(out, outBudget), stderr: capChars(err, errBudget) };
}
