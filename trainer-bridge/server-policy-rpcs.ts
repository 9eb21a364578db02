/**
 * The policy-update calls of the bridge (Begin, Load, Commit, Abort): each turns a request into
 * a PolicyUpdates step and its outcome, or its error, into the reply or status a trainer reads.
 */
import { type handleUnaryCall, status as GrpcStatus } from "@grpc/grpc-js";
import {
  type AbortPolicyUpdateRequest,
  type BeginPolicyUpdateRequest,
  type CommitPolicyUpdateRequest,
  type LoadPolicyWeightsRequest,
  PauseMode as WirePauseMode,
  type PolicyUpdateReply,
  UpdateState,
} from "./generated/sandfarm/v1/bridge.js";
import type {
  PauseMode,
  PolicyUpdateError,
  PolicyUpdates,
  UpdateSnapshot,
} from "./policy-updates.js";

/** The unary handlers, by their TrainerBridge method names; authentication is the caller's. */
export interface PolicyUpdateRpcs {
  beginPolicyUpdate: handleUnaryCall<BeginPolicyUpdateRequest, PolicyUpdateReply>;
  loadPolicyWeights: handleUnaryCall<LoadPolicyWeightsRequest, PolicyUpdateReply>;
  commitPolicyUpdate: handleUnaryCall<CommitPolicyUpdateRequest, PolicyUpdateReply>;
  abortPolicyUpdate: handleUnaryCall<AbortPolicyUpdateRequest, PolicyUpdateReply>;
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

/** The handlers; without `policy` every call fails with UNIMPLEMENTED. */
export function policyUpdateRpcs(policy: PolicyUpdates | undefined): PolicyUpdateRpcs {
  const requirePolicy = (): PolicyUpdates => {
    if (!policy)
      throw new CallError(
        GrpcStatus.UNIMPLEMENTED,
        "this farm was started without policy control (no policy replicas configured)",
      );
    return policy;
  };
  return {
    beginPolicyUpdate: unary((request) =>
      requirePolicy().begin(request.version, PAUSE_MODES[request.pauseMode]),
    ),
    loadPolicyWeights: unary((request) => {
      const source = request.source;
      if (!source)
        throw new CallError(GrpcStatus.INVALID_ARGUMENT, "give a lora adapter or a weights_path");
      if (source.$case === "lora") {
        if (!source.value.name || !source.value.path)
          throw new CallError(
            GrpcStatus.INVALID_ARGUMENT,
            "a lora adapter needs a name and a path",
          );
        return requirePolicy().load(request.version, { lora: source.value });
      }
      if (!source.value) throw new CallError(GrpcStatus.INVALID_ARGUMENT, "weights_path is empty");
      return requirePolicy().load(request.version, { weightsPath: source.value });
    }),
    commitPolicyUpdate: unary((request) => requirePolicy().commit(request.version)),
    abortPolicyUpdate: unary((request) =>
      requirePolicy().abort(request.version, request.reason || undefined),
    ),
  };
}

/** A handler that replies with `run`'s snapshot, or the status its error maps to. */
function unary<Request>(
  run: (request: Request) => Promise<UpdateSnapshot>,
): handleUnaryCall<Request, PolicyUpdateReply> {
  return (call, callback) => {
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
