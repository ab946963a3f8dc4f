import type { INestApplication } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { createApp } from '../../apps/api/src/bootstrap';
import { type AppConfig, loadConfig } from '../../apps/api/src/config/app-config';
import { type DevIssuer, startDevIssuer } from '../../apps/api/src/dev/dev-issuer';
import { type RunningSimulator, startGraphSimulator } from '../../apps/graph-simulator/src';
import { createTestDatabase, type TestDatabase } from './database';

/** What the harness needs to know of a Graph endpoint (the simulator, in-process). */
export interface GraphEndpoint {
  graphBaseUrl: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  tlsCaCertificate?: string;
}

export interface TestApp {
  app: INestApplication;
  url: string;
  config: AppConfig;
  /** Every log line the app wrote, for assertions (e.g. no secret was logged). */
  logs: string[];
  close(): Promise<void>;
}

/** Builds the app exactly as production does (createApp), on a random port, logging into memory. */
export async function startApp(opts: {
  databaseUrl: string;
  issuer: DevIssuer;
  graph?: GraphEndpoint;
  env?: Record<string, string>;
}): Promise<TestApp> {
  const graph = opts.graph ?? {
    graphBaseUrl: 'http://127.0.0.1:9/v1.0',
    authorityHost: 'https://127.0.0.1:9',
    tenantId: '00000000-0000-4000-8000-000000000001',
    clientId: '00000000-0000-4000-8000-000000000002',
    clientSecret: 'unused',
  };
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: opts.databaseUrl,
    GRAPH_MODE: 'simulator',
    GRAPH_BASE_URL: graph.graphBaseUrl,
    AZURE_AUTHORITY_HOST: graph.authorityHost,
    AZURE_TENANT_ID: graph.tenantId,
    AZURE_CLIENT_ID: graph.clientId,
    AZURE_CLIENT_SECRET: graph.clientSecret,
    AUTH_ISSUER: opts.issuer.issuer,
    AUTH_AUDIENCE: opts.issuer.audience,
    AUTH_JWKS_URI: opts.issuer.jwksUri,
    RECOVERY_ENABLED: 'false',
    LOG_LEVEL: 'info',
    GRAPH_BUDGET_MS: '5000',
    GRAPH_TIMEOUT_MS: '2000',
    ...opts.env,
  });
  config.graph.tlsCaCertificate = graph.tlsCaCertificate ?? null;
  const logs: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const app = await createApp(config, { logDestination: sink });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return {
    app,
    url: url.replace('[::1]', '127.0.0.1'),
    config,
    logs,
    close: () => app.close(),
  };
}

/** One database and one token issuer for a test file. */
export interface TestEnv {
  db: TestDatabase;
  issuer: DevIssuer;
  close(): Promise<void>;
}

export async function startTestEnv(): Promise<TestEnv> {
  const [db, issuer] = await Promise.all([createTestDatabase(), startDevIssuer()]);
  return {
    db,
    issuer,
    close: async () => {
      await issuer.close();
      await db.drop();
    },
  };
}

/** A test file's whole stack: its own database and token issuer, an in-process Graph simulator, one app on them. */
export interface TestStack {
  env: TestEnv;
  sim: RunningSimulator;
  app: TestApp;
  close(): Promise<void>;
}

export async function startStack(appEnv: Record<string, string> = {}): Promise<TestStack> {
  const env = await startTestEnv();
  const sim = await startGraphSimulator({ port: 0, seed: 'empty' });
  const app = await startApp({ databaseUrl: env.db.url, issuer: env.issuer, graph: sim, env: appEnv });
  return {
    env,
    sim,
    app,
    close: async () => {
      await app.close();
      await sim.close();
      await env.close();
    },
  };
}
