import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { DomainError, ErrorCode } from '@app/common';
import { isDoorPath, sendDoorError } from '../graph-door/door-http';
import { errorCodeForStatus, httpStatusForError } from './error-status';

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

export function requestIdOf(req: Request): string | null {
  const id = (req as Request & { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}

/**
 * Writes the problem body. `code` defaults to the generic code of the status (for refusals that happen before
 * our own code runs: body parsing, content type); everything else passes its DomainError's code.
 */
export function sendProblem(
  req: Request,
  res: Response,
  statusCode: number,
  message: string,
  code: ErrorCode = errorCodeForStatus(statusCode),
  details: Readonly<Record<string, unknown>> = {},
): void {
  // Under /v1.0 and /beta (the Graph-compatible door) every error is in Graph's envelope instead.
  if (isDoorPath(req.path)) {
    sendDoorError(req, res, statusCode, message);
    return;
  }
  const body: Problem = {
    ...details,
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    requestId: requestIdOf(req),
    code,
  };
  if (statusCode === 401) {
    res.setHeader('WWW-Authenticate', 'Bearer');
  }
  // Always JSON, even on a route that declared another type for its success (GET /metrics: text/plain).
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.status(statusCode).json(body);
}

/** A DomainError as the answer: status from the one table, Retry-After when it says how long to wait. */
export function sendDomainError(req: Request, res: Response, error: DomainError): void {
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) {
    res.setHeader('Retry-After', String(Math.max(0, Math.ceil(retryAfter))));
  }
  sendProblem(req, res, httpStatusForError(error.code), error.message, error.code, error.details);
}
