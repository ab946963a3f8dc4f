import type { AttemptView } from '@app/common';

/** An attempt as the API shows it: a pending start by an app, unless `over` says otherwise. */
export function attemptView(over: Partial<AttemptView> = {}): AttemptView {
  return {
    attemptId: '6f2d1c3a-1b2c-4d5e-8f90-123456789abc',
    createdAt: new Date().toISOString(),
    finishedAt: null,
    servicePrincipalId: '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14',
    jobId: 'scim.1',
    trigger: 'api',
    actor: { type: 'app', id: 'a', name: null },
    outcome: 'pending',
    observedStatus: null,
    quarantineReason: null,
    reason: null,
    dryRun: false,
    message: null,
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
