/**
 * What episodes asked of the policy server, summed: the measure of whether each model call took
 * one request. Training metrics (per step) and the eval report (per mode) both use it.
 *
 * @example
 * requestSummary(episodes).chatPerCall; // 1.00 when no call was refused and retried
 */
/**
 * Requests to the policy server: model calls, chat-completion requests (retries included; 1 per
 * call when every call fits the context at once), overflow retries, and `/tokenize` requests
 * that measured prompts (reported apart).
 */
export interface RequestSummary {
  calls: number;
  chat: number;
  overflowRetries: number;
  tokenize: number;
  /** chat / calls; 0 without calls. */
  chatPerCall: number;
  /** tokenize / calls; 0 without calls. */
  tokenizePerCall: number;
}

type RequestCounts = Pick<RequestSummary, "calls" | "chat" | "overflowRetries" | "tokenize">;

/** Counts added up, with the per-call rates of the total. */
export function combineRequests(parts: readonly RequestCounts[]): RequestSummary {
  const total = { calls: 0, chat: 0, overflowRetries: 0, tokenize: 0 };
  for (const part of parts) {
    total.calls += part.calls;
    total.chat += part.chat;
    total.overflowRetries += part.overflowRetries;
    total.tokenize += part.tokenize;
  }
  const per = (value: number) => (total.calls === 0 ? 0 : value / total.calls);
  return { ...total, chatPerCall: per(total.chat), tokenizePerCall: per(total.tokenize) };
}

/**
 * What episodes asked of the server: each episode's own totals (`Episode.requests`), or, for
 * episodes recorded before they were kept, the totals its calls give (no tokenize requests).
 */
export function requestSummary(
  episodes: readonly {
    calls: readonly { attempts: number; overflowRetries?: number }[];
    requests?: RequestCounts;
  }[],
): RequestSummary {
  return combineRequests(
    episodes.map(
      (episode) =>
        episode.requests ?? {
          calls: episode.calls.length,
          chat: episode.calls.reduce((sum, call) => sum + call.attempts, 0),
          overflowRetries: episode.calls.reduce(
            (sum, call) => sum + (call.overflowRetries ?? 0),
            0,
          ),
          tokenize: 0,
        },
    ),
  );
}
