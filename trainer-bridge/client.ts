/**
 * The TypeScript trainer client: pulls batches from a farm's bridge, acks them, and drives
 * policy updates. For tests, and for anyone writing a trainer shim in JavaScript (the Python
 * client in python/ is the same protocol).
 *
 * @example
 * const client = new BridgeClient({ address: "127.0.0.1:50051", token });
 * for await (const batch of client.batches()) {
 *   train(batch.rows());
 *   batch.ack();
 * }
 */
import { createHash, type Hash } from "node:crypto";
import { hostname } from "node:os";
import {
  type ChannelCredentials,
  type ClientDuplexStream,
  type ClientOptions,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
  status as GrpcStatus,
} from "@grpc/grpc-js";
import { decodeBatch } from "./arrow.js";
import {
  type BatchHeader,
  PauseMode,
  type PolicyUpdateReply,
  type PullRequest,
  type PullResponse,
  type Status,
  type TrainerBridgeClient,
  type Welcome,
} from "./generated/sandfarm/v1/bridge.js";
import type { TrainingRow } from "./training-row.js";
import { BRIDGE_SERVICE, BULK_CHANNEL_OPTIONS } from "./wire.js";
import { InfrastructureError } from "../common/errors.js";

/** The generated client class, built on the service with the bulk path's decoder. */
const BridgeStub = makeGenericClientConstructor(
  BRIDGE_SERVICE,
  "sandfarm.v1.TrainerBridge",
) as unknown as new (
  address: string,
  channelCredentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => TrainerBridgeClient;

export interface BridgeClientOptions {
  /** `host:port` of the farm's bridge. */
  address: string;
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** Use TLS: `ca` to trust the farm's certificate, `cert` + `key` for a client certificate. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string };
}

export interface PullOptions {
  /** @default 0 */
  rank?: number;
  /** @default 1 */
  worldSize?: number;
  /** Batches the farm may send ahead (prefetch). @default 2 */
  credits?: number;
  /** Chunk size to ask for; 0 for the farm's default (1 MiB). */
  maxChunkBytes?: number;
  trainerId?: string;
  /**
   * Check each batch against its header's SHA-256 (about 1 ms of CPU per MB here): a batch that
   * fails ends the stream with an error, and the farm delivers it again. @default true
   */
  verify?: boolean;
}

/** One batch as received: its header, its Arrow IPC bytes, and its ack. */
export interface ReceivedBatch {
  header: BatchHeader;
  /** The Arrow IPC file as received, in chunks: their concatenation is `bytes`. */
  chunks: readonly Buffer[];
  /** The Arrow IPC file, byte for byte what the farm spooled (joined on first use). */
  readonly bytes: Uint8Array;
  rows(): TrainingRow[];
  /**
   * Tells the farm the batch was trained on; it is never delivered again. `metrics` (finite
   * numbers) are the training step's, recorded with the run.
   */
  ack(metrics?: Record<string, number>): void;
}

/** The stream ended with a gRPC error (UNAUTHENTICATED, UNAVAILABLE, ...). */
export class BridgeCallError extends InfrastructureError {
  constructor(
    readonly code: GrpcStatus,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const PAUSE_MODES = {
  keep: PauseMode.PAUSE_MODE_KEEP,
  wait: PauseMode.PAUSE_MODE_WAIT,
  abort: PauseMode.PAUSE_MODE_ABORT,
} as const;

export class BridgeClient {
  private readonly client: TrainerBridgeClient;

  constructor(private readonly options: BridgeClientOptions) {
    const tls = options.tls;
    const channelCredentials = tls
      ? credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null)
      : credentials.createInsecure();
    this.client = new BridgeStub(options.address, channelCredentials, {
      ...BULK_CHANNEL_OPTIONS,
      ...(tls?.serverName ? { "grpc.ssl_target_name_override": tls.serverName } : {}),
    });
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.options.token) metadata.set("authorization", `Bearer ${this.options.token}`);
    return metadata;
  }

  /** Opens a Pull stream. Iterate it for batches; `close()` it (or break) to stop. */
  pull(options: PullOptions = {}): PullStream {
    const stream = this.client.pull(this.metadata());
    return new PullStream(
      stream,
      {
        rank: options.rank ?? 0,
        worldSize: options.worldSize ?? 1,
        credits: options.credits ?? 2,
        maxChunkBytes: options.maxChunkBytes ?? 0,
        trainerId: options.trainerId ?? `${hostname()}:${process.pid}`,
      },
      options.verify ?? true,
    );
  }

  /** Iterates batches of one Pull stream with default options. */
  batches(options?: PullOptions): AsyncIterable<ReceivedBatch> {
    return this.pull(options);
  }

  private call<Reply>(
    invoke: (
      metadata: Metadata,
      callback: (error: ServiceError | null, reply: Reply) => void,
    ) => unknown,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      invoke(this.metadata(), (error, reply) => {
        if (error)
          reject(new BridgeCallError(error.code, error.details || error.message, { cause: error }));
        else resolve(reply);
      });
    });
  }

  beginPolicyUpdate(
    version: number,
    pauseMode?: "keep" | "wait" | "abort",
  ): Promise<PolicyUpdateReply> {
    const request = {
      version,
      pauseMode: pauseMode ? PAUSE_MODES[pauseMode] : PauseMode.PAUSE_MODE_UNSPECIFIED,
    };
    return this.call((metadata, callback) =>
      this.client.beginPolicyUpdate(request, metadata, callback),
    );
  }

  loadLoraAdapter(
    version: number,
    adapter: { name: string; path: string; loadInplace?: boolean },
  ): Promise<PolicyUpdateReply> {
    const request = {
      version,
      source: {
        $case: "lora" as const,
        value: {
          name: adapter.name,
          path: adapter.path,
          loadInplace: adapter.loadInplace ?? false,
        },
      },
    };
    return this.call((metadata, callback) =>
      this.client.loadPolicyWeights(request, metadata, callback),
    );
  }

  loadWeightsPath(version: number, path: string): Promise<PolicyUpdateReply> {
    const request = { version, source: { $case: "weightsPath" as const, value: path } };
    return this.call((metadata, callback) =>
      this.client.loadPolicyWeights(request, metadata, callback),
    );
  }

  commitPolicyUpdate(version: number): Promise<PolicyUpdateReply> {
    return this.call((metadata, callback) =>
      this.client.commitPolicyUpdate({ version }, metadata, callback),
    );
  }

  abortPolicyUpdate(version: number, reason = ""): Promise<PolicyUpdateReply> {
    return this.call((metadata, callback) =>
      this.client.abortPolicyUpdate({ version, reason }, metadata, callback),
    );
  }

  status(): Promise<Status> {
    return this.call((metadata, callback) => this.client.getStatus({}, metadata, callback));
  }

  close(): void {
    this.client.close();
  }
}

