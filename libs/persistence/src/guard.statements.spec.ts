import { buildClaimStatement, claimStatement } from './guard.statements';
import type { ClaimInput } from './guard.repository';

const WORDING = {
  grantNarrowed: '{caller} has no grant for {servicePrincipalId}',
  grantRequired: 'a grant is required (100% of callers)',
  hold: 'held by {holdPlacedBy} since {holdPlacedAt} until {holdUntil}: {holdReason}',
  holdUntilReleased: 'held by {holdPlacedBy}: {holdReason}',
  cooldown: 'cool-down: {secondsLeft} s of {cooldownSeconds} s left',
  inFlight: 'another request for this job is being decided',
  limit: '{limit} requests per {windowSeconds} s; {secondsLeft} s left',
};

const BASE: ClaimInput = {
  attemptId: '11111111-2222-4333-8444-555555555555',
  servicePrincipalId: '6D3F8A52-1C4B-4E8A-9F27-3B5C0D9E7A14',
  jobId: 'scim.e4bbf44533ea4eabb17027f3a92e92aa',
  trigger: 'api',
  actor: { type: 'user', id: 'ABCDEF01-1C4B-4E8A-9F27-3B5C0D9E7A14', name: 'Ada' },
  reason: 'nightly',
  dryRun: false,
  requestId: 'req-1',
  replicaId: 'a',
  jobKey: '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14/scim.e4bbf44533ea4eabb17027f3a92e92aa',
  limit: 5,
  windowSeconds: 300,
  leaseSeconds: 60,
  cooldownSeconds: 600,
  grantPrincipalId: 'abcdef01-1c4b-4e8a-9f27-3b5c0d9e7a14',
  requireGrants: false,
  wording: WORDING,
};

describe('claimStatement (text rendered once per process)', () => {
  it.each<[string, ClaimInput]>([
    ['a start by a user', BASE],
    [
      'a dry-run pause by recovery, no grants, same value in several parameters',
      {
        ...BASE,
        operation: 'pause',
        trigger: 'recovery',
        actor: { type: 'scheduler', id: 'scheduler', name: null },
        grantPrincipalId: null,
        dryRun: true,
        reason: null,
        requestId: null,
        limit: 60,
        windowSeconds: 60,
        leaseSeconds: 60,
        cooldownSeconds: 60,
      },
    ],
    [
      'a restart under an approval, with a hold, a refusal limit and other wording',
      {
        ...BASE,
        operation: 'restart',
        resetScope: ['Watermark', 'Escrows'],
        approvalId: '22222222-3333-4444-8555-666666666666',
        requestedBy: { id: 'B0B00000-0000-4000-8000-000000000000', name: 'Bob' },
        holdId: '33333333-4444-4555-8666-777777777777',
        refusalLimit: { perCaller: 100, windowSeconds: 30 },
        requireGrants: true,
        wording: { ...WORDING, cooldown: 'wait {secondsLeft} s ({cooldownSeconds} s cool-down, 50%)' },
      },
    ],
  ])('%s: the same text and values as building it from its fragments', (_label, input) => {
    expect(claimStatement(input).toQuery()).toEqual(buildClaimStatement(input).toQuery());
  });

  it('puts each call’s own values in (nothing of an earlier call is kept but the text)', () => {
    const first = claimStatement(BASE).toQuery();
    const second = claimStatement({ ...BASE, attemptId: '99999999-2222-4333-8444-555555555555', limit: 7 });
    const q = second.toQuery();
    expect(q.text).toBe(first.text);
    expect(q.values).toContain('99999999-2222-4333-8444-555555555555');
    expect(q.values).not.toContain(BASE.attemptId);
    expect(q.values).toContain(7);
  });
});
