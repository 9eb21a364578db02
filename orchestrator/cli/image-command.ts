/**
 * `sandfarm image status | push`: the sandbox image on every engine of a fleet. The engines come
 * from a run config's `sandbox.engines` (`--config`) and `--engine` flags; the image is the
 * config's `sandbox.image` unless `--image` says otherwise. `push` streams it from the local
 * engine (DOCKER_HOST or the default socket) to each engine that lacks it or has another build.
 */
import { Command } from "commander";
import Docker from "dockerode";
import { ConfigError } from "../../common/errors.js";
import { DEFAULT_SANDBOX_IMAGE } from "../sandbox/config.js";
import {
  type EngineSpec,
  describeEngineFailure,
  engineConnection,
  resolveEngines,
} from "../sandbox/engines.js";
import { formatBytes, imageOn, pushImage, shortId } from "../sandbox/images.js";
import { engineOption, enginesForCommand } from "./engine-flags.js";

interface ImageFlags {
  config?: string;
  engine?: string[];
  image?: string;
  all?: boolean;
  json?: boolean;
}

/** The engines and image the flags name. */
function target(flags: ImageFlags): { engines: EngineSpec[]; image: string } {
  const { engines, sandbox } = enginesForCommand(flags);
  const image =
    flags.image ?? (typeof sandbox.image === "string" ? sandbox.image : DEFAULT_SANDBOX_IMAGE);
  return { engines, image };
}

function localEngine(): { spec: EngineSpec; docker: Docker } {
  const spec = resolveEngines([], process.env)[0]!;
  return { spec, docker: new Docker(engineConnection(spec)) };
}

/** One engine's image state: its id, or why there is none. */
async function stateOf(spec: EngineSpec, image: string): Promise<{ id?: string; error?: string }> {
  try {
    const found = await imageOn(new Docker(engineConnection(spec)), image);
    return found ? { id: found.id } : {};
  } catch (error) {
    return { error: describeEngineFailure(spec, error) };
  }
}

export function imageCommand(): Command {
  const command = new Command("image").description(
    "the sandbox image on every engine: status, and push from the local engine",
  );
  const common = (sub: Command) =>
    sub
      .option("--config <file>", "a run config whose sandbox.engines and sandbox.image to use")
      .addOption(engineOption())
      .option("--image <name>", `the image (default sandbox.image, else ${DEFAULT_SANDBOX_IMAGE})`);

  common(command.command("status"))
    .description("the image id on the local engine and on each engine; exit 1 if any differs")
    .option("--json", "print one JSON object")
    .action(async (flags: ImageFlags) => {
      const { engines, image } = target(flags);
      const local = localEngine();
      const expected = (await stateOf(local.spec, image)).id;
      const rows = await Promise.all(
        engines.map(async (spec) => ({
          name: spec.name,
          host: spec.host,
          ...(await stateOf(spec, image)),
        })),
      );
      const ok = (row: { id?: string }) => row.id !== undefined && row.id === expected;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ image, local: expected ?? null, engines: rows })}\n`,
        );
      } else {
        process.stdout.write(
          `${image} on the local engine: ${expected ? shortId(expected) : "missing"}\n`,
        );
        for (const row of rows) {
          const state = row.error
            ? `unreachable: ${row.error}`
            : !row.id
              ? "missing"
              : ok(row)
                ? `${shortId(row.id)} (same)`
                : `${shortId(row.id)} (differs)`;
          process.stdout.write(`${row.name.padEnd(16)} ${row.host.padEnd(32)} ${state}\n`);
        }
      }
      if (!rows.every(ok)) process.exitCode = 1;
    });

  common(command.command("push"))
    .description("stream the image from the local engine to engines that lack it or differ")
    .option("--all", "every engine of the config (or of the --engine flags)")
    .action(async (flags: ImageFlags) => {
      if (!flags.all && !flags.engine?.length)
        throw new ConfigError(
          "name the engines: --engine NAME (repeatable) or --all with --config",
        );
      const { engines, image } = target(flags);
      const local = localEngine();
      const wanted = await imageOn(local.docker, image).catch(() => undefined);
      if (!wanted)
        throw new ConfigError(
          `the local engine (${local.spec.host}) has no image ${image}: build it with 'bash deploy/image/build.sh', or set DOCKER_HOST to an engine that has it`,
        );
      const tty = process.stderr.isTTY;
      for (const spec of engines) {
        const docker = new Docker(engineConnection(spec));
        const have = await imageOn(docker, image);
        if (have?.id === wanted.id) {
          process.stdout.write(
            `${spec.name}: has ${image} (${shortId(wanted.id)}); nothing to push\n`,
          );
          continue;
        }
        let shown = 0;
        const started = Date.now();
        const { bytes } = await pushImage(local.docker, { name: spec.name, docker }, image, {
          onBytes: (sent) => {
            const percent = Math.min(100, Math.floor((100 * sent) / Math.max(1, wanted.size)));
            if (tty) process.stderr.write(`\r${spec.name}: ${formatBytes(sent)} (${percent}%)   `);
            else if (percent >= shown + 10) {
              shown = percent - (percent % 10);
              process.stderr.write(`${spec.name}: ${percent}%\n`);
            }
          },
        });
        if (tty) process.stderr.write("\n");
        process.stdout.write(
          `${spec.name}: pushed ${image} (${shortId(wanted.id)}, ${formatBytes(bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
        );
      }
    });
  return command;
}