/** One Pull stream: an async iterable of batches, with a credit returned for each one taken. */
export class PullStream implements AsyncIterable<ReceivedBatch> {
  /** The farm's reply to Hello, once it came. */
  welcome?: Welcome;
  private readonly ready: ReceivedBatch[] = [];
  private waiting?: { resolve: () => void };
  private failure?: Error;
  private ended = false;
  /** The batch being received: its bytes are copied into place as chunks arrive. */
  private assembling?: { header: BatchHeader; chunks: Buffer[]; received: number; hash?: Hash };
  private taken = 0;
  /**
   * Resolves when the stream ended with status OK (after `close()`, the farm had recorded every
   * ack sent before it); rejects with a `BridgeCallError` when it ended otherwise.
   */
  readonly finished: Promise<void>;
  private abandoned = false;

  constructor(
    private readonly stream: ClientDuplexStream<PullRequest, PullResponse>,
    hello: Omit<Required<PullOptions>, "verify">,
    private readonly verify: boolean,
  ) {
    let settle!: { resolve: () => void; reject: (error: Error) => void };
    this.finished = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Whoever does not await it must not see an unhandled rejection.
    this.finished.catch(() => undefined);
    stream.on("status", (status: { code: GrpcStatus }) => {
      if (status.code === GrpcStatus.OK) settle.resolve();
    });
    stream.on("data", (message: PullResponse) => this.receive(message));
    stream.on("error", (error: ServiceError) => {
      if (error.code === GrpcStatus.CANCELLED && this.abandoned) {
        settle.resolve();
      } else {
        const failure = new BridgeCallError(error.code, error.details || error.message, {
          cause: error,
        });
        this.failure ??= failure;
        settle.reject(failure);
      }
      this.finish();
    });
    stream.on("end", () => this.finish());
    stream.write({ kind: { $case: "hello", value: hello } });
  }

