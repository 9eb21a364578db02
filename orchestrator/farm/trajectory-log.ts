/**
 * `trajectories.jsonl`: one line per decided rollout (its episode, reward, advantage, verdict).
 * A group's lines are written when it is decided and made durable before the commit point that
 * makes the group count (its batch in the spool, or its drop line in the journal). A resumed run
 * first removes the lines of groups that never counted, since it runs those groups again: the
 * log then holds each rollout once, as trained on or dropped.
 *
 * @example
 * const log = await TrajectoryLog.open(runDir, (groupId) => decided.has(groupId));
 * log.append(records); await log.sync(); // then commit
 */
import { type FileHandle, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const TRAJECTORIES_FILE = "trajectories.jsonl";

export class TrajectoryLog {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly handle: FileHandle) {}

  /** Opens the log, keeping only lines whose group `counted` says counts. */
  static async open(runDir: string, counted: (groupId: string) => boolean): Promise<TrajectoryLog> {
    const path = join(runDir, TRAJECTORIES_FILE);
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text) {
      const kept = text.split("\n").filter((line) => {
        if (!line) return false;
        try {
          return counted((JSON.parse(line) as { groupId: string }).groupId);
        } catch {
          return false; // a torn last line
        }
      });
      const temporary = `${path}.tmp`;
      await writeFile(temporary, kept.length ? `${kept.join("\n")}\n` : "");
      await rename(temporary, path);
    }
    return new TrajectoryLog(await open(path, "a"));
  }

  /** Queues records for writing, in call order. */
  append(records: readonly object[]): void {
    if (records.length === 0) return;
    const text = records.map((record) => `${JSON.stringify(record)}\n`).join("");
    this.tail = this.tail.then(() => this.handle.write(text));
  }

  /** Resolves once everything appended so far is on disk. */
  async sync(): Promise<void> {
    await this.tail;
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.handle.close();
  }
}
