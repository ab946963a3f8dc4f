import type { ObservedStatus, Outcome } from '@app/common';
import type { GraphError, SyncJob } from '@app/graph';

/** Pure decisions of the guard (DESIGN section 3, steps 6-8): no I/O here. */

/** Retries of the finalising write when the database blinks between the claim and the end of a decision. */
export const FINALISE_RETRY_DELAYS_MS: readonly number[] = [100, 400, 1000];
/** What one finalise try may take (the statement and a wait for a pooled connection), for the lease's length. */
export const FINALISE_TRY_ALLOWANCE_MS = 2000;
/** Slack between the claim's database clock and the decision's own deadline (the claim's round trip, clock steps). */
export const LEASE_MARGIN_MS = 5000;

/**
 * The single-flight lease must outlive the longest decision: its Graph budget (token waits and every exchange are
 * bounded by the same deadline, and no start is sent after it), then the finalise with its retries. The reconciler
 * treats a row pending for longer than this as orphaned, so it is never shorter than a live decision.
 */
export function decisionLeaseSeconds(graphBudgetMs: number): number {
  const finalise =
    FINALISE_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) +
    (FINALISE_RETRY_DELAYS_MS.length + 1) * FINALISE_TRY_ALLOWANCE_MS;
  return Math.ceil((graphBudgetMs + finalise + LEASE_MARGIN_MS) / 1000);
}

export function isStartable(status: ObservedStatus): boolean {
  return status === 'paused' || status === 'quarantine';
}

const STATUS_WORDS: Record<ObservedStatus, string> = {
  notConfigured: 'not configured (no credentials were provided to the provisioning service)',
  notRun: 'configured but has not finished its first run',
  active: 'active',
  paused: 'paused',
  quarantine: 'in quarantine',
  unknown: 'in a status this service does not know',
};

export function describeStatus(job: SyncJob): string {
  const base = STATUS_WORDS[job.observedStatus];
  if (job.observedStatus === 'quarantine' && job.quarantine?.reason) {
    return `${base} (${job.quarantine.reason})`;
  }
  if (job.observedStatus === 'unknown' && job.rawStatusCode) {
    return `${base} ("${job.rawStatusCode}")`;
  }
  return base;
}

export function skipMessage(job: SyncJob): string {
  return `Job is ${describeStatus(job)}; start is only allowed when paused or in quarantine`;
}

/**
 * The caller's own rule, applied on top of the status rule to every read of a decision (recovery: quarantine
 * only, never a reason that needs a person). Returns why a start is refused, or null.
 */
export type StartPolicy = (job: SyncJob) => string | null;

/**
 * Refused: `message` says why. `approvalWhy` is set when the only thing missing is a second person (DESIGN 2c): the
 * start may be sent once another Admin approves it.
 */
export type StartVerdict = { allowed: true } | { allowed: false; message: string; approvalWhy?: string };

/**
 * The one complete decision of DESIGN section 3, step 7, on a fresh read of the job: a start may be sent only
 * when the status is paused or quarantine AND the requesting policy allows it AND no second person is needed
 * (`approvalRule`, DESIGN 2c). The guard applies it to the first
 * read and to every re-read before a re-send; there is no other copy of these rules.
 */
export function startVerdict(
  job: SyncJob,
  policy: StartPolicy | undefined,
  approvalRule?: StartPolicy,
): StartVerdict {
  if (!isStartable(job.observedStatus)) {
    return { allowed: false, message: skipMessage(job) };
  }
  const refusal = policy?.(job) ?? null;
  if (refusal !== null && refusal !== '') {
    return { allowed: false, message: refusal };
  }
  const approvalWhy = approvalRule?.(job) ?? null;
  if (approvalWhy !== null && approvalWhy !== '') {
    return { allowed: false, message: approvalWhy, approvalWhy };
  }
  return { allowed: true };
}

