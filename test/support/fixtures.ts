import type { AttemptView } from '@app/common';
import type { SyncJob } from '@app/graph';
import type { RecoveryWatchView, WatchRecord } from '@app/persistence';

/** Test data with every field filled in: tests name only what they are about. */

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const AT = '2026-11-28T12:00:00.000Z';

/** A watched job as the recovery sweep reads it: state ok, never read. */
export function watchRecord(patch: Partial<WatchRecord> = {}): WatchRecord {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    servicePrincipalId: SP,
    jobId: 'scim.1',
    state: 'ok',
    lastSeenStatus: null,
    lastQuarantineReason: null,
    lastSeenAt: null,
    failedAttempts: 0,
    nextTryAt: null,
    lastAttemptId: null,
    lastMessage: null,
    ...patch,
  };
}

/** A watch as the API lists it: state ok, never read. */
export function watchView(patch: Partial<RecoveryWatchView> = {}): RecoveryWatchView {
  const { id, lastSeenAt, nextTryAt, quarantineSince: _since, ...rest } = watchRecord();
  return {
    ...rest,
    watchId: id,
    createdAt: AT,
    createdBy: 'admin',
    lastSeenAt: lastSeenAt?.toISOString() ?? null,
    nextTryAt: nextTryAt?.toISOString() ?? null,
    ...patch,
  };
}

/** An attempt as the store returns it and the API shows it: a finished start by an app, outcome started. */
export function attemptView(patch: Partial<AttemptView> = {}): AttemptView {
  return {
    attemptId: '22222222-2222-4222-8222-222222222222',
    createdAt: AT,
    finishedAt: AT,
    servicePrincipalId: SP,
    jobId: 'scim.1',
    trigger: 'api',
    actor: { type: 'app', id: 'caller', name: null },
    outcome: 'started',
    observedStatus: 'paused',
    quarantineReason: null,
    reason: null,
    dryRun: false,
    message: null,
    retryAfterSeconds: null,
    graphRequestIds: [],
    durationMs: 1,
    wouldStart: null,
    operation: 'start',
    approvalId: null,
    holdId: null,
    resetScope: [],
    requestedBy: null,
    ...patch,
  };
}

/** A job as Graph shows it: scim.1, paused, not in quarantine. */
export function syncJob(patch: Partial<SyncJob> = {}): SyncJob {
  return {
    id: 'scim.1',
    templateId: 'scim',
    observedStatus: 'paused',
    rawStatusCode: 'Paused',
    quarantine: null,
    schedule: null,
    lastExecution: null,
    countSuccessiveCompleteFailures: null,
    troubleshootingUrl: null,
    escrowsPruned: null,
    ...patch,
  };
}

/** A job in `status` (its raw code the same), in quarantine for `reason` when one is given. */
export function jobIn(status: SyncJob['observedStatus'], reason: string | null = null): SyncJob {
  return syncJob({
    observedStatus: status,
    rawStatusCode: status,
    quarantine:
      reason === null
        ? null
        : { reason, currentBegan: null, nextAttempt: null, seriesBegan: null, seriesCount: 1, error: null },
  });
}
