/**
 * The fleet a sandbox config describes: its engines (`sandbox.engines`, or Docker's own
 * variables), each with a Docker client, a backend with the engine's runtime and a warm pool sized
 * in proportion to its capacity and starting at its own rate; the image check against the local
 * engine's build; or, for the local backend, one pool on this machine.
 *
 * @example
 * const fleet = fleetFromConfig(config, { warmSize: 16, maxConcurrentStarts: 8 });
 * await fleet.start();
 */
import Docker from "dockerode";
import { type SandboxConfig, startsPerSecond } from "./config.js";
import { DockerBackend } from "./docker-sandbox.js";
import {
  DEFAULT_ENGINE_CAPACITY,
  type EngineSpec,
  engineConnection,
  resolveEngines,
} from "./engines.js";
import { type FleetEvent, type FleetSettings, type ImageCheck, SandboxFleet } from "./fleet.js";
import { LocalBackend } from "./local-sandbox.js";
import { SandboxPool } from "./pool.js";

export interface FleetOptions {
  /** Warm sandboxes across the fleet, split in proportion to capacity. */
  warmSize: number;
  /** Starts in flight at once, per engine. */
  maxConcurrentStarts: number;
  /** Reap this farm's leftovers on each engine at start. @default true */
  reapOrphansOnStart?: boolean;
  /** Where Docker's own variables are read when `sandbox.engines` is empty. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Engines ejected and readmitted, for the run's log. */
  onEvent?: (event: FleetEvent) => void;
  /** Each sandbox start on a Docker engine, for the metrics. */
  onStart?: FleetSettings["onStart"];
}

/**
 * Splits `total` over `weights` in proportion, rounding by largest remainder so the parts add up
 * to `total` exactly.
 */
export function proportionalSplit(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const exact = weights.map((weight) => (total * weight) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (left <= 0) break;
    parts[index]!++;
    left--;
  }
  return parts;
}

/**
 * The fleet a sandbox config describes: its `engines` (or Docker's own variables), one pool
 * each; or, for the local backend, one pool on this machine.
 */
export function fleetFromConfig(config: SandboxConfig, options: FleetOptions): SandboxFleet {
  const reapOrphansOnStart = options.reapOrphansOnStart ?? true;
  const settings: FleetSettings = {
    health: config.health,
    outageS: config.engineOutageS,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.onStart ? { onStart: options.onStart } : {}),
  };
  if (config.backend === "local")
    return new SandboxFleet(
      [
        {
          name: "local",
          host: "local",
          capacity: DEFAULT_ENGINE_CAPACITY,
          pool: new SandboxPool(new LocalBackend(config), {
            warmSize: options.warmSize,
            maxConcurrentStarts: options.maxConcurrentStarts,
            startsPerSecond: startsPerSecond(config),
            reapOrphansOnStart,
          }),
        },
      ],
      settings,
    );
  const env = options.env ?? process.env;
  const specs = resolveEngines(config.engines, env);
  // In proportion to capacity, and never more than an engine holds.
  const warm = proportionalSplit(
    options.warmSize,
    specs.map((spec) => spec.capacity),
  ).map((size, index) => Math.min(size, specs[index]!.capacity));
  return new SandboxFleet(
    specs.map((spec, index) => {
      const docker = new Docker(engineConnection(spec));
      const backend = new DockerBackend(engineConfig(config, spec), docker);
      return {
        name: spec.name,
        host: spec.host,
        capacity: spec.capacity,
        docker,
        spec,
        events: backend,
        pool: new SandboxPool(backend, {
          warmSize: warm[index]!,
          maxConcurrentStarts: options.maxConcurrentStarts,
          startsPerSecond: spec.maxStartsPerSecond ?? startsPerSecond(config),
          reapOrphansOnStart,
        }),
      };
    }),
    settings,
    imageCheckFor(config.image, specs, env),
  );
}

/** The sandbox config for one engine: its runtime, when its entry names one. */
function engineConfig(config: SandboxConfig, spec: EngineSpec): SandboxConfig {
  return spec.runtime ? { ...config, runtime: spec.runtime } : config;
}

/**
 * The image check for a Docker fleet: against Docker's own engine, which `image push` reads from.
 * A fleet that is just that engine needs none.
 */
function imageCheckFor(
  image: string,
  specs: readonly EngineSpec[],
  env: NodeJS.ProcessEnv,
): ImageCheck | undefined {
  let local: EngineSpec;
  try {
    local = resolveEngines([], env)[0]!;
  } catch {
    return { image };
  }
  if (specs.length === 1 && specs[0]!.host === local.host) return undefined;
  try {
    return { image, local: new Docker(engineConnection(local)) };
  } catch {
    return { image };
  }
}
