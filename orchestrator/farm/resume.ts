/**
 * A resumed run's way back in (`--resume`): what the farm's journal and the spool's committed
 * rollouts say about the slots of the run so far. The spool holds the commit point of a group
 * that reached a batch; the journal holds every admission and every dropped group's verdict. A
 * slot's latest admission is thus committed, dropped (the farm decides its slot again), or
 * unfinished (the farm runs the same group again, on the same task, under the same ids).
 *
 * @example
 * const committed = spool.committedRollouts();
 * const cursor = await TaskCursor.open(files, options, tasksToKeep(journal.state, committed));
 * const { nextSlot, slots } = resumeSlots(journal.state, committed, { groupsPerStep, stepsDone });
 */
import { rolloutIdOf } from "./groups.js";
import type { AdmitEntry, DropVerdict, JournalState } from "./journal.js";
import { TrajectoryLog } from "./trajectory-log.js";

/** A slot of an unfinished step, as its latest admission left it. */
export interface ResumedSlot {
  step: number;
  /** The slot's latest admission: its slot, attempt, reason and task. */
  admit: AdmitEntry;
  /** Refill admissions of the slot so far, so the refill limit holds across sessions. */
  refills: number;
  outcome:
    { kind: "committed" } | { kind: "dropped"; verdict: DropVerdict } | { kind: "unfinished" };
}

/** A group counts once its first rollout is in a committed batch: batches hold groups whole. */
function groupCommitted(committed: ReadonlySet<string>, groupId: string): boolean {
  return committed.has(rolloutIdOf(groupId, 0));
}

/** Each slot's latest admission, in order of the slots' first admissions. */
function latestAdmits(journal: JournalState): Map<number, AdmitEntry> {
  const latest = new Map<number, AdmitEntry>();
  for (const admit of journal.admits) latest.set(admit.slot, admit);
  return latest;
}

/**
 * Where a resumed run's schedule continues, and the schedule indices of the tasks it needs
 * back: those of each slot's latest group that no committed batch holds (to run again, or to
 * retry). Groups already in batches never need their tasks, so a long run does not hold them.
 */
export function tasksToKeep(
  journal: JournalState,
  committed: ReadonlySet<string>,
): { skip: number; keep: Set<number> } {
  let skip = 0;
  for (const admit of journal.admits) skip = Math.max(skip, admit.taskIndex + 1);
  const keep = new Set<number>();
  for (const admit of latestAdmits(journal).values())
    if (!groupCommitted(committed, admit.groupId)) keep.add(admit.taskIndex);
  return { skip, keep };
}

/**
 * The slot after the last one admitted, and the slots of unfinished steps with what became of
 * their latest admission, in the order the farm first admitted them.
 */
export function resumeSlots(
  journal: JournalState,
  committed: ReadonlySet<string>,
  schedule: { groupsPerStep: number; stepsDone: number },
): { nextSlot: number; slots: ResumedSlot[] } {
  const refills = new Map<number, number>();
  let nextSlot = 0;
  for (const admit of journal.admits) {
    if (admit.reason === "refill") refills.set(admit.slot, (refills.get(admit.slot) ?? 0) + 1);
    nextSlot = Math.max(nextSlot, admit.slot + 1);
  }
  const slots: ResumedSlot[] = [];
  for (const [slot, admit] of latestAdmits(journal)) {
    const step = Math.floor(slot / schedule.groupsPerStep);
    // Finished steps are behind the run: their slots need no state.
    if (step < schedule.stepsDone) continue;
    const verdict = journal.dropped.get(admit.groupId);
    slots.push({
      step,
      admit,
      refills: refills.get(slot) ?? 0,
      outcome: groupCommitted(committed, admit.groupId)
        ? { kind: "committed" }
        : verdict
          ? { kind: "dropped", verdict }
          : { kind: "unfinished" },
    });
  }
  return { nextSlot, slots };
}

/**
 * Opens `trajectories.jsonl` without the lines of groups that never counted (neither in a
 * committed batch nor journaled as dropped): the resumed run writes them again when it re-runs
 * those groups.
 */
export function openTrajectoryLog(
  runDir: string,
  journal: JournalState,
  committed: ReadonlySet<string>,
): Promise<TrajectoryLog> {
  return TrajectoryLog.open(
    runDir,
    (groupId) => groupCommitted(committed, groupId) || journal.dropped.has(groupId),
  );
}
