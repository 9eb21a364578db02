/**
 * The fleet's Prometheus metrics, per engine (label `engine`): sandboxes in use, warm and
 * starting, capacity and health (read from the fleet when scraped), sandbox start latency,
 * failed starts and ejections (counted as they happen).
 *
 * @example
 * const metrics = new FleetMetrics(registry);
 * const fleet = fleetFromConfig(config, { ...options, onStart: metrics.onStart, onEvent: metrics.onEvent });
 * metrics.watch(fleet);
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { FleetEvent, SandboxFleet } from "./fleet.js";

export class FleetMetrics {
  private fleet?: SandboxFleet;
  private readonly sandboxes: Gauge;
  private readonly capacity: Gauge;
  private readonly healthy: Gauge;
  private readonly startSeconds: Histogram;
  private readonly startFailures: Counter;
  private readonly ejections: Counter;

  constructor(registry: Registry) {
    const read = () => this.fleet?.stats().engines ?? [];
    this.sandboxes = new Gauge({
      name: "sandfarm_engine_sandboxes",
      help: "Sandboxes on each engine, by state (in_use, warm, starting).",
      labelNames: ["engine", "state"],
      registers: [registry],
      collect() {
        this.reset();
        for (const engine of read()) {
          this.set({ engine: engine.name, state: "in_use" }, engine.inUse);
          this.set({ engine: engine.name, state: "warm" }, engine.warm);
          this.set({ engine: engine.name, state: "starting" }, engine.starting);
        }
      },
    });
    this.capacity = new Gauge({
      name: "sandfarm_engine_capacity",
      help: "Sandboxes each engine holds at once (sandbox.engines[].capacity).",
      labelNames: ["engine"],
      registers: [registry],
      collect() {
        this.reset();
        for (const engine of read()) this.set({ engine: engine.name }, engine.capacity);
      },
    });
    this.healthy = new Gauge({
      name: "sandfarm_engine_healthy",
      help: "1 while the engine is in placement, 0 while ejected.",
      labelNames: ["engine"],
      registers: [registry],
      collect() {
        this.reset();
        for (const engine of read()) this.set({ engine: engine.name }, engine.healthy ? 1 : 0);
      },
    });
    this.startSeconds = new Histogram({
      name: "sandfarm_engine_start_seconds",
      help: "Time to start one sandbox (create and start the container), per engine.",
      labelNames: ["engine"],
      buckets: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4],
      registers: [registry],
    });
    this.startFailures = new Counter({
      name: "sandfarm_engine_start_failures_total",
      help: "Sandbox starts that failed, per engine.",
      labelNames: ["engine"],
      registers: [registry],
    });
    this.ejections = new Counter({
      name: "sandfarm_engine_ejections_total",
      help: "Times each engine was ejected from placement (stopped answering, or failed starts).",
      labelNames: ["engine"],
      registers: [registry],
    });
  }

  /** The fleet whose engines the gauges read when scraped. */
  watch(fleet: SandboxFleet): void {
    this.fleet = fleet;
  }

  readonly onStart = (engine: string, seconds: number, error: unknown): void => {
    if (error === undefined) this.startSeconds.observe({ engine }, seconds);
    else this.startFailures.inc({ engine });
  };

  readonly onEvent = (event: FleetEvent): void => {
    if (event.kind === "ejected") this.ejections.inc({ engine: event.engine });
  };
}
