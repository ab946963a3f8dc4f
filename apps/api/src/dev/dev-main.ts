import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  EmbeddedPostgresError,
  assertReachable,
  createDatabaseIfMissing,
  migrate,
  processAlive,
  resetJobGuardsOf,
  startEmbeddedPostgres,
} from '@app/persistence';
import {
  DEMO_JOBS,
  DEMO_SERVICE_PRINCIPAL_ID,
  type RunningSimulator,
  startGraphSimulator,
} from '../../../graph-simulator/src';
import { createApp } from '../bootstrap';
import { ConfigError, loadConfig } from '../config/app-config';
import { consoleDir } from '../console/console';
import { consoleDevIdentities } from './console-identities';
import type { DevIssuer } from './dev-issuer';
import { type Env, precheckConfig, usesSimulator } from './dev-config';
import { DEV_DATA_DIR, launcherToken, startLauncherIssuer } from './dev-tokens';

/**
 * Development entry (`npm start`): zero setup. No DATABASE_URL → an embedded PostgreSQL under .data/ (kept across restarts);
 * no Graph credentials → the built-in Graph simulator with a fresh demo tenant; no AUTH_* → development tokens
 * signed with a key kept under .data/. The configuration is checked before anything starts; every start-up
 * failure is one line that says what to change. Never used in production.
 */
const out = (line = '') => process.stdout.write(`${line}\n`);

/** A start-up failure with one line for the person. */
class StartupError extends Error {}

/** One `npm start` per checkout: .data/npm-start.pid. Returns its release. */
function takeLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'npm-start.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new StartupError(
        `another npm start is already running in this checkout (pid ${pid}): stop it first (Ctrl-C in its terminal), or use another clone`,
      );
    }
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

