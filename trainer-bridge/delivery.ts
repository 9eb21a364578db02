/**
 * At-least-once delivery of the spool's batches over Pull streams: trainer ranks and their
 * credits, sending, acks into the journal, redelivery after a lost stream or an ack timeout, and
 * the backpressure watermarks. The server authenticates a stream before it gets here.
 */
import { type ServerDuplexStream, status as GrpcStatus } from "@grpc/grpc-js";
import {
  Delivery,
  type Hello,
  type PullRequest,
  type PullResponse,
  type Status,
} from "./generated/sandfarm/v1/bridge.js";
import type { CommittedBatch, Spool } from "./spool.js";
import type { TrainingRow } from "./training-row.js";
import { TRAINING_ROW_SCHEMA_VERSION } from "./training-row.js";
import { DEFAULT_CHUNK_BYTES, wireChunks } from "./wire.js";

export type DeliveryMode = "work_queue" | "sharded";

/** What BatchDelivery runs on; the caller has checked the numbers. */
export interface DeliverySettings {
  spool: Spool;
  mode: DeliveryMode;
  ackTimeoutMs: number;
  helloTimeoutMs: number;
  /** The largest chunk a client may ask for. */
  maxChunkBytes: number;
  watermarks?: { highTokens: number; lowTokens: number };
  /** The committed policy version, told to each stream in its Welcome. */
  policyVersion: () => number;
  /** Told of each batch's first recorded ack, with the trainer's metrics for it. */
  onAck?: (ack: TrainerAck) => void;
}

/** A batch's first ack, as recorded: which trainer rank trained on it, and its metrics. */
export interface TrainerAck {
  batchId: string;
  sequence: number;
  rank: number;
  trainerId: string;
  /** The trainer's finite metrics (loss, kl, clip_fraction, ...); others are left out. */
  metrics: Record<string, number>;
}

/** Delivery's share of the GetStatus reply. */
export type DeliveryStatus = Pick<
  Status,
  | "queuedBatches"
  | "queuedRows"
  | "queuedTokens"
  | "inFlightBatches"
  | "ackedBatches"
  | "deliveredBatches"
  | "redeliveredBatches"
  | "backpressure"
  | "ackedBytesPerS"
  | "ranks"
>;

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

export function wireDelivery(mode: DeliveryMode): Delivery {
  return mode === "sharded" ? Delivery.DELIVERY_SHARDED : Delivery.DELIVERY_WORK_QUEUE;
}

export class BatchDelivery {
  private readonly consumers = new Map<number, Consumer>();
  /** Batch id -> the consumer it is in flight to. */
  private readonly inFlight = new Map<string, Consumer>();
  private readonly attempts = new Map<string, number>();
  /** Batches whose ack is being written to the journal: never offered meanwhile. */
  private readonly acking = new Set<string>();
  /** Batch id -> the consumer whose ack timed out on it: redelivered elsewhere when possible. */
  private readonly expiredOn = new Map<string, number>();
  private nextConsumerId = 1;
  private delivered = 0;
  private redelivered = 0;
  private backpressureOn = false;
  private readonly ackedBytes: { at: number; bytes: number }[] = [];
  private readonly waiters = new Set<{ check: () => void; reject: (error: Error) => void }>();
  private closed = false;
  private readonly startedAt = Date.now();

  constructor(private readonly settings: DeliverySettings) {}

  /** Commits a batch to the spool (durable when this resolves) and offers it to the trainers. */
  async commit(
    rows: readonly TrainingRow[],
    metrics?: Record<string, number>,
  ): Promise<CommittedBatch> {
    const batch = await this.settings.spool.commit(rows, metrics);
    this.updateBackpressure();
    this.dispatch();
    return batch;
  }

  /** Rows and tokens committed and not yet acknowledged. */
  queued(): { batches: number; rows: number; tokens: number } {
    let rows = 0;
    let tokens = 0;
    const pending = this.settings.spool.pending();
    for (const batch of pending) {
      rows += batch.rows;
      tokens += batch.tokens;
    }
    return { batches: pending.length, rows, tokens };
  }

  /**
   * True while queued tokens are above the high watermark and until they fall below the low.
   * Brought up to date on every read: the spool records an ack before the delivery's own ack
   * bookkeeping runs, and a reader in between must not see the state before it.
   */
  get backpressure(): boolean {
    this.updateBackpressure();
    return this.backpressureOn;
  }

