import { z } from "zod";
import { ConfigError } from "../../common/errors.js";
import { enginesSchema } from "./engines.js";

/** The image tag the deploy scripts build; the version follows sandfarm's own. */
export const DEFAULT_SANDBOX_IMAGE = "sandfarm/sandbox:0.1.0";

/**
 * Capabilities dropped from Docker's default set. The rest stay: installing packages with
 * apt-get and pip, and chown, are part of what the model is meant to do (docs/architecture.md,
 * "Sandbox conventions").
 */
export const DROPPED_CAPABILITIES = ["NET_RAW", "MKNOD", "SYS_CHROOT", "AUDIT_WRITE", "SETFCAP"];

const networkMode = z
  .string()
  .min(1)
  .refine((value) => value !== "host", {
    message:
      "network 'host' would give the sandbox the host's network; use none, bridge or a named network",
  });

/** Sandbox configuration. Every option has its default here and nowhere else. */
export const sandboxConfigSchema = z
  .object({
    /**
     * `docker` (containers on a Docker engine) or `local` (bubblewrap over the image's root
     * filesystem, no engine; root only, network none). @default "docker"
     */
    backend: z.enum(["docker", "local"]).default("docker"),
    /** Image to run. @default "sandfarm/sandbox:0.1.0" */
    image: z.string().min(1).default(DEFAULT_SANDBOX_IMAGE),
    /** Memory limit in MiB; swap is set equal so the limit is real. @default 2048 */
    memoryMb: z.number().int().min(64).default(2048),
    /** CPU limit in cores (fractional allowed). @default 1 */
    cpus: z.number().positive().max(256).default(1),
    /** Maximum number of processes and threads in the sandbox. @default 512 */
    pidsLimit: z.number().int().min(16).default(512),
    /** `none`, `bridge` or the name of an existing Docker network. @default "none" */
    network: networkMode.default("none"),
    /** OCI runtime registered with the engine (`runc`, `runsc`); unset = the engine's default. */
    runtime: z.string().min(1).optional(),
    /** Seconds after which the sandbox destroys itself even if sandfarm is gone. @default 7200 */
    ttlS: z.number().int().min(10).default(7200),
    /** Default per-command timeout in seconds. @default 120 */
    commandTimeoutS: z.number().positive().default(120),
    /** Bytes of raw output captured per stream before the rest is discarded. @default 1048576 */
    captureCapBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    /**
     * How commands reach the sandbox: `runner` (one long-lived process per sandbox, a fork per
     * command; falls back to `exec` if the image cannot run it) or `exec` (one docker exec per
     * command). @default "runner"
     */
    execMode: z.enum(["runner", "exec"]).default("runner"),
    /**
     * Sandbox creations per second at most, warm-up and cold acquires together. Unset: 20 on
     * docker (the engine slows down past that), 200 on local (no engine: the cores are the
     * limit; measured here, 2 cores made about 60 a second).
     */
    startsPerSecond: z.number().positive().optional(),
    /**
     * Docker engines to place sandboxes on: `{name, host, tls?, insecure?, capacity?,
     * maxStartsPerSecond?, runtime?}` each (docs/fleet.md). Empty: one engine from Docker's own
     * variables (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), as the docker CLI reads them.
     * @default []
     */
    engines: enginesSchema
      .default([])
      .describe(
        "Docker engines to place sandboxes on: {name, host, tls?, insecure?, capacity?, maxStartsPerSecond?, runtime?} each (README, Running on many machines). Empty: DOCKER_HOST etc. as the docker CLI reads them.",
      ),
    /**
     * How each engine is watched: a ping every `intervalMs` (answered within `timeoutMs`);
     * `failures` failed pings in a row, or `createFailures` failed sandbox starts in a row, eject
     * it (no new sandboxes, its warm pool dropped, its running sandboxes' episodes end as
     * infrastructure failures). An ejected engine is probed with backoff (up to
     * `maxProbeIntervalMs`) and readmitted after `readmitProbes` answers in a row.
     */
    health: z
      .strictObject({
        intervalMs: z.number().int().min(100).default(1000),
        timeoutMs: z.number().int().min(100).default(1000),
        failures: z.number().int().min(1).default(2),
        createFailures: z.number().int().min(1).default(3),
        readmitProbes: z.number().int().min(1).default(2),
        maxProbeIntervalMs: z.number().int().min(100).default(8000),
      })
      .prefault({})
      .describe(
        "Engine health checks: ping every intervalMs (timeoutMs), eject after `failures` failed pings or `createFailures` failed starts in a row, readmit after `readmitProbes` good probes (backoff up to maxProbeIntervalMs).",
      ),
    /**
     * Seconds the farm waits, admitting nothing, while no engine is healthy, before it halts.
     * @default 300
     */
    engineOutageS: z
      .number()
      .min(0)
      .default(300)
      .describe(
        "Seconds to wait with every engine ejected (admission paused, probing on) before halting.",
      ),
    /**
     * MB the sandbox may write (its writable layer: /testbed, /tmp, /, everything but mounts).
     * Sampled from the engine while a command runs (every `diskSampleMs`) and after commands (at
     * most every 5 s); past it the sandbox is stopped and the episode ends as `disk_limit`
     * (reward 0, the model's doing). Docker backend; 0: no limit. @default 10240
     */
    diskLimitMb: z
      .number()
      .int()
      .min(0)
      .default(10_240)
      .describe(
        "MB a sandbox may write (its writable layer); past it the episode ends as disk_limit (Docker backend; 0: no limit).",
      ),
    /** How often a running command's sandbox is sampled for `diskLimitMb`. @default 1000 */
    diskSampleMs: z.number().int().min(100).default(1000),
    /** Run id recorded in the container labels. @default "adhoc" */
    runId: z.string().min(1).default("adhoc"),
    /** Extra environment variables set inside the sandbox (never copied from the host). */
    env: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.backend === "local" && config.engines.length > 0)
      context.addIssue({
        code: "custom",
        path: ["engines"],
        message:
          "the local backend runs sandboxes on this machine without an engine: remove sandbox.engines or use backend docker",
      });
  });

export type SandboxConfig = z.output<typeof sandboxConfigSchema>;

/** Sandbox creations per second at most when `startsPerSecond` is unset, by backend. */
export const DEFAULT_STARTS_PER_SECOND = { docker: 20, local: 200 } as const;

/** The creation rate limit a config asks for, or its backend's default. */
export function startsPerSecond(
  config: Pick<SandboxConfig, "backend" | "startsPerSecond">,
): number {
  return config.startsPerSecond ?? DEFAULT_STARTS_PER_SECOND[config.backend];
}
export type SandboxConfigInput = z.input<typeof sandboxConfigSchema>;

/** Validates a sandbox config, naming each bad key and how to fix it. */
export function parseSandboxConfig(input: SandboxConfigInput = {}): SandboxConfig {
  const result = sandboxConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.length > 0 ? `sandbox.${issue.path.join(".")}` : "sandbox";
    return `${key}: ${issue.message}`;
  });
  throw new ConfigError(`invalid sandbox config:\n  ${problems.join("\n  ")}`);
}
