import { STATUS_CODES } from 'node:http';
import type { DomainError, ErrorCode } from '@app/common';
import { isDoorPath, sendDoorError } from '../graph-door/door-http';
import { errorCodeForStatus, httpStatusForError } from './error-status';
import { type HttpReply, type HttpRequest, pathOf } from './http';

/** The one error shape of every response that is not an Attempt. */
export interface Problem {
  statusCode: number;
  error: string;
  message: string;
  requestId: string | null;
  /** The stable code of the error (`ErrorCode`), on every problem. */
  code: ErrorCode;
  /** A DomainError's details (e.g. `retryAfterSeconds`), when it has any. */
  [detail: string]: unknown;
}

export function requestIdOf(req: HttpRequest): string | null {
  return typeof req.id === 'string' ? req.id : null;
}

/** The problem body of a refusal (see `sendProblem`). */
export function problemOf(
  req: HttpRequest,
  statusCode: number,
  message: string,
  code: ErrorCode = errorCodeForStatus(statusCode),
  details: Readonly<Record<string, unknown>> = {},
): Problem {
  return {
    ...details,
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    requestId: requestIdOf(req),
    code,
  };
}

/**
 * Writes the problem body. `code` defaults to the generic code of the status (for refusals that happen before
 * our own code runs: body parsing, content type); everything else passes its DomainError's code.
 */
export function sendProblem(
  req: HttpRequest,
  res: HttpReply,
  statusCode: number,
  message: string,
  code: ErrorCode = errorCodeForStatus(statusCode),
  details: Readonly<Record<string, unknown>> = {},
): void {
  // Under /v1.0 and /beta (the Graph-compatible door) every error is in Graph's envelope instead.
  if (isDoorPath(pathOf(req))) {
    sendDoorError(req, res, statusCode, message);
    return;
  }
  const body = problemOf(req, statusCode, message, code, details);
  if (statusCode === 401) {
    void res.header('WWW-Authenticate', 'Bearer');
  }
  // Always JSON, even on a route that declared another type for its success (GET /metrics: text/plain).
  void res.header('Content-Type', 'application/json; charset=utf-8');
  void res.status(statusCode).send(body);
}

/** A DomainError as the answer: status from the one table, Retry-After when it says how long to wait. */
export function sendDomainError(req: HttpRequest, res: HttpReply, error: DomainError): void {
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) {
    void res.header('Retry-After', String(Math.max(0, Math.ceil(retryAfter))));
  }
  sendProblem(req, res, httpStatusForError(error.code), error.message, error.code, error.details);
}