  private updateBackpressure(): void {
    const marks = this.settings.watermarks;
    if (!marks) return;
    const { tokens } = this.queued();
    if (!this.backpressureOn && tokens > marks.highTokens) this.backpressureOn = true;
    else if (this.backpressureOn && tokens < marks.lowTokens) this.backpressureOn = false;
  }

  /** Resolves when every committed batch is acknowledged; rejects if delivery closes first. */
  drained(): Promise<void> {
    if (this.settings.spool.pending().length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error("the bridge closed with batches pending"));
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          if (this.settings.spool.pending().length > 0) return;
          this.waiters.delete(waiter);
          resolve();
        },
        reject,
      };
      this.waiters.add(waiter);
    });
  }

  status(): DeliveryStatus {
    const queued = this.queued();
    const minuteAgo = Date.now() - 60_000;
    while (this.ackedBytes.length > 0 && this.ackedBytes[0]!.at < minuteAgo)
      this.ackedBytes.shift();
    const window = Math.min(60_000, Math.max(1, Date.now() - this.startedAt));
    return {
      queuedBatches: queued.batches,
      queuedRows: queued.rows,
      queuedTokens: queued.tokens,
      inFlightBatches: this.inFlight.size,
      ackedBatches: this.settings.spool.ackedCount,
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

  /** Fails the drained() waiters and ends every stream; their batches stay pending in the spool. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters)
      waiter.reject(new Error("the bridge closed with batches pending"));
    this.waiters.clear();
    for (const consumer of this.consumers.values())
      this.drop(consumer, "the farm is shutting down");
  }

  /** Serves one Pull stream, from its Hello to its end. */
  pull(call: ServerDuplexStream<PullRequest, PullResponse>): void {
    if (this.closed) {
      call.emit("error", { code: GrpcStatus.UNAVAILABLE, details: "the farm is shutting down" });
      return;
    }
    let consumer: Consumer | undefined;
    const helloTimer = setTimeout(() => {
      if (consumer) return;
      call.emit("error", {
        code: GrpcStatus.INVALID_ARGUMENT,
        details: `no Hello within ${this.settings.helloTimeoutMs} ms`,
      });
    }, this.settings.helloTimeoutMs);
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
        const recording = this.acknowledge(consumer, kind.value.batchId, kind.value.metrics);
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
    hello: Hello,
  ): Consumer | undefined {
    const worldSize = Math.max(1, hello.worldSize);
    const fail = (details: string) => {
      call.emit("error", { code: GrpcStatus.INVALID_ARGUMENT, details });
      return undefined;
    };
    if (hello.rank >= worldSize)
      return fail(`rank ${hello.rank} is not below world_size ${worldSize}`);
    if (this.settings.mode === "sharded") {
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
      this.settings.maxChunkBytes,
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
          runId: this.settings.spool.runId,
          delivery: wireDelivery(this.settings.mode),
          schemaVersion: TRAINING_ROW_SCHEMA_VERSION,
          policyVersion: this.settings.policyVersion(),
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

  private async acknowledge(
    consumer: Consumer,
    batchId: string,
    metrics: Record<string, number> = {},
  ): Promise<void> {
    const timer = consumer.inFlight.get(batchId);
    if (timer) clearTimeout(timer);
    consumer.inFlight.delete(batchId);
    const batch = this.settings.spool.get(batchId);
    if (!batch) return; // not this run's: nothing to record
    this.acking.add(batchId);
    try {
      const first = await this.settings.spool.ack(batchId);
      if (first) {
        this.ackedBytes.push({ at: Date.now(), bytes: batch.byteLength });
        this.settings.onAck?.({
          batchId,
          sequence: batch.sequence,
          rank: consumer.rank,
          trainerId: consumer.trainerId,
          metrics: Object.fromEntries(
            Object.entries(metrics).filter(([, value]) => Number.isFinite(value)),
          ),
        });
      }
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
    const pending = this.settings.spool
      .pending()
      .filter((batch) => !this.inFlight.has(batch.batchId) && !this.acking.has(batch.batchId));
    if (pending.length === 0) return;
    for (const consumer of this.consumers.values()) {
      if (consumer.closed || consumer.sending || consumer.credits <= 0) continue;
      const index = pending.findIndex((batch) =>
        this.settings.mode === "sharded"
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
      const pieces = await this.settings.spool.read(batch.batchId);
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
        this.settings.ackTimeoutMs,
      );
      timer.unref();
      consumer.inFlight.set(batch.batchId, timer);
    } catch (error) {
      if (this.inFlight.get(batch.batchId) === consumer) this.inFlight.delete(batch.batchId);
      if (this.settings.spool.isAcked(batch.batchId)) {
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
