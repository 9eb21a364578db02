/**
 * The sandbox fleet a run's `sandbox` section describes (its engines, or Docker's own variables,
 * or the local backend), started and labelled with the run's id (so a resumed run can reap the
 * containers its crashed self left behind).
 *
 * @example
 * const fleet = await startSandboxFleet(config.sandbox, runId, { warmSize: 8, maxConcurrentStarts: 4 });
 * try { ... } finally { await fleet.close(); }
 */
import type { Registry } from "prom-client";
import type { SandboxSection } from "../config/sections.js";
import { engineWarnings, resolveEngines } from "../sandbox/engines.js";
import type { SandboxFleet } from "../sandbox/fleet.js";
import { FleetMetrics } from "../sandbox/fleet-metrics.js";
import { fleetFromConfig } from "../sandbox/fleet-setup.js";

export async function startSandboxFleet(
  sandbox: SandboxSection,
  runId: string,
  options: {
    warmSize: number;
    maxConcurrentStarts: number;
    onWarning?: (message: string) => void;
    /** Where the per-engine metrics go (the run's Prometheus registry). */
    registry?: Registry;
  },
): Promise<SandboxFleet> {
  const metrics = options.registry ? new FleetMetrics(options.registry) : undefined;
  if (sandbox.backend === "docker")
    for (const warning of engineWarnings(resolveEngines(sandbox.engines, process.env)))
      options.onWarning?.(warning);
  const fleet = fleetFromConfig(
    { ...sandbox, runId },
    {
      warmSize: options.warmSize,
      maxConcurrentStarts: options.maxConcurrentStarts,
      onEvent: (event) => {
        metrics?.onEvent(event);
        options.onWarning?.(
          event.kind === "ejected"
            ? `engine '${event.engine}' ejected, ${event.lostSandboxes} running sandbox(es) lost (their groups run again elsewhere): ${event.reason}`
            : `engine '${event.engine}' readmitted after ${event.downS} s down (${event.reaped} stranded sandbox(es) removed)`,
        );
      },
      ...(metrics ? { onStart: metrics.onStart } : {}),
    },
  );
  metrics?.watch(fleet);
  try {
    await fleet.start();
  } catch (error) {
    await fleet.close();
    throw error;
  }
  return fleet;
}
