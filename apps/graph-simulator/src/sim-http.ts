import type * as http from 'node:http';
import type { RequestLogEntry } from './request-log';
import type { SimulatorState } from './state';

/** What a Graph route answers, before it is written (also the shape of a `$batch` sub-response). */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A body that is not JSON: a symbol, so that `undefined` still means "no body". */
export const INVALID_JSON = Symbol.for('invalid-json');

const BODY_LIMIT = 4 * 1024 * 1024;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** undefined for an empty body, INVALID_JSON for one that does not parse. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return INVALID_JSON;
  }
}

/** Writes a JSON answer (the token endpoint's, the admin API's and the simulator's own). */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(payload)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(payload);
}

/** Adds one entry to the request log, stamped now. */
export function logRequest(state: SimulatorState, entry: Omit<RequestLogEntry, 'at'>): void {
  state.record({ at: new Date().toISOString(), ...entry });
}
