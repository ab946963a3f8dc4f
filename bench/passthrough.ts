import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AxiosGraphClient, GraphError, createGraphCredential } from '@app/graph';

/**
 * The bare pass-through the benchmark sets beside the guard: for each
 * POST /v1/servicePrincipals/{sp}/synchronization/jobs/{job}/start it makes the same Graph calls as the guard
 * (GET the job; POST start when paused or in quarantine) with the same AxiosGraphClient and credential, and
 * nothing else: no authentication, no checks, no database, no logging, no framework.
 *
 *   node -r ./bench/swc-register.js bench/passthrough.ts
 *   env: PORT (0 = any), GRAPH_BASE_URL, AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID,
 *        AZURE_CLIENT_SECRET, SIM_CA_FILE (the simulator's CA; NODE_EXTRA_CA_CERTS works too)
 * Prints `passthrough listening on <port>` once listening; SIGTERM closes it.
 */
const START_PATH = /^\/v1\/servicePrincipals\/([^/]+)\/synchronization\/jobs\/([^/]+)\/start$/;

export interface PassthroughOptions {
  port: number;
  graphBaseUrl: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  tlsCaCertificate?: string;
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

export async function startPassthrough(
  opts: PassthroughOptions,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const credential = createGraphCredential({
    tenantId: opts.tenantId,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    authorityHost: opts.authorityHost,
    ...(opts.tlsCaCertificate ? { tlsCaCertificate: opts.tlsCaCertificate } : {}),
  });
  const graph = new AxiosGraphClient({
    baseUrl: opts.graphBaseUrl,
    credential,
    ...(opts.tlsCaCertificate ? { tlsCaCertificate: opts.tlsCaCertificate } : {}),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    req.resume();
    const m = req.method === 'POST' ? START_PATH.exec((req.url ?? '').split('?')[0] ?? '') : null;
    if (!m) {
      reply(res, 404, { error: 'not found' });
      return;
    }
    const ref = { servicePrincipalId: decodeURIComponent(m[1] ?? ''), jobId: decodeURIComponent(m[2] ?? '') };
    try {
      const job = (await graph.getJob(ref)).value;
      if (job.observedStatus !== 'paused' && job.observedStatus !== 'quarantine') {
        reply(res, 409, { outcome: 'skipped', observedStatus: job.observedStatus });
        return;
      }
      await graph.startJob(ref);
      reply(res, 200, { outcome: 'started', observedStatus: job.observedStatus });
    } catch (error) {
      reply(res, 502, { outcome: 'upstream_error', kind: error instanceof GraphError ? error.kind : 'bug' });
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        graph.close();
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

async function main(): Promise<void> {
  const caFile = process.env.SIM_CA_FILE;
  const p = await startPassthrough({
    port: Number(process.env.PORT ?? '0'),
    graphBaseUrl: env('GRAPH_BASE_URL'),
    authorityHost: env('AZURE_AUTHORITY_HOST'),
    tenantId: env('AZURE_TENANT_ID'),
    clientId: env('AZURE_CLIENT_ID'),
    clientSecret: env('AZURE_CLIENT_SECRET'),
    ...(caFile ? { tlsCaCertificate: readFileSync(caFile, 'utf8') } : {}),
  });
  process.stdout.write(`passthrough listening on ${p.port}\n`);
  process.once('SIGTERM', () => {
    void p.close().then(() => process.exit(0));
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`passthrough: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
