/** Bodies as the /v1 API answers them, for the component tests. */
export const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';
export const JOBS = `/v1/servicePrincipals/${SP}/synchronization/jobs`;
export const ME = '11111111-1111-4111-8111-111111111111';
export const OTHER = '44444444-4444-4444-8444-444444444444';

export const job = (id: string, observedStatus: string, extra: Record<string, unknown> = {}) => ({
  servicePrincipalId: SP,
  id,
  templateId: null,
  observedStatus,
  rawStatusCode: observedStatus,
  quarantine: null,
  lastExecution: null,
  countSuccessiveCompleteFailures: null,
  troubleshootingUrl: null,
  escrowPause: false,
  hold: null,
  ...extra,
});

let n = 0;
export const attempt = (outcome: string, message: string, extra: Record<string, unknown> = {}) => ({
  attemptId: `0b7f1c2e-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  createdAt: new Date().toISOString(),
  finishedAt: new Date().toISOString(),
  servicePrincipalId: SP,
  jobId: 'scim.paused',
  trigger: 'api',
  actor: { type: 'user', id: ME, name: 'Me' },
  outcome,
  observedStatus: 'paused',
  quarantineReason: null,
  reason: null,
  dryRun: outcome === 'dry_run',
  message,
  retryAfterSeconds: null,
  graphRequestIds: [],
  durationMs: 1,
  wouldStart: null,
  operation: 'start',
  approvalId: null,
  holdId: null,
  resetScope: [],
  requestedBy: null,
  ...extra,
});

export const hold = (extra: Record<string, unknown> = {}) => ({
  holdId: 'a0000000-0000-4000-8000-000000000001',
  servicePrincipalId: SP,
  jobId: 'scim.paused',
  reason: 'CHG-4711: switching credentials',
  until: null,
  placedAt: new Date(Date.now() - 3_600_000).toISOString(),
  placedBy: { id: OTHER, name: 'Ada Admin' },
  releasedAt: null,
  releasedBy: null,
  active: true,
  ...extra,
});

export const approval = (extra: Record<string, unknown> = {}) => ({
  approvalId: 'b0000000-0000-4000-8000-000000000001',
  servicePrincipalId: SP,
  jobId: 'scim.paused',
  operation: 'restart',
  resetScope: ['Full'],
  reason: 'rebuild after the schema change',
  why: 'A restart with Full needs a second person (Full runs a full re-sync)',
  state: 'pending',
  requestedAt: new Date(Date.now() - 600_000).toISOString(),
  expiresAt: new Date(Date.now() + 3_000_000).toISOString(),
  requestedBy: { type: 'user', id: OTHER, name: 'Ada Admin' },
  requestAttemptId: '0b7f1c2e-0000-4000-8000-999999999999',
  decidedAt: null,
  decidedBy: null,
  decisionReason: null,
  attemptId: null,
  ...extra,
});
