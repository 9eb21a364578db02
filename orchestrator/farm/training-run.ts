/**
 * Everything a `sandfarm train` run needs, built from its config and its run directory: the
 * preflight (data files, the policy endpoint's doctor), provenance, the journal, the task
 * schedule (positioned for a resume), the policy client, the rewarder, the sandbox pool, the
 * spool and, for the bridge sink, the gRPC server and policy-update protocol. `close()` releases
 * all of it, sandboxes included, whatever happened.
 *
 * Run directory: `config.json` (the resolved config), `provenance.json`, `journal.jsonl`,
 * `batches/` (the spool: Arrow IPC files and their journal), `metrics.jsonl`,
 * `validation.jsonl`, `trajectories.jsonl`, and with the bridge sink `trainer.jsonl` (the
 * trainer's metrics from its acks).
 *
 * @example
 * const run = await launchTraining({ config });
 * try { await run.farm.run(); } finally { await run.close(); }
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { ConfigError } from "../../common/errors.js";
import { type BadRow, readTasks } from "../../datasets/load.js";
import type { Task } from "../../datasets/task.js";
import { PolicyUpdates } from "../../trainer-bridge/policy-updates.js";
import { BridgeOptionError, BridgeServer } from "../../trainer-bridge/server.js";
import { Spool } from "../../trainer-bridge/spool.js";
import { CHAT_TEMPLATE_KWARGS_KEY, SAMPLING_KEY } from "../../trainer-bridge/arrow.js";
import { type FarmConfig, parseFarmConfig } from "../config/train.js";
import { MIN_CONTEXT_TOKENS } from "../config/defaults.js";
import { evalSampling, rolloutSampling } from "../config/sampling.js";
import { type FittedEpisode, fitToEndpoint } from "../launch/endpoint-limits.js";
import { policyClientFor, preflightPolicy } from "../launch/policy.js";
import { raisePriority } from "../launch/priority.js";
import {
  type Fingerprint,
  fingerprint,
  gitRevision,
  imageProvenance,
} from "../launch/provenance.js";
import { rewarderFor } from "../launch/rewarder.js";
import { startSandboxFleet } from "../launch/sandboxes.js";
import { VllmPolicyControl, resumeLeftPaused } from "../policy/admin.js";
import { enginesFromSelectors } from "../sandbox/engines.js";
import type { SandboxFleet } from "../sandbox/fleet.js";
import { SANDFARM_VERSION } from "../version.js";
import { Farm, type FarmEvent } from "./farm.js";
import { FarmJournal } from "./journal.js";
import { TrainerLog } from "./trainer-log.js";
import { FarmGauges } from "./metrics.js";
import { TaskCursor } from "./task-cursor.js";

export interface LaunchOptions {
  /** A new run's config; with `resumeDir` unset. */
  config?: FarmConfig;
  /** Resume this run directory (its config.json is the config). */
  resumeDir?: string;
  /** Skip the policy endpoint's preflight. @default false */
  skipDoctor?: boolean;
  /**
   * `--engine` selectors (NAME or NAME=HOST): the engines this session places sandboxes on,
   * instead of `sandbox.engines`; a resumed run may change them (a host died, another joined).
   */
  engines?: readonly string[];
  onEvent?: (event: FarmEvent) => void;
  /** A setting was adjusted to fit the endpoint (e.g. a budget above the served context). */
  onWarning?: (message: string) => void;
}

export interface TrainingRun {
  farm: Farm;
  /** Task rows passed over with `data.onBadRow: skip`, filled as the data is read. */
  skippedRows: BadRow[];
  runDir: string;
  runId: string;
  config: FarmConfig;
  resumed: boolean;
  /** The bridge's port (bridge sink). */
  bridgePort?: number;
  bridge?: BridgeServer;
  /** The sandbox fleet (sandbox mode, or validation in sandbox mode). */
  pool?: SandboxFleet;
  /** The Prometheus endpoint's port, when served. */
  metricsPort?: number;
  close(): Promise<void>;
}

/** The config key (or variable) behind each bridge server option, for its error message. */
const SINK_KEY_OF_OPTION: Record<BridgeOptionError["option"], string> = {
  token: "SANDFARM_BRIDGE_TOKEN",
  ackTimeoutMs: "sink.ackTimeoutS",
  helloTimeoutMs: "sink",
  watermarks: "sink.lowWatermarkTokens",
};

/** Whether training or validation runs sandbox-mode episodes. */
function usesSandboxes(config: FarmConfig): boolean {
  return (
    config.run.mode === "sandbox" ||
    (config.data.validation.length > 0 && config.validation.modes.includes("sandbox"))
  );
}

function checkFiles(config: FarmConfig): void {
  for (const [key, files] of [
    ["data.train", config.data.train],
    ["data.validation", config.data.validation],
  ] as const)
    files.forEach((file, index) => {
      if (!existsSync(file))
        throw new ConfigError(
          `${key}[${index}]: no such file ${file}; give a JSONL, Parquet or Arrow task file`,
        );
    });
}

