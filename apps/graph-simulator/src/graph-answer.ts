import type * as http from 'node:http';
import type { FaultRule } from './faults';
import type { Answer } from './sim-http';

/** Graph's answers as it writes them: content type, diagnostic headers, error bodies. */

export const GRAPH_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const AGS_DIAGNOSTIC = JSON.stringify({
  ServerInfo: { DataCenter: 'Simulator', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'GRAPH-SIM' },
});

const DEFAULT_ERROR_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'UnknownError',
  403: 'Authorization_RequestDenied',
  404: 'Request_ResourceNotFound',
  405: 'Request_BadRequest',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

const DEFAULT_ERROR_MESSAGES: Record<number, string> = {
  401: '',
  403: 'Insufficient privileges to complete the operation.',
  409: 'The operation conflicts with the current state of the resource.',
  429: 'Too many requests. Please retry after the time given in the Retry-After header.',
  500: 'An internal server error occurred.',
  502: 'Bad gateway.',
  503: 'The service is temporarily unavailable. Please retry later.',
  504: 'The gateway timed out.',
};

/** The ids of one Graph request: ours (`request-id`) and the caller's (`client-request-id`), if it sent one. */
export interface RequestIds {
  requestId: string;
  clientRequestId: string | null;
}

function graphError(code: string, message: string, ids: RequestIds) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId ?? ids.requestId,
      },
    },
  };
}

/** Graph's error answer; code and message default to what Graph says for the status. */
export function errorAnswer(
  status: number,
  code: string | undefined,
  message: string | undefined,
  ids: RequestIds,
  retryAfter?: number | string,
): Answer {
  return {
    status,
    headers: retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {},
    body: graphError(
      code ?? DEFAULT_ERROR_CODES[status] ?? 'UnknownError',
      message ?? DEFAULT_ERROR_MESSAGES[status] ?? 'Error',
      ids,
    ),
  };
}

/** What a fault rule answers (500 unless it says otherwise). */
export function faultAnswer(fault: FaultRule, ids: RequestIds): Answer {
  return errorAnswer(fault.status ?? 500, fault.code, fault.message, ids, fault.retryAfter);
}

/** 429 TooManyRequests with Retry-After, as the throttle answers. */
export function throttledAnswer(retryAfter: number, ids: RequestIds): Answer {
  return errorAnswer(429, 'TooManyRequests', DEFAULT_ERROR_MESSAGES[429], ids, retryAfter);
}

/** Writes a Graph answer with Graph's headers. */
export function sendGraph(res: http.ServerResponse, answer: Answer, ids: RequestIds): void {
  const headers: Record<string, string> = {
    'request-id': ids.requestId,
    'client-request-id': ids.clientRequestId ?? ids.requestId,
    'x-ms-ags-diagnostic': AGS_DIAGNOSTIC,
    'Cache-Control': 'no-cache',
    ...answer.headers,
  };
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(answer.body);
  headers['Content-Type'] = GRAPH_JSON;
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}
