/**
 * The warm sandbox pool a run's `sandbox` section describes, started and labelled with the run's
 * id (so a resumed run can reap the containers its crashed self left behind).
 *
 * @example
 * const pool = await startSandboxPool(config.sandbox, runId, { warmSize: 8, maxConcurrentStarts: 4 });
 * try { ... } finally { await pool.close(); }
 */
import type { SandboxSection } from "../config/sections.js";
import { createBackend } from "../sandbox/backend.js";
import { startsPerSecond } from "../sandbox/config.js";
import { SandboxPool } from "../sandbox/pool.js";

export async function startSandboxPool(
  sandbox: SandboxSection,
  runId: string,
  options: { warmSize: number; maxConcurrentStarts: number },
): Promise<SandboxPool> {
  const pool = new SandboxPool(createBackend({ ...sandbox, runId }), {
    ...options,
    startsPerSecond: startsPerSecond(sandbox),
  });
  try {
    await pool.start();
  } catch (error) {
    await pool.close();
    throw error;
  }
  return pool;
}
