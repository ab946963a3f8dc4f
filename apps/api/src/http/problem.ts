import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { isDoorPath, sendDoorError } from '../graph-door/door-http';

/** The one error shape of every response that is not an Attempt. */
export interface Problem {
  statusCode: number;
  error: string;
  message: string;
  requestId: string | null;
  /** A stable code for refusals that are not attempts (e.g. `APPROVAL_EXPIRED`), when there is one. */
  code?: string;
}

export function requestIdOf(req: Request): string | null {
  const id = (req as Request & { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}

export function sendProblem(
  req: Request,
  res: Response,
  statusCode: number,
  message: string,
  code?: string,
): void {
  // Under /v1.0 and /beta (the Graph-compatible door) every error is in Graph's envelope instead.
  if (isDoorPath(req.path)) {
    sendDoorError(req, res, statusCode, message);
    return;
  }
  const body: Problem = {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    requestId: requestIdOf(req),
    ...(code !== undefined ? { code } : {}),
  };
  if (statusCode === 401) {
    res.setHeader('WWW-Authenticate', 'Bearer');
  }
  // Always JSON, even on a route that declared another type for its success (GET /metrics: text/plain).
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.status(statusCode).json(body);
}
