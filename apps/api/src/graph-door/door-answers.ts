import type { AttemptView, Outcome } from '@app/common';
import type { ClaimRefusal } from '@app/persistence';
import { GraphError } from '@app/graph';
import { graphFailure } from '../jobs/guard-policy';

/**
 * The Graph-compatible door's answers (DESIGN section 2b): Graph's shapes, our decisions. Pure: no I/O.
 *
 * Every refusal of the guard is an error with a stable `code` and a status that no Graph SDK's default retry
 * handler retries (they retry 429, 503 and 504): a script learns about a cool-down at once. 429 is answered only
 * when Graph itself throttled, 503/504 only when Graph itself said so.
 */
export const DOOR_ERRORS = {
  /** The job is neither paused nor in quarantine (outcome `skipped`); the message names its status. */
  JobNotStartable: 409,
  /** The job was started recently and is in its cool-down (outcome `rate_limited`); Retry-After says how long. */
  JobInCooldown: 409,
  /** Another request for the same job is being decided right now (outcome `rate_limited`). */
  JobStartInProgress: 409,
  /** The per-job request limit is used up (outcome `rate_limited`); Retry-After says when it frees. */
  JobRateLimited: 409,
  /** A hold applies to the job (outcome `held`). */
  JobOnHold: 423,
  /** The operation needs a second person's approval (outcome `awaiting_approval`); the message says how. */
  ApprovalRequired: 409,
  /** The caller lacks the role, or a grant for the service principal (outcome `denied`). */
  Forbidden: 403,
  /** Malformed ids, body, query or $batch (outcome `rejected` when it was an attempt). */
  BadRequest: 400,
  /** Graph has no such job or service principal. */
  Request_ResourceNotFound: 404,
  /** Graph refused this service's own identity (outcome `forbidden`): a permission or ownership is missing. */
  GuardIdentityForbidden: 502,
  /** Graph failed (outcome `upstream_error`); 503 and 504 are passed through with Graph's Retry-After. */
  UpstreamError: 502,
  /** The answer to the start was lost and a re-read could not settle it (outcome `unknown`). */
  StartOutcomeUnknown: 502,
  /** Graph itself throttled us: Graph's own 429 with its Retry-After. */
  TooManyRequests: 429,
  /** Graph said 503 (passed through, with its Retry-After). */
  ServiceUnavailable: 503,
  /** Graph said 504, or did not answer in time. */
  GatewayTimeout: 504,
  /** No or bad bearer token. */
  InvalidAuthenticationToken: 401,
  /** The audit store is unreachable: nothing was sent to Graph. */
  AuditStoreUnavailable: 503,
  /** A path or method under /v1.0 or /beta that the guard does not serve (it is not forwarded to Graph). */
  NotSupportedByGuard: 400,
  /** A $batch item whose dependency (dependsOn) failed. */
  FailedDependency: 424,
  /** An unexpected failure of the guard itself. */
  InternalServerError: 500,
} as const;
export type DoorErrorCode = keyof typeof DOOR_ERRORS;

/** One answer of the door, top-level or inside a $batch. */
export interface DoorAnswer {
  status: number;
  headers: Record<string, string>;
  /** undefined: no body (204). */
  body?: unknown;
}

/** Graph's `innerError` ids of one request. */
export interface DoorRequestIds {
  requestId: string;
  clientRequestId: string;
  date: Date;
}

export const ATTEMPT_HEADER = 'sjg-attempt-id';

/** Graph's error envelope. `date` is written as Graph does: ISO 8601 without milliseconds. */
export function graphErrorBody(code: string, message: string, ids: DoorRequestIds, attemptId?: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: ids.date.toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
        ...(attemptId ? { [ATTEMPT_HEADER]: attemptId } : {}),
      },
    },
  };
}

export function errorAnswer(
  code: DoorErrorCode,
  message: string,
  ids: DoorRequestIds,
  opts: { status?: number; retryAfterSeconds?: number | null; attemptId?: string; graphCode?: string } = {},
): DoorAnswer {
  const headers: Record<string, string> = {};
  if (opts.retryAfterSeconds !== undefined && opts.retryAfterSeconds !== null) {
    headers['Retry-After'] = String(opts.retryAfterSeconds);
  }
  if (opts.attemptId) {
    headers[ATTEMPT_HEADER] = opts.attemptId;
  }
  return {
    status: opts.status ?? DOOR_ERRORS[code],
    headers,
    body: graphErrorBody(opts.graphCode ?? code, message, ids, opts.attemptId),
  };
}

/** A decision of the guard (start, pause, restart) as the door answers it. */
export interface DoorDecision {
  attempt: AttemptView;
  upstreamStatus: number | null;
  refusal?: ClaimRefusal;
}

