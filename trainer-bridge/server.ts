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
 * @example
 * const spool = await Spool.open("run/spool", { runId: "run" });
 * const bridge = new BridgeServer({ spool, token: process.env.SANDFARM_BRIDGE_TOKEN });
 * const port = await bridge.listen("127.0.0.1:50051");
 * await bridge.commit(rows); // durable, then delivered
 */
import { createHash, timingSafeEqual } from "node:crypto";
import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  status as GrpcStatus,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import {
  Delivery,
  PauseMode as WirePauseMode,
  type PolicyUpdateReply,
  type PullRequest,
  type PullResponse,
  type Status,
  UpdateState,
} from "./generated/sandfarm/v1/bridge.js";
import type {
  PauseMode,
  PolicyUpdateError,
  PolicyUpdates,
  UpdateSnapshot,
} from "./policy-updates.js";
import type { CommittedBatch, Spool } from "./spool.js";
import type { TrainingRow } from "./training-row.js";
import { TRAINING_ROW_SCHEMA_VERSION } from "./training-row.js";
import { BRIDGE_SERVICE, BULK_CHANNEL_OPTIONS, DEFAULT_CHUNK_BYTES, wireChunks } from "./wire.js";

export type DeliveryMode = "work_queue" | "sharded";

export interface TlsOptions {
  /** PEM server certificate chain. */
  cert: Buffer;
  /** PEM private key. */
  key: Buffer;
  /** PEM CA bundle that client certificates must chain to. */
  clientCa?: Buffer;
  /** Refuse clients without a certificate signed by `clientCa`. @default true when clientCa is set */
  requireClientCert?: boolean;
}

export interface BridgeServerOptions {
  spool: Spool;
  /** @default "work_queue" */
  delivery?: DeliveryMode;
  /** A batch in flight this long without an ack is delivered again. @default 600_000 */
  ackTimeoutMs?: number;
  /** A stream that sends no Hello within this long is closed. @default 10_000 */
  helloTimeoutMs?: number;
  /** Bearer token every call must carry; none when unset. Never logged. */
  token?: string;
  tls?: TlsOptions;
  /** The policy-update protocol; the update calls fail with UNIMPLEMENTED without it. */
  policy?: PolicyUpdates;
  /** Backpressure: on above this many queued tokens, off again below `lowTokens`. */
  watermarks?: { highTokens: number; lowTokens: number };
  /** The largest chunk a client may ask for. @default 512 MiB */
  maxChunkBytes?: number;
}

interface Consumer {
  id: number;
  rank: number;
  worldSize: number;
  trainerId: string;
  peer: string;
  credits: number;
  chunkBytes: number;
  call: ServerDuplexStream<PullRequest, PullResponse>;
  inFlight: Map<string, NodeJS.Timeout>;
  /** Acks being written to the journal: the stream ends only after they are durable. */
  recording: Set<Promise<void>>;
  sending: boolean;
  closed: boolean;
}

/** A call that fails with a gRPC status. */
class CallError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

const PAUSE_MODES: Record<number, PauseMode | undefined> = {
  [WirePauseMode.PAUSE_MODE_KEEP]: "keep",
  [WirePauseMode.PAUSE_MODE_WAIT]: "wait",
  [WirePauseMode.PAUSE_MODE_ABORT]: "abort",
};

const UPDATE_ERROR_CODES: Record<PolicyUpdateError["code"], GrpcStatus> = {
  failed_precondition: GrpcStatus.FAILED_PRECONDITION,
  invalid_argument: GrpcStatus.INVALID_ARGUMENT,
  deadline_exceeded: GrpcStatus.DEADLINE_EXCEEDED,
  unavailable: GrpcStatus.UNAVAILABLE,
};

