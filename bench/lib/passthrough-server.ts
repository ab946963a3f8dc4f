import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the two pass-throughs the benchmark sets beside the guard have in common: options, path, process. */

/** The guard's start route, the only path a pass-through serves. */
export const START_PATH = /^\/v1\/servicePrincipals\/([^/]+)\/synchronization\/jobs\/([^/]+)\/start$/;

export interface PassthroughOptions {
  port: number;
  graphBaseUrl: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  tlsCaCertificate?: string;
}

export interface RunningPassthrough {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` with long keep-alive; `close` runs `release` then ends every connection. */
export async function listen(server: Server, port: number, release: () => void): Promise<RunningPassthrough> {
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is required`);
  }
  return v;
}

/**
 * Runs a pass-through as its own process, configured from the environment (PORT, GRAPH_BASE_URL,
 * AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, SIM_CA_FILE): prints
 * `<name> listening on <port>` once listening; SIGTERM closes it.
 */
export function runAsProcess(
  name: string,
  start: (opts: PassthroughOptions) => Promise<RunningPassthrough>,
): void {
  const main = async (): Promise<void> => {
    const caFile = process.env.SIM_CA_FILE;
    const p = await start({
      port: Number(process.env.PORT ?? '0'),
      graphBaseUrl: env('GRAPH_BASE_URL'),
      authorityHost: env('AZURE_AUTHORITY_HOST'),
      tenantId: env('AZURE_TENANT_ID'),
      clientId: env('AZURE_CLIENT_ID'),
      clientSecret: env('AZURE_CLIENT_SECRET'),
      ...(caFile ? { tlsCaCertificate: readFileSync(caFile, 'utf8') } : {}),
    });
    process.stdout.write(`${name} listening on ${p.port}\n`);
    process.once('SIGTERM', () => {
      void p.close().then(() => process.exit(0));
    });
  };
  main().catch((error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