const REFUSAL_CODES: Record<ClaimRefusal, DoorErrorCode> = {
  grant: 'Forbidden',
  hold: 'JobOnHold',
  cooldown: 'JobInCooldown',
  in_flight: 'JobStartInProgress',
  limit: 'JobRateLimited',
};

/** The code and status of an outcome. Exhaustive on purpose: a new outcome must be mapped here. */
function outcomeCode(
  outcome: Outcome | 'pending',
  decision: DoorDecision,
): { code: DoorErrorCode; status?: number } | null {
  switch (outcome) {
    case 'started':
    case 'paused':
    case 'restarted':
      return null;
    case 'held':
      return { code: 'JobOnHold' };
    case 'awaiting_approval':
      // Not done until another Admin approves: never a 2xx.
      return { code: 'ApprovalRequired' };
    case 'dry_run':
      // The door never asks for a dry run; answering one as a success would claim something was done.
      return { code: 'BadRequest' };
    case 'skipped':
      return { code: 'JobNotStartable' };
    case 'rate_limited':
      // Refused by our claim (cool-down, in flight, limit): 409, never 429. Otherwise Graph itself throttled.
      return decision.refusal ? { code: REFUSAL_CODES[decision.refusal] } : { code: 'TooManyRequests' };
    case 'not_found':
      return { code: 'Request_ResourceNotFound' };
    case 'denied':
      return { code: 'Forbidden' };
    case 'forbidden':
      return { code: 'GuardIdentityForbidden' };
    case 'rejected':
      return { code: 'BadRequest' };
    case 'upstream_error':
      if (decision.upstreamStatus === 503) {
        return { code: 'ServiceUnavailable' };
      }
      if (decision.upstreamStatus === 504) {
        return { code: 'GatewayTimeout' };
      }
      return { code: 'UpstreamError' };
    case 'unknown':
    case 'pending':
      return { code: 'StartOutcomeUnknown' };
  }
}

/** 204 with no body when the operation was done; otherwise Graph's error with the attempt's own message. */
export function decisionAnswer(decision: DoorDecision, ids: DoorRequestIds): DoorAnswer {
  const { attempt } = decision;
  const mapped = outcomeCode(attempt.outcome, decision);
  if (mapped === null) {
    return { status: 204, headers: { [ATTEMPT_HEADER]: attempt.attemptId } };
  }
  const approval =
    attempt.outcome === 'awaiting_approval' && attempt.approvalId
      ? ` Approval ${attempt.approvalId}: another JobControl.Admin approves with POST /v1/approvals/${attempt.approvalId}/approve.`
      : '';
  return errorAnswer(mapped.code, `${attempt.message ?? attempt.outcome}${approval}`, ids, {
    ...(mapped.status !== undefined ? { status: mapped.status } : {}),
    retryAfterSeconds:
      attempt.outcome === 'rate_limited' || attempt.outcome === 'upstream_error'
        ? attempt.retryAfterSeconds
        : null,
    attemptId: attempt.attemptId,
  });
}

/**
 * A Graph failure on a read (list, get), passed through: Graph's status where Graph gave one (404, 429 with
 * Retry-After, 503, 504, other 4xx) and Graph's code, with the same one-sentence message as /v1.
 */
export function readErrorAnswer(error: GraphError, ids: DoorRequestIds): DoorAnswer {
  const f = graphFailure(error, 'read');
  const graphCode = error.details.code;
  const status = error.details.status;
  const retry = { retryAfterSeconds: f.retryAfterSeconds };
  switch (error.kind) {
    case 'not_found':
      return errorAnswer('Request_ResourceNotFound', f.message, ids, {
        ...(graphCode ? { graphCode } : {}),
      });
    case 'throttled':
      return errorAnswer('TooManyRequests', f.message, ids, {
        ...retry,
        ...(graphCode ? { graphCode } : {}),
      });
    case 'forbidden':
      return errorAnswer('GuardIdentityForbidden', f.message, ids);
    case 'unavailable':
      return status === 503
        ? errorAnswer('ServiceUnavailable', f.message, ids, { ...retry, ...(graphCode ? { graphCode } : {}) })
        : errorAnswer('UpstreamError', f.message, ids);
    case 'timeout':
      return errorAnswer('GatewayTimeout', f.message, ids);
    case 'rejected':
      return errorAnswer('UpstreamError', f.message, ids, {
        ...(status !== undefined && status >= 400 && status < 500 ? { status } : {}),
        ...(graphCode ? { graphCode } : {}),
      });
    case 'invalid_id':
      return errorAnswer('BadRequest', f.message, ids);
    case 'lost':
    case 'bad_response':
    case 'token':
      return errorAnswer('UpstreamError', f.message, ids);
  }
}
