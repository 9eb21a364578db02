/** `sandfarm sandbox doctor | exec | gc`. */
import { Command, Option } from "commander";
import { type SandboxConfigInput, parseSandboxConfig } from "../sandbox/config.js";
import Docker from "dockerode";
import type { ManagedSandbox } from "../sandbox/backend.js";
import { DockerBackend } from "../sandbox/docker-sandbox.js";
import {
  describeEngineFailure,
  engineConnection,
  enginesFromSelectors,
  resolveEngines,
} from "../sandbox/engines.js";
import { fleetFromConfig } from "../sandbox/fleet-setup.js";
import { LocalBackend } from "../sandbox/local-sandbox.js";
import { runDoctor } from "../sandbox/doctor.js";
import { runExecuteBash } from "../tools/execute-bash.js";
import { reportChecks } from "./checks.js";
import { engineOption } from "./engine-flags.js";
import { positiveNumber } from "./number-options.js";

export interface SandboxFlags {
  backend?: string;
  image?: string;
  network?: string;
  runtime?: string;
  memory?: number;
  cpus?: number;
  pids?: number;
  engine?: string[];
}

/** The sandbox config's defaults, which the help texts show. */
const SANDBOX_DEFAULTS = parseSandboxConfig();

export function withSandboxFlags(command: Command): Command {
  return command
    .option(
      "--backend <name>",
      `docker | local (bubblewrap, no engine; default ${SANDBOX_DEFAULTS.backend})`,
    )
    .option("--image <name>", `sandbox image (default ${SANDBOX_DEFAULTS.image})`)
    .option(
      "--network <mode>",
      `none | bridge | a named network (default ${SANDBOX_DEFAULTS.network})`,
    )
    .option("--runtime <name>", "OCI runtime registered with the engine: runc | runsc (gVisor)")
    .option(
      "--memory <mib>",
      `memory limit in MiB (default ${SANDBOX_DEFAULTS.memoryMb})`,
      positiveNumber,
    )
    .option("--cpus <n>", `CPU limit in cores (default ${SANDBOX_DEFAULTS.cpus})`, positiveNumber)
    .option("--pids <n>", `process limit (default ${SANDBOX_DEFAULTS.pidsLimit})`, positiveNumber)
    .addOption(engineOption());
}

export function configFrom(flags: SandboxFlags, extra: SandboxConfigInput = {}) {
  return parseSandboxConfig({
    ...(flags.backend ? { backend: flags.backend as "docker" } : {}),
    ...(flags.image ? { image: flags.image } : {}),
    ...(flags.network ? { network: flags.network } : {}),
    ...(flags.runtime ? { runtime: flags.runtime } : {}),
    ...(flags.memory ? { memoryMb: flags.memory } : {}),
    ...(flags.cpus ? { cpus: flags.cpus } : {}),
    ...(flags.pids ? { pidsLimit: flags.pids } : {}),
    ...(flags.engine ? { engines: enginesFromSelectors(flags.engine, [], process.env) } : {}),
    ...extra,
  });
}

export function sandboxCommand(): Command {
  const sandbox = new Command("sandbox").description("Sandbox engine, image and lifecycle");

  withSandboxFlags(sandbox.command("doctor"))
    .description("check engine, image, limits, runtime and network; exit 0 only when all pass")
    .option("--json", "print the checks as JSON")
    .action(async (flags: SandboxFlags & { json?: boolean }) => {
      reportChecks(await runDoctor(configFrom(flags)), flags.json);
    });

  withSandboxFlags(sandbox.command("exec"))
    .description(
      "run COMMAND in a fresh sandbox through the execute_bash path; print the raw result as JSON",
    )
    .addOption(
      new Option("--timeout <seconds>", "command timeout")
        .argParser(positiveNumber)
        .default(SANDBOX_DEFAULTS.commandTimeoutS),
    )
    .argument("<command...>", "the command (after --)")
    .action(async (words: string[], flags: SandboxFlags & { timeout: number }) => {
      // A fleet of no warm sandboxes: the one sandbox goes to the least loaded engine.
      const fleet = fleetFromConfig(configFrom(flags, { commandTimeoutS: flags.timeout }), {
        warmSize: 0,
        maxConcurrentStarts: 1,
        reapOrphansOnStart: false,
      });
      // The handler is in place before the container exists, so no signal can leak one.
      let sandbox: ManagedSandbox | undefined;
      let interrupted = false;
      const onSignal = (): void => {
        interrupted = true;
        if (sandbox) void fleet.close().finally(() => process.exit(130));
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        sandbox = await fleet.acquire();
        if (interrupted) {
          await fleet.close();
          process.exit(130);
        }
        const { result } = await runExecuteBash(sandbox, words.join(" "), flags.timeout);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await fleet.close();
      }
    });

  sandbox
    .command("gc")
    .description(
      "remove sandboxes (docker and local) whose owner process is gone or whose TTL passed, on every engine",
    )
    .addOption(engineOption())
    .action(async (flags: { engine?: string[] }) => {
      const config = parseSandboxConfig();
      const engines = resolveEngines(
        enginesFromSelectors(flags.engine, [], process.env),
        process.env,
      );
      let removed = 0;
      for (const engine of engines) {
        const where = engines.length > 1 ? `${engine.name}: ` : "";
        try {
          const backend = new DockerBackend(config, new Docker(engineConnection(engine)));
          for (const { id, reason } of await backend.collectGarbage()) {
            process.stdout.write(`${where}removed ${id.slice(0, 12)} (${reason})\n`);
            removed++;
          }
        } catch (error) {
          process.stdout.write(`${where}not swept: ${describeEngineFailure(engine, error)}\n`);
          process.exitCode = 1;
        }
      }
      if (!LocalBackend.problem(parseSandboxConfig({ backend: "local" }))) {
        for (const { id, reason } of await new LocalBackend(
          parseSandboxConfig({ backend: "local" }),
        ).collectGarbage()) {
          process.stdout.write(`local: removed ${id.slice(0, 12)} (${reason})\n`);
          removed++;
        }
      }
      process.stdout.write(`${removed} sandbox(es) removed\n`);
    });

  return sandbox;
}
