import { type IncomingHttpHeaders, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the receiver does with one request: answer with a status, or hold it open until released. */
export type ReceiverMode = number | 'hang';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on loopback for notification tests: records every request and answers as told. */
export interface Receiver {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Answers of the next requests, in order; then `fallback`. */
  script: ReceiverMode[];
  fallback: ReceiverMode;
  /** Requests being held open ('hang'). */
  readonly held: number;
  /** Answers every held request with this status (or destroys their sockets). */
  release(status: number | 'destroy'): void;
  close(): Promise<void>;
  /** Listens again on the same port after `close()` (a receiver back from an outage). */
  reopen(): Promise<void>;
}

export async function startReceiver(fallback: ReceiverMode = 204, port = 0): Promise<Receiver> {
  const held: ServerResponse[] = [];
  const state = { received: [] as ReceivedRequest[], script: [] as ReceiverMode[], fallback };
  const make = (): Server =>
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        state.received.push({
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const mode = state.script.shift() ?? state.fallback;
        if (mode === 'hang') {
          held.push(res);
          return;
        }
        res.statusCode = mode;
        res.end(mode >= 400 ? `receiver says ${mode}` : '');
      });
    });
  let server = make();
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const actualPort = await listen(port);
  const close = () =>
    new Promise<void>((resolve) => {
      for (const res of held.splice(0)) {
        res.destroy();
      }
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${actualPort}/hook`,
    port: actualPort,
    get received() {
      return state.received;
    },
    get script() {
      return state.script;
    },
    set script(s: ReceiverMode[]) {
      state.script = s;
    },
    get fallback() {
      return state.fallback;
    },
    set fallback(m: ReceiverMode) {
      state.fallback = m;
    },
    get held() {
      return held.length;
    },
    release(status) {
      for (const res of held.splice(0)) {
        if (status === 'destroy') {
          res.destroy();
        } else {
          res.statusCode = status;
          res.end();
        }
      }
    },
    close,
    async reopen() {
      server = make();
      await listen(actualPort);
    },
  };
}
