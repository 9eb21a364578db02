/**
 * `sandfarm fleet status`: one line per engine (healthy, in use, warm, starting, capacity). From
 * a running farm's metrics endpoint (`--metrics URL`: its per-engine gauges), or, without one,
 * from the engines themselves: each is pinged, and its running sandfarm sandboxes counted as in
 * use (warm and starting are the farm's own bookkeeping, unknown from outside).
 */
import { Command } from "commander";
import Docker from "dockerode";
import { ConfigError } from "../../common/errors.js";
import {
  type EngineSpec,
  describeEngineFailure,
  engineConnection,
  pingEngine,
} from "../sandbox/engines.js";
import { LABEL_MANAGED } from "../sandbox/labels.js";
import { engineOption, enginesForCommand } from "./engine-flags.js";

interface FleetFlags {
  config?: string;
  engine?: string[];
  metrics?: string;
  json?: boolean;
}

interface EngineLine {
  name: string;
  host: string;
  healthy: boolean;
  inUse: number | null;
  warm: number | null;
  starting: number | null;
  capacity: number;
  version?: string;
  problem?: string;
}

/** One engine asked directly: does it answer, and how many sandfarm sandboxes run there. */
async function askEngine(spec: EngineSpec): Promise<EngineLine> {
  const base = {
    name: spec.name,
    host: spec.host,
    capacity: spec.capacity,
    warm: null,
    starting: null,
  };
  try {
    const docker = new Docker(engineConnection(spec));
    await pingEngine(docker, AbortSignal.timeout(3000));
    const version = (await docker.version()).Version;
    const running = await docker.listContainers({
      filters: { label: [`${LABEL_MANAGED}=true`], status: ["running"] },
    });
    return { ...base, healthy: true, inUse: running.length, version };
  } catch (error) {
    return { ...base, healthy: false, inUse: null, problem: describeEngineFailure(spec, error) };
  }
}

/** A Prometheus text exposition's samples of one metric, by label set. */
function samples(
  text: string,
  metric: string,
): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    const match = new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (!match) continue;
    const labels = Object.fromEntries(
      [...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1]!, pair[2]!]),
    );
    found.push({ labels, value: Number(match[2]) });
  }
  return found;
}

/** The engines as a running farm sees them, from its metrics endpoint. */
async function askFarm(url: string): Promise<EngineLine[]> {
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (error) {
    throw new ConfigError(
      `--metrics ${url}: ${(error as Error).message}; give the farm's metrics endpoint (metrics.prometheusPort), e.g. http://127.0.0.1:9400/metrics`,
    );
  }
  const capacity = samples(text, "sandfarm_engine_capacity");
  if (capacity.length === 0)
    throw new ConfigError(
      `--metrics ${url}: no sandfarm_engine_* metrics there; is it a sandfarm train run in sandbox mode?`,
    );
  const value = (metric: string, engine: string, state?: string) =>
    samples(text, metric).find(
      (sample) => sample.labels.engine === engine && (!state || sample.labels.state === state),
    )?.value ?? null;
  return capacity.map(({ labels, value: total }) => {
    const name = labels.engine!;
    return {
      name,
      host: "",
      healthy: value("sandfarm_engine_healthy", name) === 1,
      inUse: value("sandfarm_engine_sandboxes", name, "in_use"),
      warm: value("sandfarm_engine_sandboxes", name, "warm"),
      starting: value("sandfarm_engine_sandboxes", name, "starting"),
      capacity: total,
    };
  });
}

function show(value: number | null): string {
  return value === null ? "-" : String(value);
}

export function fleetCommand(): Command {
  const fleet = new Command("fleet").description("the sandbox engines of a fleet");
  fleet
    .command("status")
    .description("one line per engine: healthy, in use, warm, starting, capacity")
    .option("--config <file>", "a run config whose sandbox.engines to ask")
    .addOption(engineOption())
    .option(
      "--metrics <url>",
      "a running farm's metrics endpoint, e.g. http://127.0.0.1:9400/metrics",
    )
    .option("--json", "print one JSON object")
    .action(async (flags: FleetFlags) => {
      const lines = flags.metrics
        ? await askFarm(flags.metrics)
        : await Promise.all(enginesForCommand(flags).engines.map(askEngine));
      if (flags.json) process.stdout.write(`${JSON.stringify({ engines: lines })}\n`);
      else {
        process.stdout.write(
          `${"engine".padEnd(16)} ${"healthy".padEnd(8)} ${"in use".padStart(6)} ${"warm".padStart(5)} ${"starting".padStart(8)} ${"capacity".padStart(8)}  host\n`,
        );
        for (const line of lines)
          process.stdout.write(
            `${line.name.padEnd(16)} ${(line.healthy ? "yes" : "NO").padEnd(8)} ${show(line.inUse).padStart(6)} ${show(line.warm).padStart(5)} ${show(line.starting).padStart(8)} ${String(line.capacity).padStart(8)}  ${line.host}${line.version ? ` (Docker ${line.version})` : ""}${line.problem ? `: ${line.problem}` : ""}\n`,
          );
      }
      if (lines.some((line) => !line.healthy)) process.exitCode = 1;
    });
  return fleet;
}
