/**
 * The rewarder a run's `rewards` section describes: scorer threads, the overlong penalty and, when
 * configured, the LLM judge.
 *
 * @example
 * const rewarder = await rewarderFor(config.rewards, 2);
 */
import { Rewarder, type RewarderOptions } from "../../rewards/rewarder.js";
import type { RewardsSection } from "../config/sections.js";

/** The rewarder a config's `rewards` section describes, with `workers` scorer threads. */
export function rewarderFor(
  rewards: RewardsSection,
  workers: number,
  options: Pick<RewarderOptions, "byDomain"> = {},
): Promise<Rewarder> {
  return Rewarder.create({
    overlongPenalty: rewards.overlongPenalty,
    pool: { workers },
    ...(rewards.judge ? { judge: { baseURL: rewards.judge.url, model: rewards.judge.model } } : {}),
    ...options,
  });
}
