import { isRecord } from '@app/common';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_SERVICE_PRINCIPAL_ID,
  DEMO_TENANT_ID,
  demoJobs,
} from './demo';
import { createHandler } from './router';
import type { SimContext } from './sim-context';

import { createSelfSignedCertificate } from './tls';
import { SimulatorState, type JobSeed, type ThrottleConfig } from './state';

export interface GraphSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Added to every Graph answer. Default 0. */
  latencyMs?: number;
  /** `demo` (default) seeds the demo tenant's jobs; `empty` seeds nothing. */
  seed?: 'demo' | 'empty';
  /** Extra jobs to seed (after the seed). */
  jobs?: JobSeed[];
  /** A JSON fixture: `{ "jobs": JobSeed[] }` or `JobSeed[]`. */
  fixturePath?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued tokens (expires_in, and enforced). Default 3600. MSAL refreshes 300 s before expiry. */
  tokenLifetimeSeconds?: number;
  /** Graph-like throttling: 429 + Retry-After past `limit` requests per `windowMs`. */
  throttle?: ThrottleConfig;
  /** Graph requests need a token issued by this simulator. Default true. */
  requireAuth?: boolean;
  /** Request log capacity (ring). Default 50 000; 0 disables the log. */
  requestLogLimit?: number;
  batchOrder?: 'inOrder' | 'reverse' | 'shuffle';
  /** PEM certificate and key for the HTTPS side; a self-signed one is generated when absent. */
  tls?: { cert: string; key: string };
  /** Advertise https:// for Graph too (the same port speaks both). Default false. */
  preferHttps?: boolean;
  /** Extra names of the self-signed certificate (e.g. `graph-simulator` in Docker Compose). */
  tlsHosts?: string[];
}

export interface RunningSimulator {
  /** http://host:port (https:// with preferHttps). */
  origin: string;
  /** origin + /v1.0: the GRAPH_BASE_URL to use. */
  graphBaseUrl: string;
  /** https://host:port: the authority host for @azure/identity (which requires https). */
  authorityHost: string;
  port: number;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** PEM to trust for the HTTPS side (`tlsCaCertificate` options, or NODE_EXTRA_CA_CERTS in another process). */
  tlsCaCertificate: string;
  /** Ready-made options for createGraphCredential (libs/graph). */
  credentialOptions: {
    tenantId: string;
    clientId: string;
    clientSecret: string;
    authorityHost: string;
    disableInstanceDiscovery: true;
    tlsCaCertificate: string;
  };
  state: SimulatorState;
  /** state.reset() then seed again (demo by default). */
  reset(seed?: 'demo' | 'empty'): void;
  close(): Promise<void>;
}

function stateFor(opts: GraphSimulatorOptions): SimulatorState {
  return new SimulatorState({
    ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
    ...(opts.requireAuth !== undefined ? { requireAuth: opts.requireAuth } : {}),
    ...(opts.tokenLifetimeSeconds !== undefined ? { tokenLifetimeSeconds: opts.tokenLifetimeSeconds } : {}),
    ...(opts.requestLogLimit !== undefined ? { requestLogLimit: opts.requestLogLimit } : {}),
    ...(opts.throttle ? { throttle: opts.throttle } : {}),
    ...(opts.batchOrder ? { batchOrder: opts.batchOrder } : {}),
  });
}

interface Listening {
  port: number;
  close(): Promise<void>;
}

/** One port, two protocols: a TLS ClientHello starts with 0x16, anything else is plain HTTP. */
async function listenDual(
  handler: http.RequestListener,
  tls: { cert: string; key: string },
  port: number,
  host: string,
): Promise<Listening> {
  const httpServer = http.createServer({ keepAliveTimeout: 5_000 }, handler);
  const httpsServer = https.createServer({ cert: tls.cert, key: tls.key, keepAliveTimeout: 5_000 }, handler);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      (chunk[0] === 0x16 ? httpsServer : httpServer).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const address = front.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const socket of sockets) {
          socket.destroy();
        }
        sockets.clear();
      }),
  };
}

/**
 * Starts the Microsoft Graph synchronization simulator: Graph (`/v1.0`), an Entra ID token endpoint, and an
 * admin API (`/__sim/*`), all on one port that speaks both HTTP and HTTPS (the token endpoint must be HTTPS
 * for @azure/identity; Graph stays plain HTTP by default for benchmarks).
 */
export async function startGraphSimulator(opts: GraphSimulatorOptions = {}): Promise<RunningSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const tlsMaterial =
    opts.tls ??
    createSelfSignedCertificate([
      '127.0.0.1',
      '::1',
      'localhost',
      ...(host.match(/^[\d.:]+$/) || host === 'localhost' ? [] : [host]),
      ...(opts.tlsHosts ?? []),
    ]);
  const state = stateFor(opts);
  const ctx: SimContext = {
    state,
    host,
    tenantId: opts.tenantId ?? DEMO_TENANT_ID,
    clientId: opts.clientId ?? DEMO_CLIENT_ID,
    clientSecret: opts.clientSecret ?? DEMO_CLIENT_SECRET,
    tlsCertificate: tlsMaterial.cert,
    origin: '',
    port: 0,
    seed: (kind) => {
      if (kind === 'demo') {
        state.putJobs(demoJobs());
      }
    },
  };
  ctx.seed(opts.seed ?? 'demo');
  if (opts.jobs) {
    state.putJobs(opts.jobs, DEMO_SERVICE_PRINCIPAL_ID);
  }
  if (opts.fixturePath) {
    state.putJobs(loadFixture(opts.fixturePath), DEMO_SERVICE_PRINCIPAL_ID);
  }

  const listening = await listenDual(createHandler(ctx), tlsMaterial, opts.port ?? 0, host);
  const port = listening.port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const origin = `${opts.preferHttps ? 'https' : 'http'}://${urlHost}:${port}`;
  ctx.origin = origin;
  ctx.port = port;
  const authorityHost = `https://${urlHost}:${port}`;
  const { tenantId, clientId, clientSecret } = ctx;

  return {
    origin,
    graphBaseUrl: `${origin}/v1.0`,
    authorityHost,
    port,
    tenantId,
    clientId,
    clientSecret,
    tlsCaCertificate: tlsMaterial.cert,
    credentialOptions: {
      tenantId,
      clientId,
      clientSecret,
      authorityHost,
      disableInstanceDiscovery: true,
      tlsCaCertificate: tlsMaterial.cert,
    },
    state,
    reset: (kind: 'demo' | 'empty' = 'demo') => {
      state.reset();
      ctx.seed(kind);
    },
    close: () => listening.close(),
  };
}

function loadFixture(path: string): JobSeed[] {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const jobs = Array.isArray(parsed)
    ? parsed
    : isRecord(parsed) && Array.isArray(parsed.jobs)
      ? parsed.jobs
      : null;
  if (!jobs) {
    throw new Error(`${path}: expected { "jobs": [...] } or an array of jobs`);
  }
  return jobs as JobSeed[];
}
