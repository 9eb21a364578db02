/**
 * `str_replace_editor`: view, create, str_replace, insert (and optionally undo_edit). All file I/O
 * goes through the sandbox's tar file API, so edits are byte-exact: tabs, CRLF, a missing final
 * newline and the file's mode and owner survive, and no argument is ever too long.
 */
import { posix } from "node:path";
import { SandboxPathError } from "../sandbox/errors.js";
import type { FileRead, Sandbox } from "../sandbox/types.js";
import type { EditorArgs } from "./definitions.js";

export const EDITOR_MAX_CHARS = 10_000;
const SNIPPET_CONTEXT_LINES = 4;
/** Checking that a file exists reads at most this much of it. */
const EXISTENCE_PROBE_BYTES = 0;

export interface EditorResult {
  observation: string;
  isError: boolean;
}

function ok(observation: string): EditorResult {
  return { observation: clipEditorOutput(observation), isError: false };
}

function fail(observation: string): EditorResult {
  return { observation: clipEditorOutput(observation), isError: true };
}

export function clipEditorOutput(text: string, maxChars = EDITOR_MAX_CHARS): string {
  if (text.length <= maxChars) return text;
  return (
    text.slice(0, maxChars) +
    `\n[output clipped at ${maxChars.toLocaleString("en-US")} characters: view a smaller view_range, or find lines with grep -n through execute_bash]`
  );
}

/** The file's text, or undefined when it is not UTF-8 text that round-trips byte for byte. */
export function decodeText(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  const text = content.toString("utf8");
  return Buffer.from(text, "utf8").equals(content) ? text : undefined;
}

