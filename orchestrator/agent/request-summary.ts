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

export function requestSummary(
  episodes: readonly {
    calls: readonly { attempts: number; overflowRetries?: number }[];
    requests?: { tokenize: number };
  }[],
): RequestSummary {
  let calls = 0;
  let chat = 0;
  let overflowRetries = 0;
  let tokenize = 0;
  for (const episode of episodes) {
    calls += episode.calls.length;
    for (const call of episode.calls) {
      chat += call.attempts;
      overflowRetries += call.overflowRetries ?? 0;
    }
    tokenize += episode.requests?.tokenize ?? 0;
  }
  const per = (value: number) => (calls === 0 ? 0 : value / calls);
  return {
    calls,
    chat,
    overflowRetries,
    tokenize,
    chatPerCall: per(chat),
    tokenizePerCall: per(tokenize),
  };
}
