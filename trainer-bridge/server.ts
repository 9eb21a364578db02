/**
 * The farm side of the trainer bridge: a gRPC server that delivers the spool's batches to
 * trainer ranks, at least once, and runs the policy-update protocol.
 *
 * Delivery. A rank opens a Pull stream with Hello, grants credits, and acks each batch after
 * training on it. Each batch goes out as a header and chunks; it stays in flight until acked.
 * A batch in flight returns to the queue when its stream ends or its ack does not come within
 * `ackTimeoutMs`, and is delivered again (same id, `attempt` + 1). Work-queue delivery gives
 * each batch to whichever rank has credit; sharded delivery gives rank r of w the batches with
 * sequence % w == r (a batch never splits a group); there, a rank that reconnects replaces its
 * old stream. An acked batch is recorded in the spool's journal before anything else and is never
 * sent again, including after a farm restart.
 *
 * Security. With `token`, every TrainerBridge call must carry `authorization: Bearer <token>`
 * or fails with UNAUTHENTICATED (the standard health service stays open for probes). With
 * `tls`, the server speaks TLS only, and can require client certificates.
 *
 * This file wires the service together; delivery.ts, server-auth.ts and server-policy-rpcs.ts
 * hold the parts.
 *
 * @example
 * const spool = await Spool.open("run/spool", { runId: "run" });
 * const bridge = new BridgeServer({ spool, token: process.env.SANDFARM_BRIDGE_TOKEN });
 * const port = await bridge.listen("127.0.0.1:50051");
 * await bridge.commit(rows); // durable, then delivered
 */