  private finish(): void {
    this.ended = true;
    this.waiting?.resolve();
  }

  private receive(message: PullResponse): void {
    const kind = message.kind;
    if (kind?.$case === "welcome") {
      this.welcome = kind.value;
      return;
    }
    if (kind?.$case === "header") {
      this.assembling = {
        header: kind.value,
        chunks: [],
        received: 0,
        ...(this.verify ? { hash: createHash("sha256") } : {}),
      };
      if (kind.value.chunks === 0) this.complete();
      return;
    }
    if (kind?.$case !== "chunk" || !this.assembling) return;
    const chunk = kind.value;
    const batch = this.assembling;
    if (chunk.batchId !== batch.header.batchId || chunk.index !== batch.chunks.length) {
      return this.fail(
        `chunk ${chunk.index} of ${chunk.batchId} arrived while assembling chunk ` +
          `${batch.chunks.length} of ${batch.header.batchId}`,
      );
    }
    batch.chunks.push(chunk.data);
    batch.hash?.update(chunk.data);
    batch.received += chunk.data.length;
    if (batch.chunks.length === batch.header.chunks) this.complete();
  }

  private fail(message: string): void {
    this.failure = new Error(message);
    this.abandon();
  }

  private complete(): void {
    const { header, chunks, received, hash } = this.assembling!;
    this.assembling = undefined;
    if (received !== header.ipcBytes)
      return this.fail(
        `${header.batchId}: ${received} bytes where the header says ${header.ipcBytes}`,
      );
    if (hash && hash.digest("hex") !== header.sha256)
      return this.fail(`${header.batchId}: the bytes do not match the header's sha256`);
    let acked = false;
    let joined: Buffer | undefined;
    const bytes = () =>
      (joined ??= chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    this.ready.push({
      header,
      chunks,
      get bytes() {
        return bytes();
      },
      rows: () => decodeBatch(bytes()).rows,
      ack: (metrics = {}) => {
        if (acked) return;
        if (this.ended)
          throw new Error(
            `cannot ack ${header.batchId}: its stream is closed (the farm will deliver it again); ` +
              "ack before leaving the loop",
          );
        acked = true;
        this.stream.write({ kind: { $case: "ack", value: { batchId: header.batchId, metrics } } });
      },
    });
    this.waiting?.resolve();
  }

  /** The next batch; undefined when the stream ended cleanly; throws on a stream error. */
  async next(): Promise<ReceivedBatch | undefined> {
    for (;;) {
      const batch = this.ready.shift();
      if (batch) {
        // Taking a batch frees a slot: ask for one more.
        if (!this.ended) this.stream.write({ kind: { $case: "credit", value: { batches: 1 } } });
        this.taken++;
        return batch;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => {
        this.waiting = { resolve };
      });
      this.waiting = undefined;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedBatch> {
    try {
      for (;;) {
        const batch = await this.next();
        if (!batch) return;
        yield batch;
      }
    } finally {
      this.close();
    }
  }

  /** Batches taken from this stream so far. */
  get count(): number {
    return this.taken;
  }

  /**
   * Ends the stream after the acks already given reach the farm; batches not acked go back to
   * the farm's queue. `await stream.finished` afterwards to know the farm recorded those acks.
   */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.end();
    this.waiting?.resolve();
  }

  /** Drops the stream at once, like a crashed trainer: acks not yet sent are lost. */
  abandon(): void {
    this.abandoned = true;
    this.ended = true;
    this.stream.cancel();
    this.waiting?.resolve();
  }
}
