/**
 * The Docker engines sandboxes run on: `sandbox.engines` entries, or with none one engine from
 * Docker's own variables (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`) read as the
 * docker CLI reads them, and the connection options for each. A `tcp://` engine speaks mutual
 * TLS, verified, unless its entry says `insecure: true` (then a warning says so).
 *
 * @example
 * const engines = resolveEngines(parseEngines(config.engines), process.env);
 * const docker = new Docker(engineConnection(engines[0]!));
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { z } from "zod";
import { ConfigError } from "../../common/errors.js";

/** An engine entry's capacity (concurrent sandboxes) when the entry or environment gives none. */
export const DEFAULT_ENGINE_CAPACITY = 256;

const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

const hostSchema = z
  .string()
  .refine((host) => /^unix:\/\/\/\S+$/.test(host) || /^tcp:\/\/[^\s/:]+:\d{1,5}$/.test(host), {
    message: "must be unix:///path/to/docker.sock or tcp://ADDRESS:PORT",
  });

export const engineSpecSchema = z
  .strictObject({
    /** Names the engine in metrics, logs and `--engine NAME=HOST`. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "use lowercase letters, digits, '-' and '_'"),
    /** `unix:///path` or `tcp://address:port`. */
    host: hostSchema,
    /** Mutual TLS files: the CA that signed the engine's certificate, and the client's pair. */
    tls: z
      .strictObject({ ca: z.string().min(1), cert: z.string().min(1), key: z.string().min(1) })
      .optional(),
    /** A `tcp://` engine without TLS: allowed only when said, and warned about. */
    insecure: z.boolean().default(false),
    /** Sandboxes it holds at once. @default 256 */
    capacity: z.number().int().min(1).default(DEFAULT_ENGINE_CAPACITY),
    /** Sandbox creations per second at most; unset: the backend's default. */
    maxStartsPerSecond: z.number().positive().optional(),
    /** OCI runtime for its sandboxes; unset: `sandbox.runtime`. */
    runtime: z.string().min(1).optional(),
  })
  .superRefine((engine, context) => {
    if (engine.host.startsWith("tcp://") && !engine.tls && !engine.insecure)
      context.addIssue({
        code: "custom",
        path: ["tls"],
        message: `${engine.host} needs mutual TLS: set tls {ca, cert, key} (bash deploy/certs.sh DIR ADDRESS makes them), or insecure: true to send the engine's API in the clear`,
      });
    if (engine.host.startsWith("unix://") && engine.tls)
      context.addIssue({
        code: "custom",
        path: ["tls"],
        message: "a unix:// engine is a local socket: TLS applies to tcp:// engines only",
      });
  });

export type EngineSpec = z.output<typeof engineSpecSchema>;
export type EngineSpecInput = z.input<typeof engineSpecSchema>;

export const enginesSchema = z.array(engineSpecSchema).superRefine((engines, context) => {
  const seen = new Set<string>();
  engines.forEach((engine, index) => {
    if (seen.has(engine.name))
      context.addIssue({
        code: "custom",
        path: [index, "name"],
        message: `'${engine.name}' names two engines: each needs its own name`,
      });
    seen.add(engine.name);
  });
});

/** Validates `sandbox.engines`, naming each bad key (`sandbox.engines[1].host`) and the fix. */
export function parseEngines(input: unknown): EngineSpec[] {
  const result = enginesSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const [index, ...rest] = issue.path;
    const key =
      index === undefined
        ? "sandbox.engines"
        : `sandbox.engines[${String(index)}]${rest.length ? `.${rest.join(".")}` : ""}`;
    return `${key}: ${issue.message}`;
  });
  throw new ConfigError(`invalid sandbox engines:\n  ${problems.join("\n  ")}`);
}

/**
 * The engines to use: the configured list, or with none the one the docker CLI would talk to.
 * `DOCKER_HOST` without a scheme is a TCP address; `DOCKER_TLS_VERIFY` (any non-empty value)
 * turns on verified TLS with `DOCKER_CERT_PATH` (default ~/.docker)'s ca.pem, cert.pem, key.pem.
 * A TCP `DOCKER_HOST` without `DOCKER_TLS_VERIFY` is the user's explicit choice, as with the
 * docker CLI: insecure, and warned about.
 */
export function resolveEngines(
  configured: readonly EngineSpec[] | undefined,
  env: NodeJS.ProcessEnv,
): EngineSpec[] {
  if (configured && configured.length > 0) return [...configured];
  const raw = env.DOCKER_HOST?.trim() || DEFAULT_SOCKET;
  const host = raw.includes("://") ? raw : `tcp://${raw}`;
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  const certs = env.DOCKER_CERT_PATH || join(homedir(), ".docker");
  const parsed = engineSpecSchema.safeParse({
    name: "default",
    host,
    ...(verify && host.startsWith("tcp://")
      ? {
          tls: {
            ca: join(certs, "ca.pem"),
            cert: join(certs, "cert.pem"),
            key: join(certs, "key.pem"),
          },
        }
      : { insecure: host.startsWith("tcp://") }),
  });
  if (!parsed.success)
    throw new ConfigError(
      `DOCKER_HOST '${raw}' is not an engine address sandfarm can use: ${parsed.error.issues[0]!.message}`,
    );
  return [parsed.data];
}