/** The config with `--engine` selectors applied to its `sandbox.engines`. */
function withEngines(config: FarmConfig, selectors: readonly string[] | undefined): FarmConfig {
  if (!selectors?.length) return config;
  const engines = enginesFromSelectors(selectors, config.sandbox.engines, process.env);
  return { ...config, sandbox: { ...config.sandbox, engines } };
}

/** The run directory and config of a new run (created once its checks pass), or of the run being resumed. */
function runDirectory(options: LaunchOptions): {
  runDir: string;
  config: FarmConfig;
  resumed: boolean;
} {
  if (options.resumeDir) {
    const runDir = resolve(options.resumeDir);
    const path = join(runDir, "config.json");
    if (!existsSync(path))
      throw new ConfigError(
        `--resume ${options.resumeDir}: no config.json there; give the directory a \`sandfarm train\` run created`,
      );
    const config = parseFarmConfig(JSON.parse(readFileSync(path, "utf8")) as unknown, path);
    return { runDir, config: withEngines(config, options.engines), resumed: true };
  }
  if (!options.config) throw new ConfigError("give a config file, or --resume RUN_DIR");
  const runId = options.config.run.id ?? `run-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  const config: FarmConfig = withEngines(
    { ...options.config, run: { ...options.config.run, id: runId } },
    options.engines,
  );
  const runDir = resolve(config.run.dir, runId);
  if (existsSync(join(runDir, "journal.jsonl")))
    throw new ConfigError(
      `run.id ${runId}: ${runDir} already holds a run; continue it with \`sandfarm train --resume ${runDir}\` or set another run.id`,
    );
  return { runDir, config, resumed: false };
}

/**
 * What the run's model calls are sent: the training rollouts' sampling in full (the trainer's
 * importance ratio is taken against it), validation's (only the keys it sets, per mode) and the
 * chat template's switches. Recorded in provenance.json; the rollouts' go into every batch too.
 */
function samplingRecord(config: FarmConfig) {
  return {
    rollouts: rolloutSampling(config.policy.sampling, config.run.mode),
    validation: Object.fromEntries(
      config.validation.modes.map((mode) => [mode, evalSampling(config.validation.sampling, mode)]),
    ),
    ...(config.policy.chatTemplateKwargs
      ? { chatTemplateKwargs: config.policy.chatTemplateKwargs }
      : {}),
  };
}

/** The schema metadata every batch of the run carries (`trainer-bridge/arrow.ts`). */
function batchMetadata(config: FarmConfig): Record<string, string> {
  const { rollouts, chatTemplateKwargs } = samplingRecord(config);
  return {
    [SAMPLING_KEY]: JSON.stringify(rollouts),
    ...(chatTemplateKwargs
      ? { [CHAT_TEMPLATE_KWARGS_KEY]: JSON.stringify(chatTemplateKwargs) }
      : {}),
  };
}

async function writeProvenance(
  runDir: string,
  config: FarmConfig,
  resumed: boolean,
  fitted: FittedEpisode,
): Promise<void> {
  const path = join(runDir, "provenance.json");
  const datasets = await Promise.all(
    [...config.data.train, ...config.data.validation].map((file) => fingerprint(file)),
  );
  const session = {
    startedAt: new Date().toISOString(),
    resumed,
    pid: process.pid,
    // What this session's episodes ran under: the served context and the fitted limits.
    endpoint: {
      contextTokens: fitted.contextTokens,
      contextSource: fitted.contextSource,
      maxTotalTokens: fitted.episode.maxTotalTokens,
      maxTokensPerCall: fitted.episode.maxTokensPerCall,
    },
  };
  if (resumed && existsSync(path)) {
    const previous = JSON.parse(readFileSync(path, "utf8")) as {
      datasets: Fingerprint[];
      sessions: unknown[];
    };
    for (const before of previous.datasets) {
      const now = datasets.find((entry) => entry.file === before.file);
      if (now?.sha256 !== before.sha256)
        throw new ConfigError(
          `${before.file} changed since the run started (sha256 ${before.sha256.slice(0, 12)}... is now ` +
            `${now?.sha256.slice(0, 12) ?? "missing"}...): the task schedule would differ, so the run cannot resume; restore the file or start a new run`,
        );
    }
    previous.sessions.push(session);
    writeFileSync(path, `${JSON.stringify(previous, null, 2)}\n`);
    return;
  }
  const provenance = {
    runId: config.run.id,
    mode: config.run.mode,
    sandfarm: { version: SANDFARM_VERSION, git: gitRevision() },
    sandbox: usesSandboxes(config) ? await imageProvenance(config) : { backend: "none (llm mode)" },
    policy: { urls: config.policy.urls, model: config.policy.model },
    sampling: samplingRecord(config),
    datasets,
    sessions: [session],
  };
  writeFileSync(path, `${JSON.stringify(provenance, null, 2)}\n`);
}

