import type { Outcome } from '@app/common';

/** DESIGN section 2: HTTP status of the start endpoint by outcome. Exhaustive on purpose. */
export function httpStatusForOutcome(outcome: Outcome | 'pending', upstreamStatus: number | null): number {
  switch (outcome) {
    case 'started':
    case 'dry_run':
    case 'paused':
    case 'restarted':
      return 200;
    case 'awaiting_approval':
      return 202;
    case 'held':
      return 423;
    case 'skipped':
      return 409;
    case 'rate_limited':
      return 429;
    case 'not_found':
      return 404;
    case 'denied':
      return 403;
    case 'forbidden':
      return 502;
    case 'rejected':
      return 400;
    case 'upstream_error':
      return upstreamStatus === 503 || upstreamStatus === 504 ? upstreamStatus : 502;
    case 'unknown':
    case 'pending':
      return 502;
  }
}