/** What an insecure engine's user should read once, at start. */
export function engineWarnings(engines: readonly EngineSpec[]): string[] {
  return engines
    .filter((engine) => engine.host.startsWith("tcp://") && !engine.tls)
    .map(
      (engine) =>
        `engine '${engine.name}' at ${engine.host} has no TLS: anyone on that network can run containers on it`,
    );
}

/** dockerode's connection options for an engine; TLS files are read here, naming a missing one. */
export function engineConnection(engine: EngineSpec): {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: "http" | "https";
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
} {
  if (engine.host.startsWith("unix://")) return { socketPath: engine.host.slice("unix://".length) };
  const url = new URL(engine.host.replace(/^tcp:/, "http:"));
  const base = { host: url.hostname, port: Number(url.port) };
  if (!engine.tls) return { ...base, protocol: "http" };
  const read = (key: "ca" | "cert" | "key") => {
    const path = engine.tls![key];
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(
        `engine '${engine.name}': cannot read its TLS ${key} file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { cause: error },
      );
    }
  };
  return { ...base, protocol: "https", ca: read("ca"), cert: read("cert"), key: read("key") };
}

/**
 * The engines `--engine` selectors name (NAME of a configured engine, or NAME=HOST), in the order
 * given, or `configured` when there are none. NAME=HOST with a configured name keeps that
 * entry's other keys; a new `tcp://` engine speaks mutual TLS with DOCKER_CERT_PATH's files
 * (default ~/.docker: ca.pem, cert.pem, key.pem), as the docker CLI's `--tlsverify` does.
 */
export function enginesFromSelectors(
  flags: readonly string[] | undefined,
  configured: readonly EngineSpecInput[],
  env: NodeJS.ProcessEnv,
): EngineSpec[] {
  if (!flags || flags.length === 0) return parseEngines(configured);
  const certs = env.DOCKER_CERT_PATH || join(homedir(), ".docker");
  const engines = flags.map((flag): EngineSpecInput => {
    const named = configured.find((engine) => engine.name === flag);
    if (named) return named;
    const match = /^([^=\s]+)=(\S+)$/.exec(flag);
    if (!match)
      throw new ConfigError(
        `--engine '${flag}': write NAME=HOST, e.g. --engine box1=tcp://10.0.0.5:2376 or --engine local=unix:///var/run/docker.sock${configured.length > 0 ? `, or one of the config's engines: ${configured.map((engine) => engine.name).join(", ")}` : ""}`,
      );
    const [, name, host] = match as unknown as [string, string, string];
    const known = configured.find((engine) => engine.name === name);
    if (known) return { ...known, host };
    return host.startsWith("tcp://")
      ? {
          name,
          host,
          tls: {
            ca: join(certs, "ca.pem"),
            cert: join(certs, "cert.pem"),
            key: join(certs, "key.pem"),
          },
        }
      : { name, host };
  });
  // Validated here so a bad flag is named as one (the config's own keys are checked later).
  try {
    return parseEngines(engines);
  } catch (error) {
    throw new ConfigError(
      `--engine: ${(error as Error).message.replace(/^invalid sandbox engines:\s*/, "")}`,
      { cause: error },
    );
  }
}

/**
 * What went wrong talking to an engine, in words that say where to look: the TLS handshake (whose
 * certificate), a refused connection, silence, or a missing socket.
 */
export function describeEngineFailure(engine: EngineSpec, error: unknown): string {
  const code = String((error as NodeJS.ErrnoException | null)?.code ?? "");
  const message = error instanceof Error ? error.message.split("\n")[0]!.trim() : String(error);
  const where = `engine '${engine.name}' (${engine.host})`;
  if (/ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|HANDSHAKE_FAILURE)/.test(code))
    return `${where} refused the TLS handshake: it does not accept the client certificate ${engine.tls?.cert ?? "(none)"} (${message}); give sandbox.engines[].tls a client certificate signed by the CA the engine trusts (bash deploy/certs.sh DIR ADDRESS makes both)`;
  if (/^ERR_SSL_|^ERR_TLS_|CERT|SIGNATURE|SELF_SIGNED/.test(code))
    return `${where} failed TLS verification: its certificate is not signed by ${engine.tls?.ca ?? "a trusted CA"} or does not name its address (${message}); check sandbox.engines[].tls.ca`;
  if (code === "ECONNREFUSED")
    return `${where} refuses connections (${message}): is dockerd listening there, with -H ${engine.host}?`;
  if (code === "ENOENT" || code === "EACCES")
    return `${where} cannot be reached (${message}): no engine socket there, or no permission to use it`;
  if (
    /^(ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE)$/.test(code) ||
    /hang up|timeout/i.test(message)
  )
    return `${where} does not answer (${message})`;
  return `${where}: ${message}`;
}

/** Pings an engine, giving up when `signal` aborts (dockerode takes the signal; its types lack it). */
export function pingEngine(docker: Docker, signal: AbortSignal): Promise<unknown> {
  const ping = docker.ping.bind(docker) as unknown as (options: {
    abortSignal: AbortSignal;
  }) => Promise<unknown>;
  return ping({ abortSignal: signal });
}
