/**
 * The farm's scheduling priority. Under load the sandboxes, dockerd and the container shims keep
 * both cores busy, and the kernel's autogroup scheduling gives each session an equal share
 * whatever its processes' nice values, so the farm's event loop waited on the run queue three
 * times as long as it ran (loop lag p99 ~90 ms at 64 episodes with container churn, measured
 * here). Raising the nice of the farm's own session (`/proc/self/autogroup`) cut that to ~26 ms.
 * Best effort: it needs root or CAP_SYS_NICE and a kernel with autogroups; the previous value is
 * restored when the run ends.
 *
 * @example
 * const restore = raisePriority(-10);
 * try { await farm.run(); } finally { restore(); }
 */
import { readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

const AUTOGROUP = "/proc/self/autogroup";

/** Sets the session's autogroup nice (and this thread's nice) to `nice` when that raises it. */
export function raisePriority(nice: number): () => void {
  const restores: (() => void)[] = [];
  try {
    const before = Number(/nice\s+(-?\d+)/.exec(readFileSync(AUTOGROUP, "utf8"))?.[1]);
    if (Number.isInteger(before) && nice < before) {
      writeFileSync(AUTOGROUP, String(nice));
      restores.push(() => writeFileSync(AUTOGROUP, String(before)));
    }
  } catch {
    // No autogroups, or not permitted: leave it.
  }
  try {
    const before = getPriority();
    if (nice < before) {
      setPriority(nice);
      restores.push(() => setPriority(before));
    }
  } catch {
    // Not permitted.
  }
  return () => {
    for (const restore of restores) {
      try {
        restore();
      } catch {
        // The session may be gone; nothing to restore then.
      }
    }
  };
}
