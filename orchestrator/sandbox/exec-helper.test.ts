/**
 * The helper's wait for a command's exit cannot lose the wake-up (issue 19). Perl runs a SIGCHLD
 * handler only at its next safe point, so an exit that lands after the wait's last check and
 * before `select` sleeps used to leave the helper asleep until the command's timeout, which then
 * reported the trivial command as exit 0 after the full timeout. `SANDFARM_TEST_WAIT_STALL_MS`
 * holds the helper inside that window so the exit lands there every time.
 */
import { describe, expect, it } from "vitest";
import { SANDBOX_VARIANTS, useSandbox } from "../../testing/sandboxes.js";

const TIMEOUT_S = 20;
/** Longer than the exits below take, so each lands inside the stalled window. */
const STALL_MS = 2000;

describe.each(SANDBOX_VARIANTS)("%s", (_variant, variant) => {
  const sandbox = useSandbox({ ...variant, env: { SANDFARM_TEST_WAIT_STALL_MS: `${STALL_MS}` } });

  it("returns when a command exits inside the window where Perl defers SIGCHLD", async () => {
    // Under load the kernel ends a dying command's output before its exit is reapable; this
    // command makes that gap wide, so the helper is waiting for the exit alone when it comes.
    const result = await sandbox().exec("exec >/dev/null 2>&1; sleep 0.5", { timeoutS: TIMEOUT_S });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, runnerKilled: false });
    // The lost wake-up's signature is a return at the timeout; half of it is far from both.
    expect(result.durationMs).toBeLessThan((TIMEOUT_S * 1000) / 2);
  });

  it("returns a trivial command at once with the wait stalled", async () => {
    const result = await sandbox().exec("true", { timeoutS: TIMEOUT_S });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: "", stderr: "" });
    expect(result.durationMs).toBeLessThan((TIMEOUT_S * 1000) / 2);
  });

  it("still reports a command that outlives its timeout as timed out, never as exit 0", async () => {
    const result = await sandbox().exec("exec >/dev/null 2>&1; sleep 60", { timeoutS: 1 });
    expect(result).toMatchObject({ exitCode: 124, timedOut: true });
  });
});
