import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import {
  type PassthroughOptions,
  type RunningPassthrough,
  START_PATH,
  listen,
  runAsProcess,
} from './lib/passthrough-server';

/**
 * The barest pass-through the benchmark sets beside the guard: how far the guard is from the limit of this
 * machine, not from our own Graph layer. For each
 * POST /v1/servicePrincipals/{sp}/synchronization/jobs/{job}/start it sends what the guard's start path sends to
 * Graph (GET the job; POST …/start when it is paused or in quarantine), with only `node:http`/`node:https`:
 * one keep-alive agent, a client-credentials token fetched once from the token endpoint (and again shortly
 * before it expires, off the request path), no framework, no authentication, no database, no logging.
 *
 *   node -r ./bench/swc-register.js bench/bare-passthrough.ts
 *   env: PORT (0 = any), GRAPH_BASE_URL, AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID,
 *        AZURE_CLIENT_SECRET, SIM_CA_FILE (the simulator's CA, for its HTTPS token endpoint and Graph over HTTPS)
 * Prints `bare passthrough listening on <port>` once listening; SIGTERM closes it.
 */
interface Answer {
  status: number;
  body: string;
}

/** One request on the agent; the whole answer as text. */
function send(
  agent: http.Agent,
  url: URL,
  method: 'GET' | 'POST',
  headers: http.OutgoingHttpHeaders,
  body?: string,
): Promise<Answer> {
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function reply(res: http.ServerResponse, status: number, payload: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export async function startBarePassthrough(opts: PassthroughOptions): Promise<RunningPassthrough> {
  const base = opts.graphBaseUrl.replace(/\/+$/, '');
  const graphOrigin = new URL(base).origin;
  // An idle socket is dropped after 4 s, before the server's keep-alive window (5 s in the simulator) ends: a
  // socket the server is closing as it is reused would be reset, and that request would fail (502).
  const agentOptions = { keepAlive: true, maxSockets: 256, maxFreeSockets: 256, timeout: 4_000 };
  const tls = opts.tlsCaCertificate ? { ca: opts.tlsCaCertificate } : {};
  const graphAgent = base.startsWith('https:')
    ? new https.Agent({ ...agentOptions, ...tls })
    : new http.Agent(agentOptions);
  const tokenAgent = new https.Agent({ keepAlive: false, ...tls });

  // The client-credentials token: fetched once, then again 5 minutes before it expires.
  let authorization = '';
  let refresh: NodeJS.Timeout | undefined;
  const fetchToken = async (): Promise<void> => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: opts.clientId,
      client_secret: opts.clientSecret,
      scope: `${graphOrigin}/.default`,
    }).toString();
    const url = new URL(
      `${opts.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(opts.tenantId)}/oauth2/v2.0/token`,
    );
    const answer = await send(
      tokenAgent,
      url,
      'POST',
      {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(form),
      },
      form,
    );
    const json = JSON.parse(answer.body) as { access_token?: unknown; expires_in?: unknown };
    if (answer.status !== 200 || typeof json.access_token !== 'string') {
      throw new Error(`the token endpoint answered ${answer.status}`);
    }
    authorization = `Bearer ${json.access_token}`;
    const lifetimeS = typeof json.expires_in === 'number' ? json.expires_in : Number(json.expires_in ?? 3600);
    refresh = setTimeout(
      () => {
        fetchToken().catch((error: unknown) => {
          process.stderr.write(`bare passthrough: token refresh failed: ${String(error)}\n`);
        });
      },
      Math.max(10, lifetimeS - 300) * 1000,
    );
    refresh.unref();
  };
  await fetchToken();

  const graphHeaders = (): http.OutgoingHttpHeaders => ({
    authorization,
    accept: 'application/json',
    'client-request-id': randomUUID(),
  });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    req.resume();
    const m = req.method === 'POST' ? START_PATH.exec((req.url ?? '').split('?')[0] ?? '') : null;
    if (!m) {
      reply(res, 404, '{"error":"not found"}');
      return;
    }
    // The ids go to Graph as the guard sends them: each path segment encoded.
    const jobUrl = `${base}/servicePrincipals/${encodeURIComponent(decodeURIComponent(m[1] ?? ''))}/synchronization/jobs/${encodeURIComponent(decodeURIComponent(m[2] ?? ''))}`;
    try {
      const got = await send(graphAgent, new URL(jobUrl), 'GET', graphHeaders());
      if (got.status !== 200) {
        reply(res, 502, JSON.stringify({ outcome: 'upstream_error', status: got.status }));
        return;
      }
      const job = JSON.parse(got.body) as { status?: { code?: unknown } };
      const code = typeof job.status?.code === 'string' ? job.status.code.toLowerCase() : 'unknown';
      if (code !== 'paused' && code !== 'quarantine') {
        reply(res, 409, JSON.stringify({ outcome: 'skipped', observedStatus: code }));
        return;
      }
      const started = await send(graphAgent, new URL(`${jobUrl}/start`), 'POST', {
        ...graphHeaders(),
        'content-length': 0,
      });
      if (started.status < 200 || started.status >= 300) {
        reply(res, 502, JSON.stringify({ outcome: 'upstream_error', status: started.status }));
        return;
      }
      reply(res, 200, JSON.stringify({ outcome: 'started', observedStatus: code }));
    } catch {
      reply(res, 502, '{"outcome":"upstream_error"}');
    }
  };

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  return listen(server, opts.port, () => {
    clearTimeout(refresh);
    graphAgent.destroy();
    tokenAgent.destroy();
  });
}

if (require.main === module) {
  runAsProcess('bare passthrough', startBarePassthrough);
}