/** Fails early, before anything starts, when PORT cannot be bound on HOST. */
function checkListen(port: number, host: string): Promise<void> {
  return new Promise((resolveCheck, reject) => {
    const srv = createServer();
    srv.once('error', (error: NodeJS.ErrnoException) => {
      const next = port === 0 ? 3001 : port + 1;
      reject(
        new StartupError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use: set PORT to a free port, e.g. PORT=${next} npm start`
            : error.code === 'EACCES'
              ? `not allowed to listen on port ${port}: set PORT to a port above 1023, e.g. PORT=3000`
              : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
                ? `HOST=${host} is not an address of this machine: set HOST to 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`
                : `cannot listen on ${host}:${port} (${error.code ?? error.message}): set PORT or HOST`,
        ),
      );
    });
    srv.listen(port, host, () => srv.close(() => resolveCheck()));
  });
}

async function checkDatabaseUrl(url: string): Promise<void> {
  try {
    await assertReachable(url);
  } catch (error) {
    let where = 'the server';
    try {
      const u = new URL(url);
      where = `${u.hostname}:${u.port || '5432'}/${u.pathname.replace(/^\//, '')}`;
    } catch {
      // keep the generic name
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new StartupError(
      `cannot reach the database in DATABASE_URL (${where}): ${reason}; fix DATABASE_URL, or unset it to use the embedded PostgreSQL`,
    );
  }
}

function banner(opts: {
  base: string;
  seconds: number;
  simulator: RunningSimulator | null;
  token: string | null;
  note: string | null;
}): string[] {
  const { base, token } = opts;
  const lines = ['', `Sync Job Guard is ready in ${opts.seconds.toFixed(1)} s`];
  lines.push(`  API      ${base}/v1`, `  Docs     ${base}/docs`);
  if (consoleDir() !== null) {
    lines.push(`  Console  ${base}/console`);
  }
  if (opts.simulator) {
    lines.push('  Graph    built-in simulator, demo tenant (reset at every start)');
  }
  if (opts.note) {
    lines.push(`  Note     ${opts.note}`);
  }
  if (token === null) {
    return lines;
  }
  const jobs = `${base}/v1/servicePrincipals/${DEMO_SERVICE_PRINCIPAL_ID}/synchronization/jobs`;
  const start = (job: string, what: string) =>
    `curl -s -w ' %{http_code}\\n' -X POST -H "Authorization: Bearer $TOKEN" $JOBS/${job}/start   # ${what}`;
  lines.push(
    '',
    'Paste these (the token has every role, lasts 30 days and survives a restart):',
    `export TOKEN=${token}`,
    `export JOBS=${jobs}`,
  );
  if (opts.simulator) {
    lines.push(
      start(DEMO_JOBS.paused, 'paused: 200 started'),
      start(DEMO_JOBS.active, 'active: 409 skipped'),
      start(DEMO_JOBS.quarantined, 'quarantined (EncounteredQuarantineException): 200 started'),
      start(DEMO_JOBS.quarantinedTooManyDeletes, 'quarantined (TooManyDeletes): 202 awaiting_approval'),
      start(DEMO_JOBS.quarantinedOnDemand, 'quarantined (QuarantinedOnDemand): 202 awaiting_approval'),
      start('scim.00000000000000000000000000000000', 'not found: 404'),
    );
  }
  lines.push(
    `curl -s -H "Authorization: Bearer $TOKEN" "${base}/v1/attempts?limit=5"   # who started what`,
    'A Read-only token, to see the 403 paths:',
    '  export TOKEN=$(npm run -s token -- read)   # or start, admin, all',
    '',
  );
  return lines;
}

/** What the launcher started, stopped in reverse order (PostgreSQL, started first, stops last). */
type Cleanups = (() => Promise<void>)[];

/**
 * The stop: the API first (requests drained, recovery lease released), then what it used, PostgreSQL last; once,
 * on a signal (with a deadline) or on a start-up failure.
 */
function installStop(
  cleanups: Cleanups,
  currentApp: () => INestApplication | null,
  shutdownTimeoutSeconds: number,
): (code: number) => Promise<void> {
  let stopping: Promise<void> | null = null;
  const stop = (code: number): Promise<void> => {
    stopping ??= (async () => {
      await currentApp()
        ?.close()
        .catch(() => undefined);
      for (const c of cleanups.reverse()) {
        await c().catch(() => undefined);
      }
      process.exit(code);
    })();
    return stopping;
  };
  const onSignal = () => {
    if (stopping) {
      return;
    }
    out('\nStopping ...');
    setTimeout(() => process.exit(1), (shutdownTimeoutSeconds + 5) * 1000).unref();
    void stop(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return stop;
}

/**
 * The database: DATABASE_URL as given (checked), else the embedded PostgreSQL (then DATABASE_URL names it);
 * migrated. Returns its URL and the embedded server's note.
 */
async function prepareDatabase(
  env: Env,
  dataDir: string,
  cleanups: Cleanups,
): Promise<{ url: string; note: string | null }> {
  let note: string | null = null;
  if (env.DATABASE_URL) {
    await checkDatabaseUrl(env.DATABASE_URL);
  } else {
    out('No DATABASE_URL: starting an embedded PostgreSQL (data in .data/postgres) ...');
    const embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres') });
    cleanups.push(() => embedded.stop());
    note = embedded.note;
    await createDatabaseIfMissing(embedded.adminUrl, 'sync_job_guard');
    env.DATABASE_URL = embedded.urlFor('sync_job_guard');
  }
  const migrated = await migrate(env.DATABASE_URL);
  out(`Migrations: ${migrated.applied.length} applied, ${migrated.alreadyApplied.length} already there.`);
  return { url: env.DATABASE_URL, note };
}

/** Graph: without credentials, the simulator, whose demo tenant is new at every start (and so are its cool-downs). */
async function prepareGraph(
  env: Env,
  databaseUrl: string,
  cleanups: Cleanups,
): Promise<RunningSimulator | null> {
  if (!usesSimulator(env)) {
    return null;
  }
  const sim = await startGraphSimulator({ port: Number(env.SIMULATOR_PORT ?? 0), seed: 'demo' });
  cleanups.push(() => sim.close());
  Object.assign(env, {
    GRAPH_MODE: 'simulator',
    GRAPH_BASE_URL: sim.graphBaseUrl,
    AZURE_AUTHORITY_HOST: sim.authorityHost,
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.clientId,
    AZURE_CLIENT_SECRET: sim.clientSecret,
  });
  // The demo jobs' guard state (request window, lease, cool-down) starts afresh with the demo tenant.
  await resetJobGuardsOf(databaseUrl, DEMO_SERVICE_PRINCIPAL_ID);
  return sim;
}

/** Who may call: without AUTH_ISSUER, development tokens signed with the key kept under .data/. */
async function prepareAuth(env: Env, dataDir: string, cleanups: Cleanups): Promise<DevIssuer | null> {
  if (env.AUTH_ISSUER) {
    return null;
  }
  const issuer = await startLauncherIssuer(dataDir);
  cleanups.push(() => issuer.close());
  Object.assign(env, {
    AUTH_ISSUER: issuer.issuer,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_JWKS_URI: issuer.jwksUri,
  });
  return issuer;
}

/** The API on what was prepared, listening (`onApp` gets it first, so a failed listen still closes it). */
async function startApi(
  env: Env,
  parts: { simulator: RunningSimulator | null; issuer: DevIssuer | null },
  onApp: (app: INestApplication) => void,
): Promise<string> {
  const { simulator, issuer } = parts;
  const config = loadConfig(env);
  if (simulator) {
    config.graph.tlsCaCertificate = simulator.tlsCaCertificate;
    if (config.console.servicePrincipalIds.length === 0) {
      config.console.servicePrincipalIds = [DEMO_SERVICE_PRINCIPAL_ID];
    }
  }
  if (issuer) {
    // The console's role switcher: a real token of the development issuer per role.
    config.console.devIdentities = await consoleDevIdentities(issuer);
  }
  // The launcher owns the signals and the order of the stop (the app, then what it used).
  const app = await createApp(config, { handleSignals: false });
  onApp(app);
  await app.listen(config.port, config.host);
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${config.port}`;
}

async function main(): Promise<void> {
  const env: Env = { ...process.env };
  if (env.NODE_ENV === 'production') {
    throw new StartupError('npm start is the development launcher; in production use `npm run start:prod`');
  }
  // The launcher binds loopback unless HOST says otherwise.
  env.HOST = env.HOST?.trim() || '127.0.0.1';
  const started = Date.now();

  // 1. Everything the person configured is checked before anything starts.
  const pre = precheckConfig(env);
  const dataDir = resolve(DEV_DATA_DIR);
  const releaseLock = takeLock(dataDir);
  const cleanups: Cleanups = [() => Promise.resolve(releaseLock())];
  let app: INestApplication | null = null;
  const stop = installStop(cleanups, () => app, pre.shutdownTimeoutSeconds);

  try {
    await checkListen(pre.port, pre.host);
    // 2. The database, 3. Graph, 4. who may call, then the API.
    const database = await prepareDatabase(env, dataDir, cleanups);
    const simulator = await prepareGraph(env, database.url, cleanups);
    const issuer = await prepareAuth(env, dataDir, cleanups);
    const base = await startApi(env, { simulator, issuer }, (a) => (app = a));
    const token = issuer ? await launcherToken(issuer, dataDir) : null;
    for (const line of banner({
      base,
      seconds: (Date.now() - started) / 1000,
      simulator,
      token,
      note: database.note,
    })) {
      out(line);
    }
  } catch (error) {
    process.stderr.write(`npm start: ${describe(error)}\n`);
    await stop(1);
  }
}

function describe(error: unknown): string {
  if (error instanceof ConfigError) {
    return `${error.message}\nNothing was started: fix the variables above and run npm start again.`;
  }
  if (error instanceof StartupError || error instanceof EmbeddedPostgresError) {
    return error.message;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message || 'start-up failed';
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start: ${describe(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
