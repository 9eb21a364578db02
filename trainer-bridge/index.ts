/**
 * The trainer bridge: the `TrainingRow` type and its Arrow codec, the durable spool, the gRPC
 * server that delivers batches to trainers and runs policy updates, and the TypeScript client.
 *
 * @example
 * import { BridgeServer, Spool } from "sandfarm/trainer-bridge";
 */
export { TRAINING_ROW_SCHEMA_VERSION, trainingRowProblems } from "./training-row.js";
export type { TrainingRow } from "./training-row.js";
export {
  BatchFormatError,
  decodeBatch,
  encodeBatch,
  joinChunks,
  tokenCount,
  trainingRowSchema,
} from "./arrow.js";
export type { DecodedBatch, EncodedBatch } from "./arrow.js";
export { BatchPacker } from "./packing.js";
export { Spool, SpoolError } from "./spool.js";
export type { CommittedBatch, SpoolOptions } from "./spool.js";
export { PolicyUpdateError, PolicyUpdates } from "./policy-updates.js";
export type {
  PauseMode,
  PolicyControl,
  PolicyUpdateOptions,
  ReplicaOutcome,
  UpdateEvent,
  UpdateSnapshot,
  WeightsSource,
} from "./policy-updates.js";
export { BridgeServer } from "./server.js";
export type { BridgeServerOptions, DeliveryMode, TlsOptions } from "./server.js";
export { BridgeCallError, BridgeClient, PullStream } from "./client.js";
export type { BridgeClientOptions, PullOptions, ReceivedBatch } from "./client.js";
