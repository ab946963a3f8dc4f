import type { ObservedStatus, Outcome } from '@app/common';
import type { GraphError, SyncJob } from '@app/graph';
import type { ClaimWording } from '@app/persistence';

/**
 * Pure decisions of the guard (DESIGN section 3, steps 6-8) and the wording of every answer it gives: why a
 * request was refused at the claim, skipped, held for approval, or what happened to what was sent. No I/O here.
 */

/**
 * Refusals at the claim (grants, holds, cool-down, a decision in flight, the per-job limit). The claim statement
 * decides which applies and fills in each `{fact}` (CLAIM_FACTS of the guard repository) in the same round trip
 * that writes the refused row.
 */
export const CLAIM_WORDING: ClaimWording = {
  grantNarrowed:
    'Caller {caller} is narrowed by grants to other service principals, not {servicePrincipalId}',
  grantRequired:
    'Caller {caller} has no grant for service principal {servicePrincipalId} (REQUIRE_GRANTS is on)',
  hold: 'Job is on hold: {holdReason} (placed by {holdPlacedBy} at {holdPlacedAt}, until {holdUntil})',
  holdUntilReleased:
    'Job is on hold: {holdReason} (placed by {holdPlacedBy} at {holdPlacedAt}, until released)',
  cooldown:
    'Job was started recently; it is in its {cooldownSeconds} s cool-down for {secondsLeft} more seconds, while Graph may still report the old status',
  inFlight: 'Another request for this job is being decided right now; try again shortly',
  limit: 'Rate limit reached: at most {limit} requests per {windowSeconds} s for this job',
};

/** The claim could not be written: nothing was sent (503). */
export const AUDIT_UNAVAILABLE_BEFORE =
  'The audit store is unavailable, so nothing was sent to Graph; try again later';

/** The decision was made but its row could not be finalised (503); the reconciler settles it later. */
export function auditLostAfter(outcome: Outcome, startSent: boolean, attemptId: string): string {
  const sent = startSent
    ? 'a start was sent to Graph (it may have taken effect, so the cool-down applies)'
    : 'no start was sent to Graph';
  return `The decision was made (${outcome}; ${sent}) but the audit store became unavailable before it was recorded; attempt ${attemptId} will be settled when it is back`;
}

export function unexpectedFailure(startSent: boolean): string {
  return startSent
    ? 'The guard failed unexpectedly after a start was sent to Graph; the start may have taken effect, so the cool-down applies'
    : 'The guard failed unexpectedly before any start was sent to Graph; the job was not started by this attempt';
}

export function awaitingApproval(why: string, approvalId: string, expiresAt: string): string {
  return `${why}. Approval ${approvalId} waits for another Admin until ${expiresAt}; nothing was sent to Graph`;
}

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

/** A dry run of a start: whether it would be sent, and if not why (status, the caller's policy, a second person). */
export function dryRunMessage(job: SyncJob, verdict: StartVerdict): string {
  if (verdict.allowed) {
    return `Dry run: job is ${describeStatus(job)}, so a start would be sent`;
  }
  const refusal = verdict.approvalWhy
    ? `${verdict.approvalWhy}; it is sent once another Admin approves it`
    : verdict.message;
  return `Dry run: job is ${describeStatus(job)}, so no start would be sent: ${refusal}`;
}

export function startedMessage(job: SyncJob): string {
  return job.observedStatus === 'quarantine'
    ? `Start sent: job was in quarantine${job.quarantine?.reason ? ` (${job.quarantine.reason})` : ''}; Graph accepted the start and clears the quarantine`
    : 'Start sent: job was paused; Graph accepted the start and the job resumes from where it paused';
}

/** What the guard says about a start (or restart) that it did not send, or whose fate it could not settle. */
export const say = {
  budgetUsedUp: (what: 'start' | 'restart') =>
    `The guard's Graph time budget was used up before the ${what} could be sent; the ${what} was not sent to Graph`,
  notSent: (failure: string) => `${failure}; the start was not sent to Graph`,
  changedWhileWaiting: (refusal: string) =>
    `While the start waited for Graph's Retry-After the job changed: ${refusal}; not sent again`,
  startUnsettled: (failure: string) =>
    `${failure}, and the status could not be re-read; the start may or may not have taken effect`,
  startTookEffect: (failure: string, after: SyncJob) =>
    `${failure}, but the job now reads ${describeStatus(after)}: the start took effect`,
  startStillReads: (failure: string, after: SyncJob) =>
    `${failure} and the job still reads ${describeStatus(after)}; not sent again, to avoid starting a running job`,
  // ---- pause and restart (DESIGN 2c)
  pauseDryRun: (job: SyncJob) => `Dry run: job is ${describeStatus(job)}, so a pause would be sent`,
  paused: (job: SyncJob, holdId: string | null) =>
    `Pause sent: job was ${describeStatus(job)}; Graph accepted the pause${heldAfterPause(holdId)}`,
  pauseLostButPaused: (failure: string, holdId: string | null) =>
    `${failure}, but the job now reads paused${heldAfterPause(holdId)}`,
  pauseUnsettled: (failure: string) => `${failure}; the pause may or may not have taken effect`,
  notRestartable: (job: SyncJob) =>
    `Job is ${describeStatus(job)}; restart is only allowed when paused, in quarantine or active`,
  restartDryRun: (job: SyncJob, what: string, approvalWhy: string | null) =>
    `Dry run: job is ${describeStatus(job)}, so a ${what} would be sent${approvalWhy ? `, once another Admin approves it. ${approvalWhy}` : ''}`,
  restarted: (job: SyncJob, what: string) =>
    `Restart sent: job was ${describeStatus(job)}; Graph accepted the ${what}`,
  restartUnsettled: (failure: string) =>
    `${failure}; the restart may have taken effect and is not sent again`,
};

function heldAfterPause(holdId: string | null): string {
  return holdId ? `; hold ${holdId} keeps it from being started or restarted` : '';
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
