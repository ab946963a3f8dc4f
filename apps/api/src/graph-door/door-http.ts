import { type DoorAnswer, type DoorErrorCode, type DoorRequestIds, errorAnswer } from './door-answers';
import { DOOR_PREFIXES } from './door-routes';
import type { HttpReply, HttpRequest } from '../http/http';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** True for paths the Graph-compatible door answers (under /v1.0 and /beta): errors there are Graph-shaped. */
export function isDoorPath(path: string): boolean {
  return DOOR_PREFIXES.some((p) => path === `/${p}` || path.startsWith(`/${p}/`));
}

function requestIdOf(req: HttpRequest): string {
  return typeof req.id === 'string' ? req.id : '';
}

/** Graph echoes the caller's client-request-id; without one it repeats the request-id. */
export function doorIdsOf(req: HttpRequest): DoorRequestIds {
  const requestId = requestIdOf(req);
  const v = req.headers['client-request-id'];
  const clientRequestId = typeof v === 'string' && CLIENT_REQUEST_ID.test(v) ? v : requestId;
  return { requestId, clientRequestId, date: new Date() };
}

/** Writes an answer with Graph's headers: request-id, client-request-id (date is the server's own). */
export function sendDoorAnswer(req: HttpRequest, res: HttpReply, answer: DoorAnswer): void {
  const ids = doorIdsOf(req);
  void res.header('request-id', ids.requestId);
  void res.header('client-request-id', ids.clientRequestId);
  for (const [k, v] of Object.entries(answer.headers)) {
    void res.header(k, v);
  }
  void res.status(answer.status);
  if (answer.body === undefined) {
    void res.send();
  } else {
    void res.send(answer.body);
  }
}

/** An error found before the door's own code (token, body parsing) in Graph's envelope. */
export function sendDoorError(req: HttpRequest, res: HttpReply, status: number, message: string): void {
  const code: DoorErrorCode =
    status === 401
      ? 'InvalidAuthenticationToken'
      : status === 403
        ? 'Forbidden'
        : status >= 500
          ? 'InternalServerError'
          : 'BadRequest';
  if (status === 401) {
    void res.header('WWW-Authenticate', 'Bearer');
  }
  sendDoorAnswer(req, res, errorAnswer(code, message, doorIdsOf(req), { status }));
}
