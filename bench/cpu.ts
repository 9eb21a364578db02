/** CPU time from /proc: the whole machine's busy time and one process's, for the benchmarks. */
import { readFileSync } from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on every Linux this runs on

/** Busy jiffies of the whole machine: every field of /proc/stat's cpu line but idle and iowait. */
export function machineBusyMs(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1);
  const ticks = fields.map(Number);
  const busy = ticks.reduce((sum, value) => sum + value, 0) - ticks[3]! - ticks[4]!;
  return busy * TICK_MS;
}

/** User plus system CPU of one process, from /proc/PID/stat. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
