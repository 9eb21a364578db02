/**
 * The training tasks in schedule order (seeded shuffle, epochs), numbered across epochs, with a
 * resumed run's way back in: the schedule is deterministic, so replaying it up to where the run
 * stopped recovers both the position and the tasks of groups that were admitted but never
 * finished.
 *
 * @example
 * const cursor = await TaskCursor.open(files, options, { skip: 40, keep: new Set([37, 39]) });
 * cursor.kept(37); // the task admitted as schedule index 37
 * const next = await cursor.next(); // { task, index: 40 } or undefined at the end
 */
import { type ScheduleOptions, scheduleTasks } from "../../datasets/schedule.js";
import type { Task } from "../../datasets/task.js";

export class TaskCursor {
  private index = 0;
  private readonly keptTasks = new Map<number, Task>();

  private constructor(private readonly iterator: AsyncGenerator<{ task: Task }>) {}

  /** Opens the schedule and moves past `skip` tasks, keeping those whose index is in `keep`. */
  static async open(
    files: readonly string[],
    options: ScheduleOptions,
    resume: { skip: number; keep: ReadonlySet<number> } = { skip: 0, keep: new Set() },
  ): Promise<TaskCursor> {
    const cursor = new TaskCursor(scheduleTasks(files, options));
    while (cursor.index < resume.skip) {
      const item = await cursor.iterator.next();
      if (item.done) break;
      if (resume.keep.has(cursor.index)) cursor.keptTasks.set(cursor.index, item.value.task);
      cursor.index++;
    }
    return cursor;
  }

  /** A task passed over on open because the journal had admitted it. */
  kept(index: number): Task | undefined {
    return this.keptTasks.get(index);
  }

  /** The next task and its schedule index; undefined when the schedule is exhausted. */
  async next(): Promise<{ task: Task; index: number } | undefined> {
    const item = await this.iterator.next();
    if (item.done) return undefined;
    return { task: item.value.task, index: this.index++ };
  }

  async close(): Promise<void> {
    await this.iterator.return(undefined);
  }
}