export async function launchTraining(options: LaunchOptions): Promise<TrainingRun> {
  const { runDir, config, resumed } = runDirectory(options);
  const runId = config.run.id!;
  checkFiles(config);
  if (config.sink.kind === "bridge")
    for (const url of await resumeLeftPaused(config.policy.urls))
      options.onWarning?.(
        `${url} was paused (a policy update cut off by a crash, or another farm's); resumed it`,
      );
  if (!options.skipDoctor)
    await preflightPolicy(config.policy, MIN_CONTEXT_TOKENS, usesSandboxes(config));
  const fitted = await fitToEndpoint(config.policy, config.episode);
  for (const warning of fitted.warnings) options.onWarning?.(warning);
  // Only a run that passed its checks gets a directory.
  if (!resumed) {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  }
  await writeProvenance(runDir, config, resumed, fitted);

  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
    closers.length = 0;
  };
  try {
    closers.push(raisePriority(config.run.nice));
    const journal = await FarmJournal.open(runDir);
    closers.push(() => journal.close());
    const spool = await Spool.open(join(runDir, "batches"), {
      runId,
      batchMetadata: batchMetadata(config),
      // The file sink never serves its batches: nothing to keep in memory.
      ...(config.sink.kind === "files" ? { memoryBytes: 0 } : {}),
    });
    closers.push(() => spool.close());

    const validationTasks: Task[] = [];
    const skippedRows: BadRow[] = [];
    for await (const task of readTasks(config.data.validation, {
      mapping: config.data.mapping,
      onBadRow: config.data.onBadRow,
      skipped: skippedRows,
    }))
      validationTasks.push(task);
    const tasks = await TaskCursor.open(
      config.data.train,
      {
        mapping: config.data.mapping,
        onBadRow: config.data.onBadRow,
        skipped: skippedRows,
        ...(config.data.domains.length > 0 ? { domains: config.data.domains } : {}),
        epochs: config.data.epochs,
        shuffle: { seed: config.run.seed, bufferSize: config.data.shuffleBuffer },
      },
      Farm.tasksToKeep(journal, spool.committedRollouts()),
    );
    closers.push(() => tasks.close());

    const policy = policyClientFor(config.policy);
    policy.version = journal.state.version;
    // A resumed run samples from the adapter its last committed update put in place.
    if (journal.state.model) policy.useModel(journal.state.model);
    closers.push(() => policy.close());

    const rewarder = await rewarderFor(config.rewards, config.rollout.scoring);
    closers.push(() => rewarder.close());

    const gauges = new FarmGauges();
    let pool: SandboxFleet | undefined;
    if (usesSandboxes(config)) {
      const started = await startSandboxFleet(config.sandbox, runId, {
        warmSize: Math.min(config.rollout.warmSandboxes, config.rollout.episodes),
        maxConcurrentStarts: config.rollout.sandboxStarts,
        registry: gauges.registry,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
      closers.push(() => started.close());
      pool = started;
    }

    let bridge: BridgeServer | undefined;
    let updates: PolicyUpdates | undefined;
    let bridgePort: number | undefined;
    if (config.sink.kind === "bridge") {
      const control = new VllmPolicyControl(policy, {
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
      updates = new PolicyUpdates(control, {
        pauseMode: config.policy.pauseMode,
        initialVersion: journal.state.version,
      });
      const token = process.env.SANDFARM_BRIDGE_TOKEN;
      const tls = config.sink.tls;
      try {
        const trainerLog = new TrainerLog(runDir);
        bridge = new BridgeServer({
          spool,
          onAck: (ack) => trainerLog.append(ack),
          delivery: config.sink.delivery,
          ackTimeoutMs: Math.round(config.sink.ackTimeoutS * 1000),
          policy: updates,
          watermarks: {
            highTokens: config.sink.highWatermarkTokens,
            lowTokens: config.sink.lowWatermarkTokens,
          },
          ...(token ? { token } : {}),
          ...(tls
            ? {
                tls: {
                  cert: readFileSync(tls.cert),
                  key: readFileSync(tls.key),
                  ...(tls.clientCa ? { clientCa: readFileSync(tls.clientCa) } : {}),
                },
              }
            : {}),
        });
      } catch (error) {
        const key =
          error instanceof BridgeOptionError ? SINK_KEY_OF_OPTION[error.option] : "sink (tls)";
        throw new ConfigError(`${key}: ${(error as Error).message}`, { cause: error });
      }
      closers.push(() => bridge!.close());
      bridgePort = await bridge.listen(config.sink.address);
    }

    gauges.version.set(journal.state.version);
    let metricsPort: number | undefined;
    if (config.metrics.prometheusPort !== undefined) {
      const served = await gauges.serve(config.metrics.prometheusPort);
      metricsPort = served.port;
      const server: Server = served.server;
      closers.push(() => new Promise<void>((done) => server.close(() => done())));
    }

    const farm = new Farm({
      config,
      endpoint: fitted,
      runId,
      runDir,
      policy,
      rewarder,
      ...(pool ? { sandboxes: pool } : {}),
      spool,
      ...(bridge ? { bridge } : {}),
      ...(updates ? { updates } : {}),
      journal,
      tasks,
      validationTasks,
      gauges,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    return {
      farm,
      skippedRows,
      runDir,
      runId,
      config,
      resumed,
      ...(bridgePort !== undefined ? { bridgePort } : {}),
      ...(bridge ? { bridge } : {}),
      ...(pool ? { pool } : {}),
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
