import type { Request, Response } from 'express';
import { type DoorAnswer, type DoorErrorCode, type DoorRequestIds, errorAnswer } from './door-answers';
import { DOOR_PREFIXES } from './door-routes';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** True for paths the Graph-compatible door answers (under /v1.0 and /beta): errors there are Graph-shaped. */
export function isDoorPath(path: string): boolean {
  return DOOR_PREFIXES.some((p) => path === `/${p}` || path.startsWith(`/${p}/`));
}

function requestIdOf(req: Request): string {
  const id = (req as Request & { id?: unknown }).id;
  return typeof id === 'string' ? id : '';
}

/** Graph echoes the caller's client-request-id; without one it repeats the request-id. */
export function doorIdsOf(req: Request): DoorRequestIds {
  const requestId = requestIdOf(req);
  const v = req.headers['client-request-id'];
  const clientRequestId = typeof v === 'string' && CLIENT_REQUEST_ID.test(v) ? v : requestId;
  return { requestId, clientRequestId, date: new Date() };
}

/** Writes an answer with Graph's headers: request-id, client-request-id (date is the server's own). */
export function sendDoorAnswer(req: Request, res: Response, answer: DoorAnswer): void {
  const ids = doorIdsOf(req);
  res.setHeader('request-id', ids.requestId);
  res.setHeader('client-request-id', ids.clientRequestId);
  for (const [k, v] of Object.entries(answer.headers)) {
    res.setHeader(k, v);
  }
  res.status(answer.status);
  if (answer.body === undefined) {
    res.end();
  } else {
    res.json(answer.body);
  }
}

/** An error found before the door's own code (token, body parsing) in Graph's envelope. */
export function sendDoorError(req: Request, res: Response, status: number, message: string): void {
  const code: DoorErrorCode =
    status === 401
      ? 'InvalidAuthenticationToken'
      : status === 403
        ? 'Forbidden'
        : status >= 500
          ? 'InternalServerError'
          : 'BadRequest';
  if (status === 401) {
    res.setHeader('WWW-Authenticate', 'Bearer');
  }
  sendDoorAnswer(req, res, errorAnswer(code, message, doorIdsOf(req), { status }));
}
