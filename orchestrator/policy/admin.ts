/**
 * vLLM's admin routes, for the trainer bridge's policy updates: the farm's `PolicyControl`.
 * Pausing first holds the policy client (no new model calls, retries wait), then pauses every
 * replica (`POST /pause?mode=keep|wait|abort`); weights load through `/v1/load_lora_adapter`
 * (a LoRA adapter) or `/collective_rpc` (a checkpoint path, with the method configured here:
 * vLLM needs `VLLM_SERVER_DEV_MODE=1` for it, and a worker method that reloads from a path);
 * resuming resumes every replica (`POST /resume`) and releases the client at the new version.
 *
 * LoRA: vLLM picks an adapter by the request's `model`, so from the commit of an update that
 * loaded adapter NAME on, rollouts ask for `model: NAME`. The portable path is a new name per
 * version (vLLM refuses to load a name it serves unless `load_inplace`, which only recent
 * versions accept): the adapter it replaces is unloaded (`/v1/unload_lora_adapter`) once no call
 * that was sent with it is still on the wire. An aborted update unloads the adapter it loaded.
 * Loading the served name again without `loadInplace` is refused here, before any replica is
 * asked. The replicas need `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True` and `--enable-lora`.
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
import { PolicyUpdateError } from "../../trainer-bridge/policy-updates.js";
import type { PolicyClient } from "./client.js";

export interface VllmPolicyControlOptions {
  /** Bearer token for the replicas. @default env SANDFARM_POLICY_API_KEY */
  apiKey?: string;
  /** The worker method `/collective_rpc` calls with `{weights_path}`. @default "reload_weights" */
  weightsMethod?: string;
  /** Told when an adapter could not be unloaded (it keeps a LoRA slot until the replica restarts). */
  onWarning?: (message: string) => void;
}

export class VllmPolicyControl implements PolicyControl {
  private readonly headers: Record<string, string>;
  /** The adapter the open update loaded: served from its commit on. */
  private loaded: string | undefined;
  /** The unloads of replaced or aborted adapters so far, in order (tests and shutdown wait). */
  readonly unloads: Promise<ReplicaOutcome[]>[] = [];

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

  async load(source: WeightsSource, signal: AbortSignal): Promise<ReplicaOutcome[]> {
    if ("lora" in source) {
      const { name, path, loadInplace } = source.lora;
      if (name === this.policy.options.model)
        throw new PolicyUpdateError(
          "invalid_argument",
          `'${name}' is the base model's name; give the adapter a name of its own`,
        );
      if (name === this.policy.model && !loadInplace)
        throw new PolicyUpdateError(
          "invalid_argument",
          `the replicas serve adapter '${name}' now; vLLM refuses to load a served name again: ` +
            `give each version its own name (e.g. '${name.replace(/-v\d+$/, "")}-v<version>'; the old one is unloaded) ` +
            "or set load_inplace (only recent vLLM versions accept it)",
        );
      const outcomes = await this.everyReplica(
        (base) => `${base}/load_lora_adapter`,
        { lora_name: name, lora_path: path, ...(loadInplace ? { load_inplace: true } : {}) },
        signal,
      );
      // Even a partial load is remembered: an abort then unloads it where it did load.
      this.loaded = name;
      return outcomes;
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
    const committing = version > this.policy.version;
    const loaded = this.loaded;
    this.loaded = undefined;
    const served = this.policy.model;
    if (loaded !== undefined && committing) this.policy.useModel(loaded);
    try {
      return await this.everyReplica((base) => `${rootOf(base)}/resume`, undefined, signal);
    } finally {
      // Calls flow again whatever the replicas said: one that did not resume is the router's
      // to eject and probe back, and holding every rollout for it would stall the farm.
      this.policy.release(version);
      if (loaded !== undefined && loaded !== served) {
        // Committed: the adapter it replaced goes once its last call is answered (never the base
        // model). Aborted: the adapter this update loaded goes.
        const retired = committing ? served : loaded;
        if (retired !== this.policy.options.model) this.unloads.push(this.unload(retired));
      }
    }
  }

  /** Unloads an adapter from every replica once no call sent with it is on the wire. */
  private async unload(name: string): Promise<ReplicaOutcome[]> {
    await this.policy.whenIdle(name);
    const outcomes = await this.everyReplica(
      (base) => `${base}/unload_lora_adapter`,
      { lora_name: name },
      AbortSignal.timeout(60_000),
    );
    const failed = outcomes.filter((outcome) => !outcome.ok);
    if (failed.length > 0)
      this.options.onWarning?.(
        `adapter '${name}' was not unloaded from ${failed.length} replica(s) (it keeps a LoRA slot until unloaded): ` +
          failed.map((outcome) => outcome.error).join("; "),
      );
    return outcomes;
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

/**
 * Replicas a crashed farm left paused (killed between an update's begin and its commit) answer
 * nothing until resumed. A farm starting with the bridge sink has no update open, so any pause
 * is stale: each replica that says it is paused (`GET /is_paused`) is resumed. Returns the URLs
 * resumed; a replica without the route (not vLLM) is left alone.
 */
export async function resumeLeftPaused(
  urls: readonly string[],
  apiKey: string | undefined = policyApiKey().value,
): Promise<string[]> {
  const headers = apiKey ? { authorization: `Bearer ${apiKey}` } : undefined;
  const resumed: string[] = [];
  for (const url of urls) {
    try {
      const state = await fetch(`${rootOf(url)}/is_paused`, {
        ...(headers ? { headers } : {}),
        signal: AbortSignal.timeout(5000),
      });
      if (!state.ok || ((await state.json()) as { is_paused?: unknown }).is_paused !== true)
        continue;
      const answer = await fetch(`${rootOf(url)}/resume`, {
        method: "POST",
        ...(headers ? { headers } : {}),
        signal: AbortSignal.timeout(5000),
      });
      if (answer.ok) resumed.push(url);
    } catch {
      // Not reachable or not vLLM: the preflight that follows says so.
    }
  }
  return resumed;
}