export class BridgeServer {
  readonly delivery: DeliveryMode;
  private readonly server = new Server(BULK_CHANNEL_OPTIONS);
  private readonly consumers = new Map<number, Consumer>();
  /** Batch id -> the consumer it is in flight to. */
  private readonly inFlight = new Map<string, Consumer>();
  private readonly attempts = new Map<string, number>();
  /** Batches whose ack is being written to the journal: never offered meanwhile. */
  private readonly acking = new Set<string>();
  /** Batch id -> the consumer whose ack timed out on it: redelivered elsewhere when possible. */
  private readonly expiredOn = new Map<string, number>();
  private readonly tokenHash?: Buffer;
  private nextConsumerId = 1;
  private delivered = 0;
  private redelivered = 0;
  private backpressureOn = false;
  private readonly ackedBytes: { at: number; bytes: number }[] = [];
  private readonly waiters = new Set<{ check: () => void; reject: (error: Error) => void }>();
  private closed = false;
  private readonly startedAt = Date.now();
  private readonly options: BridgeServerOptions & {
    ackTimeoutMs: number;
    helloTimeoutMs: number;
    maxChunkBytes: number;
  };

  constructor(options: BridgeServerOptions) {
    this.options = {
      ackTimeoutMs: 600_000,
      helloTimeoutMs: 10_000,
      maxChunkBytes: 512 * 1024 * 1024,
      ...options,
    };
    this.delivery = options.delivery ?? "work_queue";
    for (const key of ["ackTimeoutMs", "helloTimeoutMs"] as const) {
      const value = this.options[key];
      if (!(Number.isInteger(value) && value > 0 && value <= 2 ** 31 - 1))
        throw new RangeError(`${key} must be a whole number of milliseconds in 1..2147483647`);
    }
    if (options.token !== undefined) {
      if (options.token.length < 16)
        throw new RangeError(
          "the bridge token must be at least 16 characters; generate one with `openssl rand -hex 32`",
        );
      this.tokenHash = createHash("sha256").update(options.token).digest();
    }
    if (options.watermarks && !(options.watermarks.lowTokens <= options.watermarks.highTokens))
      throw new RangeError("watermarks.lowTokens must not exceed watermarks.highTokens");
    const implementation: UntypedServiceImplementation = {
      pull: (call: ServerDuplexStream<PullRequest, PullResponse>) => this.pull(call),
      beginPolicyUpdate: this.unary((request: { version: number; pauseMode: WirePauseMode }) =>
        this.requirePolicy().begin(request.version, PAUSE_MODES[request.pauseMode]),
      ),
      loadPolicyWeights: this.unary(
        (request: {
          version: number;
          source?:
            | { $case: "lora"; value: { name: string; path: string; loadInplace: boolean } }
            | { $case: "weightsPath"; value: string };
        }) => {
          const source = request.source;
          if (!source)
            throw new CallError(
              GrpcStatus.INVALID_ARGUMENT,
              "give a lora adapter or a weights_path",
            );
          if (source.$case === "lora") {
            if (!source.value.name || !source.value.path)
              throw new CallError(
                GrpcStatus.INVALID_ARGUMENT,
                "a lora adapter needs a name and a path",
              );
            return this.requirePolicy().load(request.version, { lora: source.value });
          }
          if (!source.value)
            throw new CallError(GrpcStatus.INVALID_ARGUMENT, "weights_path is empty");
          return this.requirePolicy().load(request.version, { weightsPath: source.value });
        },
      ),
      commitPolicyUpdate: this.unary((request: { version: number }) =>
        this.requirePolicy().commit(request.version),
      ),
      abortPolicyUpdate: this.unary((request: { version: number; reason: string }) =>
        this.requirePolicy().abort(request.version, request.reason || undefined),
      ),
      getStatus: (call: ServerUnaryCall<unknown, Status>, callback: sendUnaryData<Status>) => {
        const refused = this.refusal(call.metadata);
        if (refused) return callback(refused);
        callback(null, this.status());
      },
    };
    this.server.addService(BRIDGE_SERVICE, implementation);
    new HealthImplementation({ "": "SERVING", "sandfarm.v1.TrainerBridge": "SERVING" }).addToServer(
      this.server,
    );
  }

