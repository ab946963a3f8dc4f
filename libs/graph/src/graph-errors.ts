import { isRecord } from '@app/common';
import { GraphError } from './graph-client';

/** The Graph calls this library makes; used for error mapping, logs and metrics. */
export type GraphOperation = 'getJob' | 'listJobs' | 'startJob' | 'pauseJob' | 'restartJob' | 'batch';

/** Start, pause and restart change state in Graph: never retried blindly, and they need the write permission. */
export function isWriteOperation(operation: GraphOperation): boolean {
  return operation === 'startJob' || operation === 'pauseJob' || operation === 'restartJob';
}

/** The least application permission that always works for the operation (see reference/graph-sync.md §1). */
export function requiredPermissionFor(operation: GraphOperation): string {
  return isWriteOperation(operation) ? 'Synchronization.ReadWrite.All' : 'Synchronization.Read.All';
}

/** Graph answered with an HTTP status. */
export interface GraphHttpFailure {
  status: number;
  /** Parsed JSON body when there was one (Graph's `{ error: { code, message, innerError } }`). */
  body?: unknown;
  /** The raw `Retry-After` value. */
  retryAfter?: string | null;
  /** The `request-id` response header. */
  requestId?: string | null;
}

/** No HTTP answer: connection refused or reset, timed out, ... */
export interface GraphTransportFailure {
  transport: true;
  /** Node error code: ECONNREFUSED, ECONNRESET, ETIMEDOUT, ECONNECT_TIMEOUT, ... */
  code?: string;
  message: string;
  /** Whether the whole request had been handed to the network: Graph may have received and acted on it. */
  requestSent: boolean;
  /** Our own timeout fired (connect or total). */
  timedOut: boolean;
}

export type GraphFailure = GraphHttpFailure | GraphTransportFailure;

/** Error codes that prove the request never left: nothing can have been acted on. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);

const MAX_DATE_RETRY_AFTER_SECONDS = 24 * 3600;

/**
 * `Retry-After` as seconds: delta-seconds, possibly fractional (`2.128`), or an HTTP date.
 * Returns undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    return undefined;
  }
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    return Number(trimmed);
  }
  // An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT") has a day or month name; "-5" is no date.
  if (!/[a-z]{3}/i.test(trimmed)) {
    return undefined;
  }
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) {
    return undefined;
  }
  return Math.min(MAX_DATE_RETRY_AFTER_SECONDS, Math.max(0, (date - now) / 1000));
}

/** Reads Graph's OData error body. */
export function readGraphErrorBody(body: unknown): { code?: string; message?: string; requestId?: string } {
  if (!isRecord(body) || !isRecord(body.error)) {
    return {};
  }
  const err = body.error;
  const out: { code?: string; message?: string; requestId?: string } = {};
  if (typeof err.code === 'string' && err.code !== '') {
    out.code = err.code;
  }
  if (typeof err.message === 'string' && err.message !== '') {
    out.message = err.message;
  }
  const inner = isRecord(err.innerError) ? err.innerError : isRecord(err.innererror) ? err.innererror : null;
  if (inner && typeof inner['request-id'] === 'string') {
    out.requestId = inner['request-id'];
  }
  return out;
}

const OPERATION_TEXT: Record<GraphOperation, string> = {
  getJob: 'reading the job',
  listJobs: 'listing the jobs',
  startJob: 'starting the job',
  pauseJob: 'pausing the job',
  restartJob: 'restarting the job',
  batch: 'reading jobs in a $batch',
};

/** No HTTP answer: lost (a write that may have been acted on), timed out, or Graph unreachable. */
function mapTransportFailure(
  operation: GraphOperation,
  failure: GraphTransportFailure,
  requestIds: string[],
): GraphError {
  const what = OPERATION_TEXT[operation];
  const base = { requestIds, ...(failure.code ? { code: failure.code } : {}) };
  const sent = failure.requestSent && !(failure.code !== undefined && NOT_SENT_CODES.has(failure.code));
  if (isWriteOperation(operation) && sent) {
    // The request was written and no answer came back: Graph may have acted on it.
    return new GraphError(
      'lost',
      `The answer from Graph was lost while ${what} (${failure.code ?? 'no code'}: ${failure.message}); it may have been acted on`,
      base,
    );
  }
  // notActedOn stays unset: it is reserved for Graph's own proof (429, 503 + Retry-After).
  const detail = sent ? base : { ...base, notSent: true };
  if (failure.timedOut || failure.code === 'ECONNECT_TIMEOUT') {
    return new GraphError('timeout', `Graph did not answer in time while ${what}`, detail);
  }
  return new GraphError(
    'unavailable',
    `Could not reach Graph while ${what} (${failure.code ?? 'no code'}: ${failure.message})`,
    detail,
  );
}

/** Graph answered with an error status: the kind follows the status (and Graph's code for 401). */
function mapHttpFailure(
  operation: GraphOperation,
  failure: GraphHttpFailure,
  requestIds: string[],
): GraphError {
  const what = OPERATION_TEXT[operation];
  const { status } = failure;
  const parsed = readGraphErrorBody(failure.body);
  const requestId = failure.requestId ?? parsed.requestId;
  const ids = requestId && !requestIds.includes(requestId) ? [...requestIds, requestId] : requestIds;
  const retryAfterSeconds = parseRetryAfter(failure.retryAfter);
  const graphSaid = `${status}${parsed.code ? ` ${parsed.code}` : ''}${parsed.message ? `: ${parsed.message}` : ''}`;
  const details = {
    status,
    requestIds: ids,
    ...(parsed.code ? { code: parsed.code } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };

  if (status === 404) {
    return new GraphError('not_found', `Graph found no such job while ${what} (${graphSaid})`, details);
  }
  if (status === 401 && parsed.code === 'InvalidAuthenticationToken') {
    return new GraphError('token', `Graph refused our access token while ${what} (${graphSaid})`, {
      ...details,
      notActedOn: true,
    });
  }
  if (status === 401 || status === 403) {
    // Graph answers `401 {"code":"UnknownError","message":""}` on sync endpoints when a permission is missing.
    const requiredPermission = requiredPermissionFor(operation);
    return new GraphError(
      'forbidden',
      `Graph refused our identity while ${what} (${graphSaid}); it needs the application permission ${requiredPermission} (or Application.ReadWrite.OwnedBy as an owner of the service principal)`,
      { ...details, requiredPermission },
    );
  }
  if (status === 429) {
    return new GraphError('throttled', `Graph throttled us while ${what} (${graphSaid})`, {
      ...details,
      notActedOn: true,
    });
  }
  if (status === 504) {
    return new GraphError('timeout', `Graph timed out while ${what} (${graphSaid})`, details);
  }
  if (status >= 500) {
    return new GraphError('unavailable', `Graph failed while ${what} (${graphSaid})`, {
      ...details,
      ...(status === 503 && retryAfterSeconds !== undefined ? { notActedOn: true } : {}),
    });
  }
  if (status >= 400) {
    return new GraphError('rejected', `Graph rejected the request while ${what} (${graphSaid})`, details);
  }
  return new GraphError(
    'bad_response',
    `Graph answered an unexpected status while ${what} (${graphSaid})`,
    details,
  );
}

/**
 * The one place where Graph's answers (or their absence) become a GraphError.
 * Used for direct calls and for each `$batch` sub-response alike.
 */
export function mapGraphError(
  operation: GraphOperation,
  failure: GraphFailure,
  requestIds: string[] = [],
): GraphError {
  return 'transport' in failure
    ? mapTransportFailure(operation, failure, requestIds)
    : mapHttpFailure(operation, failure, requestIds);
}