/** `refusal`: why the start would not be sent (status or the caller's policy), or null when it would be. */
export function dryRunMessage(job: SyncJob, refusal: string | null): string {
  return refusal === null
    ? `Dry run: job is ${describeStatus(job)}, so a start would be sent`
    : `Dry run: job is ${describeStatus(job)}, so no start would be sent: ${refusal}`;
}

export function startedMessage(job: SyncJob): string {
  return job.observedStatus === 'quarantine'
    ? `Start sent: job was in quarantine${job.quarantine?.reason ? ` (${job.quarantine.reason})` : ''}; Graph accepted the start and clears the quarantine`
    : 'Start sent: job was paused; Graph accepted the start and the job resumes from where it paused';
}

export interface GraphFailure {
  outcome: Outcome;
  message: string;
  retryAfterSeconds: number | null;
  /** 503 or 504 when Graph said so; otherwise the outcome's own status applies. */
  upstreamStatus: number | null;
}

/** Maps a Graph failure on the status read or the start into the attempt's outcome. One table, exhaustive. */
export function graphFailure(
  error: GraphError,
  during: 'read' | 'start' | 'pause' | 'restart',
): GraphFailure {
  const what = during === 'read' ? "reading the job's status" : `sending the ${during}`;
  const graphCode = error.details.code ? ` (${error.details.code})` : '';
  switch (error.kind) {
    case 'not_found':
      return {
        outcome: 'not_found',
        message: `Graph has no such job or service principal${graphCode}`,
        retryAfterSeconds: null,
        upstreamStatus: null,
      };
    case 'forbidden':
      return {
        outcome: 'forbidden',
        message: `Graph refused this service's identity while ${what}${graphCode}: it needs the ${error.details.requiredPermission ?? 'Synchronization.ReadWrite.All'} application permission (or Application.ReadWrite.OwnedBy and ownership of the service principal)`,
        retryAfterSeconds: null,
        upstreamStatus: null,
      };
    case 'throttled':
      return {
        outcome: 'rate_limited',
        message: `Graph throttled ${what}; try again after ${Math.max(1, Math.ceil(error.details.retryAfterSeconds ?? 1))} s`,
        retryAfterSeconds: Math.max(1, Math.ceil(error.details.retryAfterSeconds ?? 1)),
        upstreamStatus: null,
      };
    case 'unavailable':
      return {
        outcome: 'upstream_error',
        message: `Graph failed while ${what}${error.details.status ? ` with HTTP ${error.details.status}` : ''}${graphCode}`,
        retryAfterSeconds:
          error.details.retryAfterSeconds !== undefined ? Math.ceil(error.details.retryAfterSeconds) : null,
        upstreamStatus: error.details.status === 503 ? 503 : null,
      };
    case 'timeout':
      return {
        outcome: 'upstream_error',
        message: `Graph did not answer in time while ${what}`,
        retryAfterSeconds: null,
        upstreamStatus: 504,
      };
    case 'lost':
      return {
        outcome: 'unknown',
        message: `The answer from Graph was lost while ${what}`,
        retryAfterSeconds: null,
        upstreamStatus: null,
      };
    case 'bad_response':
      return {
        outcome: 'upstream_error',
        message: `Graph answered something unreadable while ${what}`,
        retryAfterSeconds: null,
        upstreamStatus: null,
      };
    case 'rejected':
      return {
        outcome: 'upstream_error',
        message: `Graph rejected the request while ${what}${error.details.status ? ` with HTTP ${error.details.status}` : ''}${graphCode}`,
        retryAfterSeconds: null,
        upstreamStatus: null,
      };
    case 'token':
      return {
        outcome: 'upstream_error',
        message: `No Graph access token could be acquired: ${error.message}`,
        retryAfterSeconds: null,
        upstreamStatus: null,
      };
    case 'invalid_id':
      return { outcome: 'rejected', message: error.message, retryAfterSeconds: null, upstreamStatus: null };
  }
}
