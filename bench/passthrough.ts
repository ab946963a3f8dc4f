import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { HttpGraphClient, GraphError, createGraphCredential } from '@app/graph';
import {
  type PassthroughOptions,
  type RunningPassthrough,
  START_PATH,
  listen,
  runAsProcess,
} from './lib/passthrough-server';

/**
 * The bare pass-through the benchmark sets beside the guard: for each
 * POST /v1/servicePrincipals/{sp}/synchronization/jobs/{job}/start it makes the same Graph calls as the guard
 * (GET the job; POST start when paused or in quarantine) with the same HttpGraphClient and credential, and
 * nothing else: no authentication, no checks, no database, no logging, no framework.
 *
 *   node -r ./bench/swc-register.js bench/passthrough.ts
 *   env: PORT (0 = any), GRAPH_BASE_URL, AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID,
 *        AZURE_CLIENT_SECRET, SIM_CA_FILE (the simulator's CA; NODE_EXTRA_CA_CERTS works too)
 * Prints `passthrough listening on <port>` once listening; SIGTERM closes it.
 */
function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

export async function startPassthrough(opts: PassthroughOptions): Promise<RunningPassthrough> {
  const credential = createGraphCredential({
    tenantId: opts.tenantId,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    authorityHost: opts.authorityHost,
    ...(opts.tlsCaCertificate ? { tlsCaCertificate: opts.tlsCaCertificate } : {}),
  });
  const graph = new HttpGraphClient({
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
  return listen(server, opts.port, () => graph.close());
}

if (require.main === module) {
  runAsProcess('passthrough', startPassthrough);
}
