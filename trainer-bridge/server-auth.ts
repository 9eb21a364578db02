/**
 * Who may talk to the bridge server: the bearer-token check every TrainerBridge call passes
 * before its handler runs, and the TLS credentials the server listens with.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import {
  type handleBidiStreamingCall,
  type handleUnaryCall,
  type Metadata,
  ServerCredentials,
  status as GrpcStatus,
} from "@grpc/grpc-js";
import { ConfigError } from "../common/errors.js";

/**
 * A server option that cannot work; `option` names it so a caller can say which of its own
 * flags, variables or config keys fed it.
 */
export class BridgeOptionError extends ConfigError {
  constructor(
    readonly option: "ackTimeoutMs" | "helloTimeoutMs" | "token" | "watermarks",
    message: string,
  ) {
    super(message);
  }
}

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

/** Why a call is turned away, as the status it fails with. */
export interface Refusal {
  code: GrpcStatus;
  details: string;
}

/** The bearer-token check; with no token configured every call passes. */
export class TokenCheck {
  /** Only the hash is kept, so the compare below runs on equal lengths whatever was sent. */
  private readonly tokenHash?: Buffer;

  /** @throws BridgeOptionError when the token is too short to be a secret. */
  constructor(token: string | undefined) {
    if (token === undefined) return;
    if (token.length < 16)
      throw new BridgeOptionError(
        "token",
        "the bridge token must be at least 16 characters; generate one with `openssl rand -hex 32`",
      );
    this.tokenHash = createHash("sha256").update(token).digest();
  }

  /** The status a call with this metadata fails with; undefined when it may go on. */
  refusal(metadata: Metadata): Refusal | undefined {
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

  /** `handler`, run only for a call that passes the check; a refused call fails at once. */
  unary<Request, Reply>(handler: handleUnaryCall<Request, Reply>): handleUnaryCall<Request, Reply> {
    return (call, callback) => {
      const refused = this.refusal(call.metadata);
      if (refused) return callback(refused);
      handler(call, callback);
    };
  }

  /** `handler`, run only for a stream that passes the check; a refused stream fails at once. */
  stream<Request, Reply>(
    handler: handleBidiStreamingCall<Request, Reply>,
  ): handleBidiStreamingCall<Request, Reply> {
    return (call) => {
      const refused = this.refusal(call.metadata);
      if (refused) call.emit("error", refused);
      else handler(call);
    };
  }
}

/** TLS credentials when `tls` is given, plaintext otherwise. */
export function serverCredentials(tls: TlsOptions | undefined): ServerCredentials {
  return tls
    ? ServerCredentials.createSsl(
        tls.clientCa ?? null,
        [{ private_key: tls.key, cert_chain: tls.cert }],
        tls.requireClientCert ?? tls.clientCa !== undefined,
      )
    : ServerCredentials.createInsecure();
}
