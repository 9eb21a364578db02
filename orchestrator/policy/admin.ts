/**
 * vLLM's admin routes, for the trainer bridge's policy updates: the farm's `PolicyControl`.
 * Pausing first holds the policy client (no new model calls, retries wait), then pauses every
 * replica (`POST /pause?mode=keep|wait|abort`); weights load through `/v1/load_lora_adapter`
 * (a LoRA adapter) or `/collective_rpc` (a checkpoint path, with the method configured here:
 * vLLM needs `VLLM_SERVER_DEV_MODE=1` for it, and a worker method that reloads from a path);
 * resuming resumes every replica (`POST /resume`) and releases the client at the new version.
 *
 * @example
 * const control = new VllmPolicyControl(policy);
 * const updates = new PolicyUpdates(control, { pauseMode: "keep" });
 */
import { policyApiKey } from "./endpoint-env.js";
import type {
  PauseMode,
  PolicyControl,
  ReplicaOutcome,
  WeightsSource,
} from "../../trainer-bridge/policy-updates.js";
import type { PolicyClient } from "./client.js";

export interface VllmPolicyControlOptions {
  /** Bearer token for the replicas. @default env SANDFARM_POLICY_API_KEY */
  apiKey?: string;
  /** The worker method `/collective_rpc` calls with `{weights_path}`. @default "reload_weights" */
  weightsMethod?: string;
}

export class VllmPolicyControl implements PolicyControl {
  private readonly headers: Record<string, string>;

  constructor(
    private readonly policy: PolicyClient,
    private readonly options: VllmPolicyControlOptions = {},
  ) {
    const apiKey = options.apiKey ?? policyApiKey().value;
    this.headers = {
      "content-type": "application/json",
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    };
  }

  pause(mode: PauseMode, signal: AbortSignal): Promise<ReplicaOutcome[]> {
    this.policy.hold();
    return this.everyReplica((base) => `${rootOf(base)}/pause?mode=${mode}`, undefined, signal);
  }

  load(source: WeightsSource, signal: AbortSignal): Promise<ReplicaOutcome[]> {
    if ("lora" in source) {
      return this.everyReplica(
        (base) => `${base}/load_lora_adapter`,
        {
          lora_name: source.lora.name,
          lora_path: source.lora.path,
          ...(source.lora.loadInplace ? { load_inplace: true } : {}),
        },
        signal,
      );
    }
    return this.everyReplica(
      (base) => `${rootOf(base)}/collective_rpc`,
      {
        method: this.options.weightsMethod ?? "reload_weights",
        kwargs: { weights_path: source.weightsPath },
      },
      signal,
    );
  }

  async resume(version: number, signal: AbortSignal): Promise<ReplicaOutcome[]> {
    try {
      return await this.everyReplica((base) => `${rootOf(base)}/resume`, undefined, signal);
    } finally {
      // Calls flow again whatever the replicas said: one that did not resume is the router's
      // to eject and probe back, and holding every rollout for it would stall the farm.
      this.policy.release(version);
    }
  }

  private everyReplica(
    urlOf: (base: string) => string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<ReplicaOutcome[]> {
    return Promise.all(
      this.policy.replicas.map(async (replica): Promise<ReplicaOutcome> => {
        const started = performance.now();
        const url = urlOf(replica.url);
        try {
          const response = await fetch(url, {
            method: "POST",
            headers: this.headers,
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal,
          });
          const text = await response.text();
          const elapsedMs = performance.now() - started;
          if (response.ok) return { url: replica.url, ok: true, elapsedMs };
          return {
            url: replica.url,
            ok: false,
            error: `HTTP ${response.status} from ${url}: ${text.slice(0, 300)}`,
            elapsedMs,
          };
        } catch (error) {
          return {
            url: replica.url,
            ok: false,
            error: `${url}: ${(error as Error).message}`,
            elapsedMs: performance.now() - started,
          };
        }
      }),
    );
  }
}

/** vLLM's admin routes hang off the server root, not the OpenAI `/v1` prefix. */
function rootOf(baseUrl: string): string {
  return baseUrl.replace(/\/v1\/?$/, "");
}