/** Splits text into lines as `cat -n` counts them: a final newline does not open a new line. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

export function numberLines(lines: readonly string[], firstLineNumber: number): string {
  return lines
    .map((line, index) => `${String(firstLineNumber + index).padStart(6)}\t${line}`)
    .join("\n");
}

function countOccurrences(haystack: string, needle: string): number[] {
  const starts: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    starts.push(at);
  }
  return starts;
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (
    let index = text.indexOf("\n");
    index !== -1 && index < offset;
    index = text.indexOf("\n", index + 1)
  ) {
    line++;
  }
  return line;
}

function snippet(text: string, firstChangedLine: number, lastChangedLine: number): string {
  const lines = splitLines(text);
  const from = Math.max(1, firstChangedLine - SNIPPET_CONTEXT_LINES);
  const to = Math.min(lines.length, lastChangedLine + SNIPPET_CONTEXT_LINES);
  return numberLines(lines.slice(from - 1, to), from);
}

type HistoryEntry = { existed: false } | { existed: true; file: FileRead };

export class FileEditor {
  private readonly history = new Map<string, HistoryEntry[]>();

  constructor(
    private readonly sandbox: Sandbox,
    private readonly options: { enableUndoEdit?: boolean } = {},
  ) {}

  async run(args: EditorArgs): Promise<EditorResult> {
    if (!args.path.startsWith("/")) {
      const suggestion = posix.join("/testbed", args.path);
      return fail(
        `The path '${args.path}' is not absolute. Use an absolute path such as '${suggestion}'.`,
      );
    }
    const path = posix.normalize(args.path);
    try {
      switch (args.command) {
        case "view":
          return await this.view(path, args.view_range);
        case "create":
          return await this.create(path, args.file_text);
        case "str_replace":
          return await this.strReplace(path, args.old_str, args.new_str ?? "");
        case "insert":
          return await this.insert(path, args.insert_line, args.new_str);
        case "undo_edit":
          return await this.undo(path);
      }
    } catch (error) {
      if (error instanceof SandboxPathError) return fail(this.pathAdvice(error));
      throw error;
    }
  }

  private pathAdvice(error: SandboxPathError): string {
    switch (error.problem) {
      case "not_found":
        return `${error.path} does not exist. Check the path with: ls -la ${posix.dirname(error.path)}`;
      case "is_directory":
        return `${error.path} is a directory. Use the view command to list it, or name a file inside it.`;
      case "too_large":
        return `${error.path} is too large for the editor. Inspect it with grep, head or tail through execute_bash.`;
      case "not_regular_file":
        return `${error.path} is not a regular file (${error.message}). Inspect it through execute_bash.`;
      case "rejected":
        return `${error.message}. Use a path inside a directory, e.g. under /testbed.`;
    }
  }

  private async readText(path: string): Promise<{ file: FileRead; text: string } | EditorResult> {
    const file = await this.sandbox.readFile(path);
    const text = decodeText(file.content);
    if (text === undefined) {
      return fail(
        `${path} is not UTF-8 text (${file.content.length} bytes). Inspect it with xxd or python3 through execute_bash.`,
      );
    }
    return { file, text };
  }

  private async view(path: string, range: number[] | undefined): Promise<EditorResult> {
    let read: Awaited<ReturnType<FileEditor["readText"]>>;
    try {
      read = await this.readText(path);
    } catch (error) {
      if (error instanceof SandboxPathError && error.problem === "is_directory") {
        if (range)
          return fail(
            `${path} is a directory; view_range applies to files only. Drop view_range to list it.`,
          );
        return this.listDirectory(path);
      }
      throw error;
    }
    if ("observation" in read) return read;
    const lines = splitLines(read.text);
    const crlf = read.text.includes("\r\n") ? " (CRLF line endings: each line ends with \\r)" : "";
    if (!range) {
      if (lines.length === 0) return ok(`${path} is empty.`);
      return ok(
        `${path}, lines 1-${lines.length} of ${lines.length}${crlf}:\n${numberLines(lines, 1)}`,
      );
    }
    const [start, requestedEnd] = range as [number, number];
    if (lines.length === 0)
      return fail(`${path} is empty; there are no lines to view. Drop view_range.`);
    if (start < 1 || start > lines.length) {
      return fail(
        `view_range start ${start} is outside the file, which has ${lines.length} lines. Use a start from 1 to ${lines.length}.`,
      );
    }
    const end = requestedEnd === -1 ? lines.length : Math.min(requestedEnd, lines.length);
    if (end < start) {
      return fail(
        `view_range end ${requestedEnd} is before start ${start}. Use [start, end] with end >= start, or -1 for the last line.`,
      );
    }
    return ok(
      `${path}, lines ${start}-${end} of ${lines.length}${crlf}:\n${numberLines(lines.slice(start - 1, end), start)}`,
    );
  }

  private async listDirectory(path: string): Promise<EditorResult> {
    const quoted = `'${path.replaceAll("'", "'\\''")}'`;
    const listing = await this.sandbox.exec(
      `find ${quoted} -mindepth 1 -maxdepth 2 -name '.*' -prune -o -type d -printf '%p/\\n' -o -printf '%p\\n' | LC_ALL=C sort`,
      { timeoutS: 30 },
    );
    if (listing.exitCode !== 0) return fail(`Cannot list ${path}: ${listing.stderr.trim()}`);
    const entries = listing.stdout.trimEnd();
    if (entries === "") return ok(`${path} is an empty directory (hidden entries are not shown).`);
    return ok(`Entries of ${path}, two levels deep, hidden ones left out:\n${entries}`);
  }

  private async create(path: string, fileText: string | undefined): Promise<EditorResult> {
    if (fileText === undefined)
      return fail("create needs file_text: the full content of the new file.");
    if (await this.exists(path)) {
      return fail(
        `${path} already exists; create does not overwrite. Change it with str_replace or insert, or remove it first with rm through execute_bash.`,
      );
    }
    await this.sandbox.writeFiles(posix.dirname(path), [
      { path: posix.basename(path), content: fileText },
    ]);
    this.remember(path, { existed: false });
    return ok(
      `Created ${path} (${splitLines(fileText).length} lines, ${Buffer.byteLength(fileText)} bytes).`,
    );
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await this.sandbox.readFile(path, EXISTENCE_PROBE_BYTES);
      return true;
    } catch (error) {
      if (error instanceof SandboxPathError) {
        return error.problem !== "not_found" && error.problem !== "rejected";
      }
      throw error;
    }
  }

  private async strReplace(
    path: string,
    oldStr: string | undefined,
    newStr: string,
  ): Promise<EditorResult> {
    if (oldStr === undefined || oldStr === "") {
      return fail(
        "str_replace needs old_str: the exact text to replace, copied from the file (it must occur exactly once).",
      );
    }
    const read = await this.readText(path);
    if ("observation" in read) return read;
    const { file, text } = read;
    const starts = countOccurrences(text, oldStr);
    if (starts.length === 0) {
      const crlfHint =
        text.includes("\r\n") &&
        !oldStr.includes("\r") &&
        text.includes(oldStr.replaceAll("\n", "\r\n"))
          ? " The file has CRLF line endings: write each line break in old_str as \\r\\n."
          : "";
      return fail(
        `old_str was not found in ${path}. It must match exactly, including whitespace and indentation; view the file and copy the text.${crlfHint}`,
      );
    }
    if (starts.length > 1) {
      const lines = [...new Set(starts.map((start) => lineOfOffset(text, start)))];
      return fail(
        `old_str occurs ${starts.length} times in ${path} (starting on lines ${lines.join(", ")}). Include more surrounding text so it occurs exactly once.`,
      );
    }
    const at = starts[0]!;
    const updated = text.slice(0, at) + newStr + text.slice(at + oldStr.length);
    await this.writeBack(file, updated);
    const first = lineOfOffset(updated, at);
    const last = first + (newStr.match(/\n/g)?.length ?? 0);
    return ok(`Edited ${path}. The changed region now reads:\n${snippet(updated, first, last)}`);
  }

  private async insert(
    path: string,
    insertLine: number | undefined,
    newStr: string | undefined,
  ): Promise<EditorResult> {
    if (insertLine === undefined)
      return fail("insert needs insert_line: the line after which to insert (0 for the top).");
    if (newStr === undefined) return fail("insert needs new_str: the text to insert.");
    const read = await this.readText(path);
    if ("observation" in read) return read;
    const { file, text } = read;
    const lines = splitLines(text);
    if (insertLine < 0 || insertLine > lines.length) {
      return fail(
        `insert_line ${insertLine} is outside ${path}, which has ${lines.length} lines. Use a number from 0 to ${lines.length}.`,
      );
    }
    const eol = text.includes("\r\n") ? "\r\n" : "\n";
    // Offset just past the newline that ends line `insertLine`.
    let offset = 0;
    for (let line = 0; line < insertLine; line++) {
      const newline = text.indexOf("\n", offset);
      offset = newline === -1 ? text.length : newline + 1;
    }
    let before = text.slice(0, offset);
    const after = text.slice(offset);
    if (insertLine === lines.length && before !== "" && !before.endsWith("\n")) before += eol;
    const inserted = newStr.endsWith("\n") || after === "" ? newStr : newStr + eol;
    const updated = before + inserted + after;
    await this.writeBack(file, updated);
    const first = insertLine + 1;
    const last = insertLine + Math.max(1, splitLines(newStr).length);
    return ok(
      `Inserted after line ${insertLine} of ${path}. The region now reads:\n${snippet(updated, first, last)}`,
    );
  }

  private async undo(path: string): Promise<EditorResult> {
    if (!this.options.enableUndoEdit)
      return fail("undo_edit is not enabled. Use view, create, str_replace or insert.");
    const entry = this.history.get(path)?.pop();
    if (!entry) return fail(`There is no edit of ${path} to undo.`);
    if (!entry.existed) {
      const removed = await this.sandbox.exec(`rm -f -- '${path.replaceAll("'", "'\\''")}'`, {
        timeoutS: 30,
      });
      if (removed.exitCode !== 0) return fail(`Cannot remove ${path}: ${removed.stderr.trim()}`);
      return ok(`Undid the creation of ${path}; it no longer exists.`);
    }
    await this.sandbox.writeFiles(posix.dirname(entry.file.path), [
      {
        path: posix.basename(entry.file.path),
        content: entry.file.content,
        mode: entry.file.mode,
        uid: entry.file.uid,
        gid: entry.file.gid,
      },
    ]);
    return ok(`Reverted the last edit of ${path}.`);
  }

  private async writeBack(file: FileRead, text: string): Promise<void> {
    await this.sandbox.writeFiles(posix.dirname(file.path), [
      {
        path: posix.basename(file.path),
        content: text,
        mode: file.mode,
        uid: file.uid,
        gid: file.gid,
      },
    ]);
    this.remember(file.path, { existed: true, file });
  }

  private remember(path: string, entry: HistoryEntry): void {
    if (!this.options.enableUndoEdit) return;
    const stack = this.history.get(path) ?? [];
    stack.push(entry);
    this.history.set(path, stack);
  }
}
