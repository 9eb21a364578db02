/**
 * Container labels: who owns a sandbox and when it expires, so `sandfarm sandbox gc` (and the
 * start-up reaper) can remove what a dead farm left behind without touching a live one's.
 */
import { hostname } from "node:os";

export const LABEL_MANAGED = "sandfarm.managed";
export const LABEL_RUN_ID = "sandfarm.run-id";
export const LABEL_OWNER_HOST = "sandfarm.owner-host";
export const LABEL_OWNER_PID = "sandfarm.owner-pid";
export const LABEL_EXPIRES_AT = "sandfarm.expires-at";
/** On the sandbox image: the hash of the recipe it was built from (deploy/image/build.sh). */
export const LABEL_IMAGE_RECIPE = "sandfarm.recipe";

export function sandboxLabels(
  runId: string,
  ttlS: number,
  now = Date.now(),
): Record<string, string> {
  return {
    [LABEL_MANAGED]: "true",
    [LABEL_RUN_ID]: runId,
    [LABEL_OWNER_HOST]: hostname(),
    [LABEL_OWNER_PID]: String(process.pid),
    [LABEL_EXPIRES_AT]: String(Math.floor(now / 1000) + ttlS),
  };
}

/** Whether a process with this pid exists on this host. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Why a labelled container is garbage, or undefined if its owner may still want it. An owner on
 * another host cannot be checked from here; its containers go only when their TTL is over.
 */
export function orphanReason(labels: Record<string, string>, now = Date.now()): string | undefined {
  const expiresAt = Number(labels[LABEL_EXPIRES_AT]);
  if (!Number.isFinite(expiresAt) || expiresAt * 1000 <= now) return "ttl expired";
  const pid = Number(labels[LABEL_OWNER_PID]);
  if (labels[LABEL_OWNER_HOST] === hostname() && Number.isInteger(pid) && !processAlive(pid)) {
    return `owner pid ${pid} is gone`;
  }
  return undefined;
}
