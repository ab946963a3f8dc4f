import { GraphError, type BatchItemResult, type JobRef, type SyncJob } from './graph-client';
import { mapGraphError, type GraphOperation } from './graph-errors';
import { normaliseJob } from './status';

/** Graph's answers read into results or GraphErrors, with the request ids of the exchanges that produced them. */

/** One HTTP answer from Graph, body parsed when it is JSON. */
export interface Exchange {
  status: number;
  body: unknown;
  text: string;
  retryAfter: string | null;
  requestId: string | null;
}

/** A header by case-insensitive name (first value of a list); null when absent. */
export function header(headers: unknown, name: string): string | null {
  if (typeof headers !== 'object' || headers === null) {
    return null;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) {
      continue;
    }
    if (typeof value === 'string') {
      return value;
    }
    if (typeof value === 'number') {
      return String(value);
    }
    if (Array.isArray(value) && typeof value[0] === 'string') {
      return value[0];
    }
  }
  return null;
}

export function refKey(ref: JobRef): string {
  return `${ref.servicePrincipalId}/${ref.jobId}`;
}

/** Any failure as a GraphError carrying the request ids (an unexpected one becomes bad_response). */
export function asGraphError(error: unknown, requestIds: string[]): GraphError {
  if (error instanceof GraphError) {
    return error.details.requestIds === undefined
      ? new GraphError(error.kind, error.message, { ...error.details, requestIds })
      : error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new GraphError('bad_response', `Unexpected failure talking to Graph: ${message}`, {
    requestIds,
    cause: error,
  });
}

/** The GraphError for an answer that is not a success (or a success whose body cannot be read). */
export function httpError(operation: GraphOperation, res: Exchange, requestIds: string[]): GraphError {
  if (res.status >= 200 && res.status < 300) {
    return new GraphError('bad_response', 'Graph answered a body we cannot read', {
      status: res.status,
      requestIds,
    });
  }
  // requestIds already holds this exchange's request-id.
  return mapGraphError(
    operation,
    { status: res.status, body: res.body, retryAfter: res.retryAfter },
    requestIds,
  );
}

/** Runs `fn`; a failure is rethrown as a GraphError with the request ids (and the HTTP status, if given). */
export function withIds<T>(fn: () => T, requestIds: string[], status?: number): T {
  try {
    return fn();
  } catch (error) {
    const e = asGraphError(error, requestIds);
    throw status === undefined ? e : new GraphError(e.kind, e.message, { ...e.details, status });
  }
}

export function parseJob(res: Exchange, requestIds: string[]): SyncJob {
  return withIds(() => normaliseJob(res.body), requestIds, res.status);
}

/** One `$batch` sub-response read into the job or its error, mapped as a direct getJob would be. */
export function batchItem(
  ref: JobRef,
  item: Record<string, unknown> | undefined,
  requestIds: string[],
): BatchItemResult {
  if (item === undefined) {
    return {
      ref,
      ok: false,
      error: new GraphError('bad_response', `Graph's $batch answer has no response for ${refKey(ref)}`, {
        requestIds,
      }),
    };
  }
  const status = typeof item.status === 'number' ? item.status : Number(item.status);
  const requestId = header(item.headers, 'request-id');
  if (status >= 200 && status < 300) {
    try {
      return { ref, ok: true, job: normaliseJob(item.body), requestId };
    } catch (error) {
      return { ref, ok: false, error: asGraphError(error, requestIds) };
    }
  }
  if (!Number.isInteger(status)) {
    return {
      ref,
      ok: false,
      error: new GraphError('bad_response', `Graph's $batch response for ${refKey(ref)} has no status`),
    };
  }
  return {
    ref,
    ok: false,
    error: mapGraphError(
      'getJob',
      { status, body: item.body, retryAfter: header(item.headers, 'retry-after'), requestId },
      [...requestIds],
    ),
  };
}
