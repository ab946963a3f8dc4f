import type { ObservedStatus, Outcome } from '@app/common';
import type { GraphError, SyncJob } from '@app/graph';

/** Pure decisions of the guard (DESIGN section 3, steps 6-8): no I/O here. */

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

export function dryRunMessage(job: SyncJob): string {
  return isStartable(job.observedStatus)
    ? `Dry run: job is ${describeStatus(job)}, so a start would be sent`
    : `Dry run: job is ${describeStatus(job)}, so no start would be sent`;
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
