import 'reflect-metadata';
import { Client } from 'pg';
import { type EmbeddedDatabase, migrate, startEmbeddedPostgres } from '@app/persistence';
import {
  DEMO_JOBS,
  DEMO_SERVICE_PRINCIPAL_ID,
  type RunningSimulator,
  startGraphSimulator,
} from '../../../graph-simulator/src';
import { createApp } from '../bootstrap';
import { ConfigError, loadConfig } from '../config/app-config';
import { consoleDevIdentities } from './console-identities';
import { type DevIssuer, startDevIssuer } from './dev-issuer';

/**
 * `npm start`: zero setup. No DATABASE_URL → an embedded PostgreSQL under .data/ (kept across restarts);
 * no Graph credentials → the built-in Graph simulator with a demo tenant; no AUTH_* → a development token
 * issuer. Then it prints the URL, the docs and a ready-to-paste curl. Never used in production.
 */
const out = (line = '') => process.stdout.write(`${line}\n`);

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (env.NODE_ENV === 'production') {
    throw new Error('npm start is the development launcher; in production use `npm run start:prod`');
  }
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];

  if (!env.DATABASE_URL) {
    out('No DATABASE_URL: starting an embedded PostgreSQL (data in .data/postgres) ...');
    const embedded: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: '.data/postgres' });
    cleanups.push(() => embedded.stop());
    await ensureDatabase(embedded.adminUrl, 'sync_job_guard');
    env.DATABASE_URL = embedded.urlFor('sync_job_guard');
  }
  const migrated = await migrate(env.DATABASE_URL ?? '');
  out(`Migrations: ${migrated.applied.length} applied, ${migrated.alreadyApplied.length} already there.`);

  let simulator: RunningSimulator | null = null;
  const hasCredentials = Boolean(
    env.AZURE_CLIENT_ID &&
    (env.AZURE_CLIENT_SECRET || env.AZURE_CLIENT_CERTIFICATE_PATH || env.AZURE_FEDERATED_TOKEN_FILE),
  );
  if (env.GRAPH_MODE === 'simulator' || (!env.GRAPH_MODE && !hasCredentials)) {
    simulator = await startGraphSimulator({ port: Number(env.SIMULATOR_PORT ?? 0), seed: 'demo' });
    const sim = simulator;
    cleanups.push(() => sim.close());
    Object.assign(env, {
      GRAPH_MODE: 'simulator',
      GRAPH_BASE_URL: sim.graphBaseUrl,
      AZURE_AUTHORITY_HOST: sim.authorityHost,
      AZURE_TENANT_ID: sim.tenantId,
      AZURE_CLIENT_ID: sim.clientId,
      AZURE_CLIENT_SECRET: sim.clientSecret,
    });
  }

  let issuer: DevIssuer | null = null;
  if (!env.AUTH_ISSUER) {
    issuer = await startDevIssuer();
    const iss = issuer;
    cleanups.push(() => iss.close());
    Object.assign(env, {
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_URI: issuer.jwksUri,
    });
  }

  const config = loadConfig(env);
  if (simulator) {
    config.graph.tlsCaCertificate = simulator.tlsCaCertificate;
  }
  if (issuer) {
    config.console.devIdentities = await consoleDevIdentities(issuer);
  }
  if (simulator && config.console.servicePrincipalIds.length === 0) {
    config.console.servicePrincipalIds = [DEMO_SERVICE_PRINCIPAL_ID];
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host === '0.0.0.0' ? '127.0.0.1' : config.host);
  const base = `http://127.0.0.1:${config.port}`;

  let stopping = false;
  const stop = async () => {
    if (stopping) {
      return;
    }
    stopping = true;
    out('\nStopping ...');
    await app.close();
    for (const c of cleanups.reverse()) {
      await c().catch(() => undefined);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  out();
  out(`Sync Job Guard is ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  out(`  API      ${base}/v1`);
  out(`  Docs     ${base}/docs`);
  out(`  Console  ${base}/console`);
  out(`  Health   ${base}/health/ready`);
  if (simulator) {
    out(`  Graph    built-in simulator at ${simulator.graphBaseUrl} (demo tenant)`);
  }
  if (issuer) {
    const token = await issuer.sign({ name: 'Developer', scp: 'user_impersonation', expiresIn: 12 * 3600 });
    out();
    out('Development token (every role, 12 h):');
    out(`  Authorization: Bearer ${token}`);
    out();
    out('Start the demo paused job:');
    out(
      `  curl -s -X POST -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" -d '{"reason":"first try"}' ${base}/v1/servicePrincipals/${DEMO_SERVICE_PRINCIPAL_ID}/synchronization/jobs/${DEMO_JOBS.paused}/start`,
    );
    out('Then see who started what:');
    out(`  curl -s -H "Authorization: Bearer ${token}" "${base}/v1/attempts?limit=5"`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
