import { OUTCOMES, type Outcome } from '@app/common';
import { OUTCOME_STATUS, httpStatusForOutcome } from './outcome-status';

/** DESIGN section 2, written out: the table must say exactly this. */
const DESIGN: Record<Outcome, number> = {
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
};

describe('httpStatusForOutcome (DESIGN section 2)', () => {
  it.each([
    ['upstream_error', 503, 503],
    ['upstream_error', 504, 504],
    ['upstream_error', 500, 502],
    ['upstream_error', null, 502],
    ['unknown', 503, 502],
    ['skipped', 504, 409],
  ] as const)('%s (Graph said %s) → %i', (outcome, upstream, status) => {
    expect(httpStatusForOutcome(outcome, upstream)).toBe(status);
  });

  it('the table is exactly DESIGN section 2, for every outcome and nothing else', () => {
    const { pending, ...byOutcome } = OUTCOME_STATUS;
    expect(byOutcome).toEqual(DESIGN);
    expect(Object.keys(byOutcome).sort()).toEqual([...OUTCOMES].sort());
    expect(pending).toBe(502);
  });

  it.each(OUTCOMES.map((o) => [o, DESIGN[o]] as const))('%s → %i', (outcome, status) => {
    expect(httpStatusForOutcome(outcome, null)).toBe(status);
  });
});
