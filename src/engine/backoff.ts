import type { RetryPolicy } from "../core/types.js";

/**
 * Delay before retry number `attempt` (1 = after the first failure). Exponential backoff uses
 * "full jitter" (a uniform delay in [0, base·2^(n-1)], capped), so that many tasks failing together
 * do not retry in lock-step; fixed backoff waits base_ms ± 10 %.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  if (policy.backoff === "fixed") {
    return Math.min(policy.max_ms, Math.round(policy.base_ms * (0.9 + 0.2 * random())));
  }
  const ceiling = Math.min(policy.max_ms, policy.base_ms * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * random());
}
