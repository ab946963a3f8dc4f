import type { GraphError } from './graph-client';

/** When a Graph read is tried again, and after how long. Writes are never retried here. */

export interface ReadRetryPolicy {
  /** Attempts per read (first one included). */
  maxAttempts: number;
  /** Longest Retry-After honoured between tries. */
  maxRetryAfterSeconds: number;
  /** Exponential backoff without Retry-After: base and cap (full jitter). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  random: () => number;
}

/** 429, timeouts, 503, and no HTTP answer at all (connection refused/reset); not 500/502. */
export function isRetryableRead(error: GraphError): boolean {
  switch (error.kind) {
    case 'throttled':
    case 'timeout':
      return true;
    case 'unavailable':
      return error.details.status === undefined || error.details.status === 503;
    default:
      return false;
  }
}

/** Graph's Retry-After (capped), else exponential backoff with jitter in its upper half. */
export function retryDelayMs(policy: ReadRetryPolicy, error: GraphError, attempt: number): number {
  const retryAfter = error.details.retryAfterSeconds;
  if (retryAfter !== undefined) {
    return Math.min(retryAfter, policy.maxRetryAfterSeconds) * 1000;
  }
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
  return ceiling / 2 + (policy.random() * ceiling) / 2;
}
