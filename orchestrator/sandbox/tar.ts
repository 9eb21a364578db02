/**
 * Files cross the sandbox boundary as tar archives (Docker's archive API), never through shell
 * quoting, so bytes arrive exactly: tabs, CRLF, a missing final newline, binary, any size, and
 * paths with spaces or unicode (tar-stream writes PAX headers for those).
 */
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { ConfigError } from "../../common/errors.js";
import type { FileRead, FileToWrite } from "./types.js";

/** Rejects paths that could escape the directory they are written under. */
export function checkRelativePath(path: string): string {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  if (path.startsWith("/") || parts.length === 0 || parts.includes("..")) {
    throw new ConfigError(
      `file path '${path}' must be relative to the target directory, without '..'; e.g. 'notes/a.txt'`,
    );
  }
  return parts.join("/");
}

/** Packs files (and the directories between them) into one tar archive. */
export async function packFiles(files: readonly FileToWrite[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  const dirs = new Set<string>();
  const mtime = new Date();
  for (const file of files) {
    const path = checkRelativePath(file.path);
    const parts = path.split("/");
    for (let depth = 1; depth < parts.length; depth++) {
      const dir = parts.slice(0, depth).join("/");
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      pack.entry({ name: `${dir}/`, type: "directory", mode: 0o755, mtime });
    }
    const content =
      typeof file.content === "string" ? Buffer.from(file.content, "utf8") : file.content;
    pack.entry(
      {
        name: path,
        type: "file",
        mode: file.mode ?? 0o644,
        uid: file.uid ?? 0,
        gid: file.gid ?? 0,
        mtime,
      },
      Buffer.from(content),
    );
  }
  pack.finalize();
  return collected;
}

/** What the archive held when it was not a single regular file. */
export type ArchiveEntryKind = "file" | "directory" | "symlink" | "other";

export interface ExtractedEntry {
  kind: ArchiveEntryKind;
  /** Target of a symlink, as stored. */
  linkTarget?: string;
  file?: Omit<FileRead, "path">;
}

/** Reads the first entry of an archive (Docker's archive of one path), up to `maxBytes`. */
export async function extractFirstEntry(
  archive: NodeJS.ReadableStream,
  maxBytes: number,
): Promise<ExtractedEntry> {
  const extract = tar.extract();
  const source = Readable.from(archive as AsyncIterable<Buffer>);
  return new Promise<ExtractedEntry>((resolve, reject) => {
    let settled = false;
    // Docker streams a whole directory when asked for one: abort the response once the first
    // header has answered, or the unread rest blocks the connection for later requests.
    const finish = (entry: ExtractedEntry | Error): void => {
      if (settled) return;
      settled = true;
      if (entry instanceof Error) reject(entry);
      else resolve(entry);
      extract.destroy();
      source.destroy();
      (archive as Partial<Readable>).destroy?.();
    };
    extract.on("entry", (header, stream, next) => {
      if (header.type === "directory") return finish({ kind: "directory" });
      if (header.type === "symlink")
        return finish({ kind: "symlink", linkTarget: header.linkname ?? "" });
      if (header.type !== "file") return finish({ kind: "other" });
      if ((header.size ?? 0) > maxBytes) {
        return finish(
          new ConfigError(`file is ${header.size} bytes, over the ${maxBytes}-byte read limit`),
        );
      }
      const parts: Buffer[] = [];
      stream.on("data", (chunk: unknown) => parts.push(chunk as Buffer));
      stream.on("end", () => {
        finish({
          kind: "file",
          file: {
            content: Buffer.concat(parts),
            mode: (header.mode ?? 0o644) & 0o7777,
            uid: header.uid ?? 0,
            gid: header.gid ?? 0,
          },
        });
        next();
      });
      stream.on("error", (error: Error) => finish(error));
    });
    extract.on("finish", () => finish({ kind: "other" }));
    extract.on("error", (error: Error) => finish(error));
    source.on("error", (error: Error) => finish(error));
    source.pipe(extract);
  });
}
