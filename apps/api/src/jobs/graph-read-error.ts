import { DomainError, ErrorCode } from '@app/common';
import { GraphError } from '@app/graph';
import { graphFailure } from './guard-policy';

/** The code of a failed Graph read, by the outcome the guard would give it (and Graph's own 503/504). */
function codeOf(outcome: string, upstreamStatus: number | null): ErrorCode {
  switch (outcome) {
    case 'not_found':
      return ErrorCode.JOB_NOT_FOUND;
    case 'rate_limited':
      return ErrorCode.GRAPH_THROTTLED;
    case 'forbidden':
      return ErrorCode.GRAPH_FORBIDDEN;
    case 'rejected':
      return ErrorCode.INVALID_INPUT;
    default:
      return upstreamStatus === 503
        ? ErrorCode.GRAPH_UNAVAILABLE
        : upstreamStatus === 504
          ? ErrorCode.GRAPH_TIMEOUT
          : ErrorCode.GRAPH_ERROR;
  }
}

/**
 * A Graph failure on a read that is not an attempt (job views, watching a job) as a DomainError carrying the
 * guard's one-sentence message and, when Graph asked us to wait, `retryAfterSeconds` (sent as Retry-After).
 * Anything that is not a GraphError is returned as it is.
 */
export function graphReadError(error: unknown): unknown {
  if (!(error instanceof GraphError)) {
    return error;
  }
  const f = graphFailure(error, 'read');
  return new DomainError(codeOf(f.outcome, f.upstreamStatus), f.message, {
    cause: error,
    ...(f.retryAfterSeconds !== null ? { details: { retryAfterSeconds: f.retryAfterSeconds } } : {}),
  });
}

/** Runs a Graph read; its failure becomes the DomainError above. */
export async function readFromGraph<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw graphReadError(error);
  }
}