  /** Binds and starts serving; returns the port (useful with port 0). */
  listen(address: string): Promise<number> {
    const tls = this.options.tls;
    const credentials = tls
      ? ServerCredentials.createSsl(
          tls.clientCa ?? null,
          [{ private_key: tls.key, cert_chain: tls.cert }],
          tls.requireClientCert ?? tls.clientCa !== undefined,
        )
      : ServerCredentials.createInsecure();
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, credentials, (error, port) => {
        if (error)
          reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error }));
        else resolve(port);
      });
    });
  }

  /** Commits a batch to the spool (durable when this resolves) and offers it to the trainers. */
  async commit(
    rows: readonly TrainingRow[],
    metrics?: Record<string, number>,
  ): Promise<CommittedBatch> {
    const batch = await this.options.spool.commit(rows, metrics);
    this.updateBackpressure();
    this.dispatch();
    return batch;
  }

  /** Rows and tokens committed and not yet acknowledged. */
  queued(): { batches: number; rows: number; tokens: number } {
    let rows = 0;
    let tokens = 0;
    const pending = this.options.spool.pending();
    for (const batch of pending) {
      rows += batch.rows;
      tokens += batch.tokens;
    }
    return { batches: pending.length, rows, tokens };
  }

  /**
   * True while queued tokens are above the high watermark and until they fall below the low.
   * Brought up to date on every read: the spool records an ack before the server's own ack
   * bookkeeping runs, and a reader in between must not see the state before it.
   */
  get backpressure(): boolean {
    this.updateBackpressure();
    return this.backpressureOn;
  }

  private updateBackpressure(): void {
    const marks = this.options.watermarks;
    if (!marks) return;
    const { tokens } = this.queued();
    if (!this.backpressureOn && tokens > marks.highTokens) this.backpressureOn = true;
    else if (this.backpressureOn && tokens < marks.lowTokens) this.backpressureOn = false;
  }

  /** Resolves when every committed batch is acknowledged; rejects if the server closes first. */
  drained(): Promise<void> {
    if (this.options.spool.pending().length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error("the bridge closed with batches pending"));
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          if (this.options.spool.pending().length > 0) return;
          this.waiters.delete(waiter);
          resolve();
        },
        reject,
      };
      this.waiters.add(waiter);
    });
  }

  status(): Status {
    const queued = this.queued();
    const policy = this.options.policy?.snapshot();
    const minuteAgo = Date.now() - 60_000;
    while (this.ackedBytes.length > 0 && this.ackedBytes[0]!.at < minuteAgo)
      this.ackedBytes.shift();
    const window = Math.min(60_000, Math.max(1, Date.now() - this.startedAt));
    return {
      runId: this.options.spool.runId,
      delivery:
        this.delivery === "sharded" ? Delivery.DELIVERY_SHARDED : Delivery.DELIVERY_WORK_QUEUE,
      updateState:
        policy === undefined
          ? UpdateState.UPDATE_STATE_SERVING
          : policy.state === "paused"
            ? UpdateState.UPDATE_STATE_PAUSED
            : UpdateState.UPDATE_STATE_SERVING,
      committedVersion: policy?.committedVersion ?? 0,
      queuedBatches: queued.batches,
      queuedRows: queued.rows,
      queuedTokens: queued.tokens,
      inFlightBatches: this.inFlight.size,
      ackedBatches: this.options.spool.ackedCount,
      deliveredBatches: this.delivered,
      redeliveredBatches: this.redelivered,
      backpressure: this.backpressureOn,
      ackedBytesPerS:
        (this.ackedBytes.reduce((sum, entry) => sum + entry.bytes, 0) * 1000) / window,
      ranks: [...this.consumers.values()].map((consumer) => ({
        rank: consumer.rank,
        worldSize: consumer.worldSize,
        trainerId: consumer.trainerId,
        peer: consumer.peer,
        credits: consumer.credits,
        inFlight: consumer.inFlight.size,
      })),
    };
  }

  /** Stops accepting calls, ends every stream (their batches stay pending in the spool). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters)
      waiter.reject(new Error("the bridge closed with batches pending"));
    this.waiters.clear();
    for (const consumer of this.consumers.values())
      this.drop(consumer, "the farm is shutting down");
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

  // ---- authentication ----

  private refusal(metadata: Metadata): { code: GrpcStatus; details: string } | undefined {
    if (!this.tokenHash) return undefined;
    const header = metadata.get("authorization")[0];
    const match = typeof header === "string" ? /^Bearer (.+)$/.exec(header) : null;
    const given = match ? createHash("sha256").update(match[1]!).digest() : undefined;
    if (given && timingSafeEqual(given, this.tokenHash)) return undefined;
    return {
      code: GrpcStatus.UNAUTHENTICATED,
      details: header
        ? "the bearer token is not the farm's (authorization metadata)"
        : "this farm needs `authorization: Bearer <token>` metadata (SANDFARM_BRIDGE_TOKEN)",
    };
  }

  // ---- policy updates ----

  private requirePolicy(): PolicyUpdates {
    const policy = this.options.policy;
    if (!policy)
      throw new CallError(
        GrpcStatus.UNIMPLEMENTED,
        "this farm was started without policy control (no policy replicas configured)",
      );
    return policy;
  }

  private unary<Request>(
    run: (request: Request) => Promise<UpdateSnapshot>,
  ): (
    call: ServerUnaryCall<Request, PolicyUpdateReply>,
    callback: sendUnaryData<PolicyUpdateReply>,
  ) => void {
    return (call, callback) => {
      const refused = this.refusal(call.metadata);
      if (refused) return callback(refused);
      // Through a promise, so a synchronous throw (a bad request) becomes a status too.
      Promise.resolve(call.request)
        .then(run)
        .then(
          (snapshot) => callback(null, replyOf(snapshot)),
          (error: unknown) => {
            if (error instanceof CallError)
              return callback({ code: error.code, details: error.message });
            const code = (error as Partial<PolicyUpdateError>).code;
            callback({
              code: code ? UPDATE_ERROR_CODES[code] : GrpcStatus.INTERNAL,
              details: (error as Error).message,
            });
          },
        );
    };
  }

  // ---- delivery ----

  private pull(call: ServerDuplexStream<PullRequest, PullResponse>): void {
    const refused = this.refusal(call.metadata);
    if (refused || this.closed) {
      call.emit(
        "error",
        refused ?? { code: GrpcStatus.UNAVAILABLE, details: "the farm is shutting down" },
      );
      return;
    }
    let consumer: Consumer | undefined;
    const helloTimer = setTimeout(() => {
      if (consumer) return;
      call.emit("error", {
        code: GrpcStatus.INVALID_ARGUMENT,
        details: `no Hello within ${this.options.helloTimeoutMs} ms`,
      });
    }, this.options.helloTimeoutMs);
    call.on("data", (message: PullRequest) => {
      const kind = message.kind;
      if (!consumer) {
        if (kind?.$case !== "hello") {
          clearTimeout(helloTimer);
          call.emit("error", {
            code: GrpcStatus.INVALID_ARGUMENT,
            details: "the first message of a Pull stream must be Hello",
          });
          return;
        }
        clearTimeout(helloTimer);
        consumer = this.register(call, kind.value);
        return;
      }
      if (kind?.$case === "credit") {
        consumer.credits += kind.value.batches;
        this.dispatch();
      } else if (kind?.$case === "ack") {
        const recording = this.acknowledge(consumer, kind.value.batchId);
        consumer.recording.add(recording);
        void recording.finally(() => consumer?.recording.delete(recording));
      }
    });
    const end = () => {
      clearTimeout(helloTimer);
      if (consumer) this.drop(consumer);
    };
    // A clean half-close: the stream ends once the acks sent before it are in the journal,
    // so a trainer that closes and waits knows they are durable.
    call.on("end", () => {
      const recording = [...(consumer?.recording ?? [])];
      end();
      void Promise.allSettled(recording).then(() => call.end());
    });
    call.on("cancelled", end);
    call.on("error", end);
    call.on("close", end);
  }

  private register(
    call: ServerDuplexStream<PullRequest, PullResponse>,
    hello: {
      rank: number;
      worldSize: number;
      credits: number;
      trainerId: string;
      maxChunkBytes: number;
    },
  ): Consumer | undefined {
    const worldSize = Math.max(1, hello.worldSize);
    const fail = (details: string) => {
      call.emit("error", { code: GrpcStatus.INVALID_ARGUMENT, details });
      return undefined;
    };
    if (hello.rank >= worldSize)
      return fail(`rank ${hello.rank} is not below world_size ${worldSize}`);
    if (this.delivery === "sharded") {
      for (const other of this.consumers.values()) {
        if (other.worldSize !== worldSize)
          return fail(
            `world_size ${worldSize} disagrees with rank ${other.rank}'s ${other.worldSize}; ` +
              "every rank of a sharded run must give the same world_size",
          );
        // A rank that reconnects replaces its old stream (which may not have noticed yet).
        if (other.rank === hello.rank)
          this.drop(other, "replaced by a new stream of the same rank");
      }
    }
    const chunkBytes = Math.min(
      hello.maxChunkBytes > 0 ? hello.maxChunkBytes : DEFAULT_CHUNK_BYTES,
      this.options.maxChunkBytes,
    );
    const consumer: Consumer = {
      id: this.nextConsumerId++,
      rank: hello.rank,
      worldSize,
      trainerId: hello.trainerId,
      peer: call.getPeer(),
      credits: Math.max(1, hello.credits),
      chunkBytes,
      call,
      inFlight: new Map(),
      recording: new Set(),
      sending: false,
      closed: false,
    };
    this.consumers.set(consumer.id, consumer);
    call.write({
      kind: {
        $case: "welcome",
        value: {
          runId: this.options.spool.runId,
          delivery:
            this.delivery === "sharded" ? Delivery.DELIVERY_SHARDED : Delivery.DELIVERY_WORK_QUEUE,
          schemaVersion: TRAINING_ROW_SCHEMA_VERSION,
          policyVersion: this.options.policy?.committedVersion ?? 0,
        },
      },
    });
    this.dispatch();
    return consumer;
  }

  /** Ends a consumer's stream (when `reason` is given) and returns its batches to the queue. */
  private drop(consumer: Consumer, reason?: string): void {
    if (consumer.closed) return;
    consumer.closed = true;
    this.consumers.delete(consumer.id);
    for (const timer of consumer.inFlight.values()) clearTimeout(timer);
    consumer.inFlight.clear();
    // Including a batch that was still being sent to it.
    for (const [batchId, holder] of this.inFlight)
      if (holder === consumer) this.inFlight.delete(batchId);
    if (reason) consumer.call.emit("error", { code: GrpcStatus.UNAVAILABLE, details: reason });
    this.dispatch();
  }

  private async acknowledge(consumer: Consumer, batchId: string): Promise<void> {
    const timer = consumer.inFlight.get(batchId);
    if (timer) clearTimeout(timer);
    consumer.inFlight.delete(batchId);
    const batch = this.options.spool.get(batchId);
    if (!batch) return; // not this run's: nothing to record
    this.acking.add(batchId);
    try {
      const first = await this.options.spool.ack(batchId);
      if (first) this.ackedBytes.push({ at: Date.now(), bytes: batch.byteLength });
    } catch (error) {
      this.acking.delete(batchId);
      // The journal could not be written: the farm cannot promise durability any more.
      consumer.call.emit("error", {
        code: GrpcStatus.INTERNAL,
        details: `the farm could not record the ack of ${batchId}: ${(error as Error).message}`,
      });
      return;
    }
    // Wherever else it is in flight (a redelivery after a timeout), it is done there too.
    const holder = this.inFlight.get(batchId);
    if (holder) {
      const other = holder.inFlight.get(batchId);
      if (other) clearTimeout(other);
      holder.inFlight.delete(batchId);
      this.inFlight.delete(batchId);
    }
    this.acking.delete(batchId);
    this.attempts.delete(batchId);
    this.expiredOn.delete(batchId);
    this.updateBackpressure();
    for (const waiter of [...this.waiters]) waiter.check();
    this.dispatch();
  }

  /** Starts a send on every consumer that has credit and an eligible batch. */
  private dispatch(): void {
    if (this.closed) return;
    const pending = this.options.spool
      .pending()
      .filter((batch) => !this.inFlight.has(batch.batchId) && !this.acking.has(batch.batchId));
    if (pending.length === 0) return;
    for (const consumer of this.consumers.values()) {
      if (consumer.closed || consumer.sending || consumer.credits <= 0) continue;
      const index = pending.findIndex((batch) =>
        this.delivery === "sharded"
          ? batch.sequence % consumer.worldSize === consumer.rank
          : this.expiredOn.get(batch.batchId) !== consumer.id || !this.otherHasCredit(consumer),
      );
      if (index < 0) continue;
      const [batch] = pending.splice(index, 1);
      void this.send(consumer, batch!);
    }
  }

  /** True when another open stream could take a batch now. */
  private otherHasCredit(consumer: Consumer): boolean {
    for (const other of this.consumers.values())
      if (other !== consumer && !other.closed && other.credits > 0) return true;
    return false;
  }

  private async send(consumer: Consumer, batch: CommittedBatch): Promise<void> {
    consumer.sending = true;
    consumer.credits--;
    this.inFlight.set(batch.batchId, consumer);
    const attempt = (this.attempts.get(batch.batchId) ?? 0) + 1;
    this.attempts.set(batch.batchId, attempt);
    this.delivered++;
    if (attempt > 1) this.redelivered++;
    try {
      const pieces = await this.options.spool.read(batch.batchId);
      const chunks = wireChunks(pieces, consumer.chunkBytes);
      await this.write(consumer, {
        kind: {
          $case: "header",
          value: {
            batchId: batch.batchId,
            sequence: batch.sequence,
            minPolicyVersion: batch.minVersion,
            maxPolicyVersion: batch.maxVersion,
            rows: batch.rows,
            groups: batch.groups,
            tokens: batch.tokens,
            trainedTokens: batch.trainedTokens,
            ipcBytes: batch.byteLength,
            chunks: chunks.length,
            sha256: batch.sha256,
            attempt,
            metrics: batch.metrics,
          },
        },
      });
      for (let index = 0; index < chunks.length; index++) {
        if (consumer.closed) return;
        // Acked meanwhile (a late ack of an earlier delivery): stop, and give the credit back.
        // The client drops the partial batch when the next header comes.
        if (this.inFlight.get(batch.batchId) !== consumer) {
          consumer.credits++;
          return;
        }
        await this.write(consumer, {
          kind: {
            $case: "chunk",
            value: { batchId: batch.batchId, index, data: asBuffer(chunks[index]!) },
          },
        });
      }
      // Closed meanwhile, or already acked (the ack can beat the last write's callback).
      if (consumer.closed || this.inFlight.get(batch.batchId) !== consumer) return;
      const timer = setTimeout(
        () => this.expireDelivery(consumer, batch.batchId),
        this.options.ackTimeoutMs,
      );
      timer.unref();
      consumer.inFlight.set(batch.batchId, timer);
    } catch (error) {
      if (this.inFlight.get(batch.batchId) === consumer) this.inFlight.delete(batch.batchId);
      if (this.options.spool.isAcked(batch.batchId)) {
        // Acked (and its file removed) while this delivery was starting: nothing went wrong.
        consumer.credits++;
      } else {
        this.drop(consumer, `delivery of ${batch.batchId} failed: ${(error as Error).message}`);
      }
    } finally {
      consumer.sending = false;
      this.dispatch();
    }
  }

  /** Writes one message, waiting for the stream to drain when its buffer is full. */
  private write(consumer: Consumer, message: PullResponse): Promise<void> {
    if (consumer.closed) return Promise.resolve();
    if (consumer.call.write(message)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        consumer.call.off("drain", done);
        consumer.call.off("close", done);
        resolve();
      };
      consumer.call.once("drain", done);
      consumer.call.once("close", done);
    });
  }

  private expireDelivery(consumer: Consumer, batchId: string): void {
    if (!consumer.inFlight.delete(batchId)) return;
    if (this.inFlight.get(batchId) === consumer) this.inFlight.delete(batchId);
    this.expiredOn.set(batchId, consumer.id);
    this.dispatch();
  }
}

/** A Buffer view of the same bytes (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function replyOf(snapshot: UpdateSnapshot): PolicyUpdateReply {
  return {
    state:
      snapshot.state === "paused"
        ? UpdateState.UPDATE_STATE_PAUSED
        : UpdateState.UPDATE_STATE_SERVING,
    committedVersion: snapshot.committedVersion,
    pendingVersion: snapshot.pendingVersion,
    replicas: snapshot.replicas.map((replica) => ({
      url: replica.url,
      ok: replica.ok,
      error: replica.error ?? "",
      elapsedMs: replica.elapsedMs,
    })),
  };
}
