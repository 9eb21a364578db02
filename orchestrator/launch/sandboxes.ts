/**
 * The sandbox fleet a run's `sandbox` section describes (its engines, or Docker's own variables,
 * or the local backend), started and labelled with the run's id (so a resumed run can reap the
 * containers its crashed self left behind).
 *
 * @example
 * const fleet = await startSandboxFleet(config.sandbox, runId, { warmSize: 8, maxConcurrentStarts: 4 });
 * try { ... } finally { await fleet.close(); }
 */
import type { SandboxSection } from "../config/sections.js";
import { engineWarnings, resolveEngines } from "../sandbox/engines.js";
import type { SandboxFleet } from "../sandbox/fleet.js";
import { fleetFromConfig } from "../sandbox/fleet-setup.js";

export async function startSandboxFleet(
  sandbox: SandboxSection,
  runId: string,
  options: {
    warmSize: number;
    maxConcurrentStarts: number;
    onWarning?: (message: string) => void;
  },
): Promise<SandboxFleet> {
  if (sandbox.backend === "docker")
    for (const warning of engineWarnings(resolveEngines(sandbox.engines, process.env)))
      options.onWarning?.(warning);
  const fleet = fleetFromConfig(
    { ...sandbox, runId },
    {
      warmSize: options.warmSize,
      maxConcurrentStarts: options.maxConcurrentStarts,
      onEvent: (event) =>
        options.onWarning?.(
          event.kind === "ejected"
            ? `engine '${event.engine}' ejected, ${event.lostSandboxes} running sandbox(es) lost (their groups run again elsewhere): ${event.reason}`
            : `engine '${event.engine}' readmitted after ${event.downS} s down (${event.reaped} stranded sandbox(es) removed)`,
        ),
    },
  );
  try {
    await fleet.start();
  } catch (error) {
    await fleet.close();
    throw error;
  }
  return fleet;
}
