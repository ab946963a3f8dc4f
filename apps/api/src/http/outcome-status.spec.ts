import { OUTCOMES } from '@app/common';
import { httpStatusForOutcome } from './outcome-status';

describe('httpStatusForOutcome (DESIGN section 2)', () => {
  it.each([
    ['started', null, 200],
    ['dry_run', null, 200],
    ['paused', null, 200],
    ['restarted', null, 200],
    ['awaiting_approval', null, 202],
    ['held', null, 423],
    ['skipped', null, 409],
    ['rate_limited', null, 429],
    ['not_found', null, 404],
    ['denied', null, 403],
    ['forbidden', null, 502],
    ['rejected', null, 400],
    ['upstream_error', null, 502],
    ['upstream_error', 503, 503],
    ['upstream_error', 504, 504],
    ['upstream_error', 500, 502],
    ['unknown', null, 502],
  ] as const)('%s (Graph said %s) → %i', (outcome, upstream, status) => {
    expect(httpStatusForOutcome(outcome, upstream)).toBe(status);
  });

  it('has a status for every outcome', () => {
    for (const o of OUTCOMES) {
      expect(httpStatusForOutcome(o, null)).toBeGreaterThanOrEqual(200);
    }
  });
});
