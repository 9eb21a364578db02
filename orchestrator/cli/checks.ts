/** Prints doctor checks (a line each, with the fix under a failure, or JSON); sets the exit code. */
import type { DoctorCheck } from "../util/doctor-check.js";

export function reportChecks(checks: readonly DoctorCheck[], json = false): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  } else {
    for (const check of checks) {
      const mark = check.ok ? "ok  " : check.optional ? "--  " : "FAIL";
      process.stdout.write(`${mark} ${check.name.padEnd(18)} ${check.detail}\n`);
      if (!check.ok && check.fix) process.stdout.write(`     ${"".padEnd(18)} fix: ${check.fix}\n`);
    }
  }
  process.exitCode = checks.every((check) => check.ok || check.optional) ? 0 : 1;
}
