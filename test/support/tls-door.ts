import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import { createSelfSignedCertificate } from '../../apps/graph-simulator/src';
import type { TestApp } from './harness';

/**
 * The app's own request handler served over TLS, as production would be (Graph SDKs send their token only to
 * https hosts). The certificate is the simulator's throwaway self-signed one; `dispatcher` makes Node's fetch
 * trust it. Every request received is recorded ("METHOD /path").
 */
export interface TlsDoor {
  origin: string;
  ca: string;
  dispatcher: Agent;
  received: string[];
  close(): Promise<void>;
}

export async function serveOverTls(app: TestApp): Promise<TlsDoor> {
  const cert = createSelfSignedCertificate(['127.0.0.1']);
  const instance = app.app.getHttpAdapter().getInstance() as FastifyInstance;
  const server: Server = createServer({ cert: cert.cert, key: cert.key }, (req, res) =>
    instance.routing(req, res),
  );
  const received: string[] = [];
  server.on('request', (req: { method?: string; url?: string }) => {
    received.push(`${req.method ?? ''} ${req.url ?? ''}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dispatcher = new Agent({ connect: { ca: cert.cert } });
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ca: cert.cert,
    dispatcher,
    received,
    close: async () => {
      await dispatcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