import {
  Server,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { BatchDelivery, type DeliveryMode, type TrainerAck, wireDelivery } from "./delivery.js";
import {
  type PullRequest,
  type PullResponse,
  type Status,
  UpdateState,
} from "./generated/sandfarm/v1/bridge.js";
import { BRIDGE_DEFAULTS } from "./defaults.js";
import type { PolicyUpdates } from "./policy-updates.js";
import {
  BridgeOptionError,
  serverCredentials,
  type TlsOptions,
  TokenCheck,
} from "./server-auth.js";
import { policyUpdateRpcs } from "./server-policy-rpcs.js";
import type { CommittedBatch, Spool } from "./spool.js";
import type { TrainingRow } from "./training-row.js";
import { BRIDGE_SERVICE, BULK_CHANNEL_OPTIONS } from "./wire.js";

export { BRIDGE_DEFAULTS } from "./defaults.js";
export type { DeliveryMode, TrainerAck } from "./delivery.js";
export { BridgeOptionError } from "./server-auth.js";
export type { TlsOptions } from "./server-auth.js";

export interface BridgeServerOptions {
  spool: Spool;
  /** @default BRIDGE_DEFAULTS.delivery */
  delivery?: DeliveryMode;
  /** A batch in flight this long without an ack is delivered again. @default BRIDGE_DEFAULTS.ackTimeoutMs */
  ackTimeoutMs?: number;
  /** A stream that sends no Hello within this long is closed. @default BRIDGE_DEFAULTS.helloTimeoutMs */
  helloTimeoutMs?: number;
  /** Bearer token every call must carry; none when unset. Never logged. */
  token?: string;
  tls?: TlsOptions;
  /** The policy-update protocol; the update calls fail with UNIMPLEMENTED without it. */
  policy?: PolicyUpdates;
  /** Backpressure: on above this many queued tokens, off again below `lowTokens`. */
  watermarks?: { highTokens: number; lowTokens: number };
  /** The largest chunk a client may ask for. @default BRIDGE_DEFAULTS.maxChunkBytes */
  maxChunkBytes?: number;
  /** Told of each batch's first recorded ack, with the trainer's metrics (`TrainerAck`). */
  onAck?: (ack: TrainerAck) => void;
}

export class BridgeServer {
  readonly delivery: DeliveryMode;
  private readonly server = new Server(BULK_CHANNEL_OPTIONS);
  private readonly auth: TokenCheck;
  private readonly batches: BatchDelivery;
  private closed = false;
  private readonly options: BridgeServerOptions;

  constructor(options: BridgeServerOptions) {
    this.options = options;
    const settings = {
      ackTimeoutMs: BRIDGE_DEFAULTS.ackTimeoutMs,
      helloTimeoutMs: BRIDGE_DEFAULTS.helloTimeoutMs,
      maxChunkBytes: BRIDGE_DEFAULTS.maxChunkBytes,
      ...options,
    };
    this.delivery = options.delivery ?? BRIDGE_DEFAULTS.delivery;
    // Checked before the parts are built and in one fixed order (timeouts, token, watermarks), so
    // the error a bad configuration gets does not depend on how the parts are composed.
    for (const key of ["ackTimeoutMs", "helloTimeoutMs"] as const) {
      const value = settings[key];
      if (!(Number.isInteger(value) && value > 0 && value <= 2 ** 31 - 1))
        throw new BridgeOptionError(
          key,
          `${key} must be a whole number of milliseconds in 1..2147483647`,
        );
    }
    this.auth = new TokenCheck(options.token);
    if (options.watermarks && !(options.watermarks.lowTokens <= options.watermarks.highTokens))
      throw new BridgeOptionError(
        "watermarks",
        "watermarks.lowTokens must not exceed watermarks.highTokens",
      );
    this.batches = new BatchDelivery({
      spool: settings.spool,
      mode: this.delivery,
      ackTimeoutMs: settings.ackTimeoutMs,
      helloTimeoutMs: settings.helloTimeoutMs,
      maxChunkBytes: settings.maxChunkBytes,
      watermarks: settings.watermarks,
      policyVersion: () => options.policy?.committedVersion ?? 0,
      ...(options.onAck ? { onAck: options.onAck } : {}),
    });
    const policyRpcs = policyUpdateRpcs(options.policy);
    const implementation: UntypedServiceImplementation = {
      pull: this.auth.stream((call: ServerDuplexStream<PullRequest, PullResponse>) =>
        this.batches.pull(call),
      ),
      beginPolicyUpdate: this.auth.unary(policyRpcs.beginPolicyUpdate),
      loadPolicyWeights: this.auth.unary(policyRpcs.loadPolicyWeights),
      commitPolicyUpdate: this.auth.unary(policyRpcs.commitPolicyUpdate),
      abortPolicyUpdate: this.auth.unary(policyRpcs.abortPolicyUpdate),
      getStatus: this.auth.unary(
        (_call: ServerUnaryCall<unknown, Status>, callback: sendUnaryData<Status>) =>
          callback(null, this.status()),
      ),
    };
    this.server.addService(BRIDGE_SERVICE, implementation);
    new HealthImplementation({ "": "SERVING", "sandfarm.v1.TrainerBridge": "SERVING" }).addToServer(
      this.server,
    );
  }

  /** Binds and starts serving; returns the port (useful with port 0). */
  listen(address: string): Promise<number> {
    const credentials = serverCredentials(this.options.tls);
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, credentials, (error, port) => {
        if (error)
          reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error }));
        else resolve(port);
      });
    });
  }

  /** Commits a batch to the spool (durable when this resolves) and offers it to the trainers. */
  commit(rows: readonly TrainingRow[], metrics?: Record<string, number>): Promise<CommittedBatch> {
    return this.batches.commit(rows, metrics);
  }

  /** Rows and tokens committed and not yet acknowledged. */
  queued(): { batches: number; rows: number; tokens: number } {
    return this.batches.queued();
  }

  /** True while queued tokens are above the high watermark and until they fall below the low. */
  get backpressure(): boolean {
    return this.batches.backpressure;
  }

  /** Resolves when every committed batch is acknowledged; rejects if the server closes first. */
  drained(): Promise<void> {
    return this.batches.drained();
  }

  status(): Status {
    const policy = this.options.policy?.snapshot();
    return {
      runId: this.options.spool.runId,
      delivery: wireDelivery(this.delivery),
      updateState:
        policy === undefined
          ? UpdateState.UPDATE_STATE_SERVING
          : policy.state === "paused"
            ? UpdateState.UPDATE_STATE_PAUSED
            : UpdateState.UPDATE_STATE_SERVING,
      committedVersion: policy?.committedVersion ?? 0,
      ...this.batches.status(),
    };
  }

  /** Stops accepting calls, ends every stream (their batches stay pending in the spool). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.batches.close();
    await this.options.policy?.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2_000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
