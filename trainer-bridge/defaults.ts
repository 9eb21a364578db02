/**
 * The bridge server's defaults, in a module that imports nothing, so sandfarm's config schema and
 * `sandfarm bridge serve` read them without loading gRPC.
 *
 * @example
 * new BridgeServer({ spool, ackTimeoutMs: BRIDGE_DEFAULTS.ackTimeoutMs });
 */
export const BRIDGE_DEFAULTS = {
  address: "127.0.0.1:50051",
  delivery: "work_queue",
  ackTimeoutMs: 600_000,
  helloTimeoutMs: 10_000,
  maxChunkBytes: 512 * 1024 * 1024,
} as const;
