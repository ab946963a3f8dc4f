import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that counts the client's round trips: every simple `Query` ('Q') and
 * every extended-protocol `Sync` ('S') ends one exchange the client waits on. It also counts statements that
 * open a transaction (BEGIN / START TRANSACTION in a Query or Parse message), so round trips can be told
 * apart from commits. Only the client → server direction is parsed; bytes pass through unchanged.
 */
export interface PgCounts {
  roundTrips: number;
  queries: number;
  syncs: number;
  parses: number;
  begins: number;
  connections: number;
}

export interface PgProxy {
  port: number;
  counts(): PgCounts;
  reset(): void;
  close(): Promise<void>;
}

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;

export async function startPgProxy(targetHost: string, targetPort: number): Promise<PgProxy> {
  let c: PgCounts = { roundTrips: 0, queries: 0, syncs: 0, parses: 0, begins: 0, connections: 0 };
  const sockets = new Set<Socket>();

  const onClient = (client: Socket): void => {
    c.connections++;
    const upstream = connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    let buf: Buffer = Buffer.alloc(0);
    let startup = true;
    const parse = (): void => {
      for (;;) {
        if (startup) {
          // StartupMessage / SSLRequest: int32 length (itself included), no type byte.
          if (buf.length < 4) {
            return;
          }
          const len = buf.readInt32BE(0);
          if (buf.length < len) {
            return;
          }
          const code = len >= 8 ? buf.readInt32BE(4) : 0;
          buf = buf.subarray(len);
          // 80877103 = SSLRequest, 80877104 = GSSENCRequest: another startup packet follows.
          startup = code === 80877103 || code === 80877104;
          continue;
        }
        if (buf.length < 5) {
          return;
        }
        const type = String.fromCharCode(buf[0] ?? 0);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) {
          return;
        }
        const body = buf.subarray(5, 1 + len);
        if (type === 'Q') {
          c.queries++;
          c.roundTrips++;
          if (BEGIN.test(body.toString('utf8', 0, Math.min(body.length, 64)))) {
            c.begins++;
          }
        } else if (type === 'S') {
          c.syncs++;
          c.roundTrips++;
        } else if (type === 'P') {
          c.parses++;
          // Parse: statement name (cstring) then the query text.
          const nameEnd = body.indexOf(0);
          const text = body.toString('utf8', nameEnd + 1, Math.min(body.length, nameEnd + 65));
          if (BEGIN.test(text)) {
            c.begins++;
          }
        }
        buf = buf.subarray(1 + len);
      }
    };
    client.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      parse();
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  };

  const server: Server = createServer(onClient);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    counts: () => ({ ...c }),
    reset: () => {
      c = { roundTrips: 0, queries: 0, syncs: 0, parses: 0, begins: 0, connections: 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) {
          s.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
