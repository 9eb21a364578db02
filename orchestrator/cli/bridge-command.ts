/**
 * `sandfarm bridge serve`: serves a spool's unacknowledged batches to trainers over the gRPC
 * bridge, e.g. a finished run's batches to a trainer started later, until SIGINT or SIGTERM
 * (batches not acked stay in the spool). The bearer token comes from SANDFARM_BRIDGE_TOKEN,
 * never a flag. Without `--policy-url` the policy-update calls answer UNIMPLEMENTED.
 *
 * @example
 * SANDFARM_BRIDGE_TOKEN=$(openssl rand -hex 32) sandfarm bridge serve --spool runs/r1/spool --run-id r1
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { BRIDGE_DEFAULTS } from "../../trainer-bridge/defaults.js";
import { BridgeOptionError, BridgeServer, type TlsOptions } from "../../trainer-bridge/server.js";
import { PolicyUpdates } from "../../trainer-bridge/policy-updates.js";
import { Spool } from "../../trainer-bridge/spool.js";
import { ConfigError } from "../../common/errors.js";
import { VllmPolicyControl } from "../policy/admin.js";
import { PolicyClient } from "../policy/client.js";
import { nonNegativeInteger, positiveNumber } from "./number-options.js";

interface ServeOptions {
  spool: string;
  runId: string;
  address: string;
  delivery: "work_queue" | "sharded";
  ackTimeout: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  policyUrl: string[];
  model?: string;
  policyVersion: number;
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${flag} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Where each server option comes from in this command, for its error message. */
const SOURCE_OF_OPTION: Record<BridgeOptionError["option"], string> = {
  token: "SANDFARM_BRIDGE_TOKEN",
  ackTimeoutMs: "--ack-timeout",
  helloTimeoutMs: "the Hello timeout",
  watermarks: "the watermarks",
};

async function serve(options: ServeOptions): Promise<void> {
  let tls: TlsOptions | undefined;
  if (options.tlsCert || options.tlsKey) {
    if (!options.tlsCert || !options.tlsKey)
      throw new ConfigError("--tls-cert and --tls-key go together: give both PEM files");
    tls = {
      cert: readPem(options.tlsCert, "--tls-cert"),
      key: readPem(options.tlsKey, "--tls-key"),
      ...(options.tlsClientCa ? { clientCa: readPem(options.tlsClientCa, "--tls-client-ca") } : {}),
    };
  }
  let policy: PolicyUpdates | undefined;
  let client: PolicyClient | undefined;
  if (options.policyUrl.length > 0) {
    if (!options.model) throw new ConfigError("--policy-url needs --model (the served model name)");
    client = new PolicyClient({ urls: options.policyUrl, model: options.model });
    client.version = options.policyVersion;
    policy = new PolicyUpdates(new VllmPolicyControl(client), {
      initialVersion: options.policyVersion,
    });
  }
  const spool = await Spool.open(options.spool, { runId: options.runId });
  const token = process.env.SANDFARM_BRIDGE_TOKEN;
  let server: BridgeServer;
  try {
    server = new BridgeServer({
      spool,
      delivery: options.delivery,
      ackTimeoutMs: options.ackTimeout * 1000,
      ...(token ? { token } : {}),
      ...(tls ? { tls } : {}),
      ...(policy ? { policy } : {}),
    });
  } catch (error) {
    if (!(error instanceof BridgeOptionError)) throw error;
    throw new ConfigError(`${SOURCE_OF_OPTION[error.option]}: ${error.message}`, { cause: error });
  }
  const port = await server.listen(options.address);
  const pending = spool.pending();
  process.stdout.write(
    `${JSON.stringify({
      listening: options.address.replace(/:\d+$/, `:${port}`),
      runId: options.runId,
      pendingBatches: pending.length,
      pendingRows: pending.reduce((sum, batch) => sum + batch.rows, 0),
      tls: tls !== undefined,
      token: token !== undefined,
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  await spool.close();
  client?.close();
}

export function bridgeCommand(): Command {
  const bridge = new Command("bridge").description("The gRPC bridge to trainers");
  bridge
    .command("serve")
    .description("Serve a spool's unacknowledged batches to trainers until SIGINT")
    .requiredOption("--spool <dir>", "the spool directory (journal.jsonl and <batch>.arrow files)")
    .requiredOption("--run-id <id>", "the run id the spool's batches are named by")
    .option("--address <host:port>", "where to listen", BRIDGE_DEFAULTS.address)
    .addOption(
      new Option("--delivery <mode>", "how batches are shared between trainer ranks")
        .choices(["work_queue", "sharded"])
        .default(BRIDGE_DEFAULTS.delivery),
    )
    .option(
      "--ack-timeout <seconds>",
      "redeliver a batch not acked this long",
      positiveNumber,
      BRIDGE_DEFAULTS.ackTimeoutMs / 1000,
    )
    .option("--tls-cert <pem>", "server certificate chain (with --tls-key: TLS only)")
    .option("--tls-key <pem>", "server private key")
    .option("--tls-client-ca <pem>", "require client certificates signed by this CA")
    .option(
      "--policy-url <url>",
      "a vLLM replica for policy updates (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--model <name>", "the served model name (with --policy-url)")
    .option(
      "--policy-version <n>",
      "the policy version the replicas serve now (committed updates so far)",
      nonNegativeInteger,
      0,
    )
    .action(serve);
  return bridge;
}
