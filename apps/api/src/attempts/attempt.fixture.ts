import type { AttemptView } from '@app/common';

/** An Attempt as the store returns it, for the unit tests' in-memory fakes; `over` sets any field. */
export function attemptFixture(over: Partial<AttemptView> = {}): AttemptView {
  return {
    attemptId: '00000000-0000-4000-8000-000000000001',
    createdAt: '2026-11-28T12:00:00.000Z',
    finishedAt: '2026-11-28T12:00:00.100Z',
    servicePrincipalId: '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14',
    jobId: 'scim.1',
    trigger: 'api',
    actor: { type: 'app', id: 'caller-1', name: null },
    outcome: 'started',
    observedStatus: null,
    quarantineReason: null,
    reason: null,
    dryRun: false,
    message: 'fixture',
    retryAfterSeconds: null,
    graphRequestIds: [],
    durationMs: null,
    wouldStart: null,
    operation: 'start',
    approvalId: null,
    holdId: null,
    resetScope: [],
    requestedBy: null,
    ...over,
  };
}
