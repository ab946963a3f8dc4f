import type { Outcome } from '@app/common';

/**
 * DESIGN section 2: HTTP status of an operation answered with its Attempt, by outcome. Exhaustive on purpose:
 * a new outcome without a status fails typecheck here. `pending` (never answered in practice: every answer is
 * finalised) is a 502 like `unknown`.
 */
export const OUTCOME_STATUS = {
  started: 200,
  dry_run: 200,
  paused: 200,
  restarted: 200,
  awaiting_approval: 202,
  held: 423,
  skipped: 409,
  rate_limited: 429,
  not_found: 404,
  denied: 403,
  forbidden: 502,
  rejected: 400,
  upstream_error: 502,
  unknown: 502,
  pending: 502,
} as const satisfies Record<Outcome | 'pending', number>;

/** The status by outcome; an `upstream_error` keeps Graph's own 503 or 504. */
export function httpStatusForOutcome(outcome: Outcome | 'pending', upstreamStatus: number | null): number {
  if (outcome === 'upstream_error' && (upstreamStatus === 503 || upstreamStatus === 504)) {
    return upstreamStatus;
  }
  return OUTCOME_STATUS[outcome];
}
