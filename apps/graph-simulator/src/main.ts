import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEMO_JOBS, DEMO_SERVICE_PRINCIPAL_ID } from './demo';
import { startGraphSimulator, type GraphSimulatorOptions } from './simulator';

/**
 * Standalone Graph simulator.
 *   PORT (4000), SIM_HOST (127.0.0.1), SIM_LATENCY_MS, SIM_SEED (demo|empty), SIM_FIXTURE (jobs JSON),
 *   SIM_TLS_CERT / SIM_TLS_KEY (PEM files: Graph is then advertised over https too),
 *   SIM_CA_FILE (where to write the CA to trust; default .data/graph-simulator-ca.pem),
 *   SIM_TLS_HOSTS (comma-separated extra names of the self-signed certificate, e.g. graph-simulator),
 *   SIM_TOKEN_LIFETIME_SECONDS, SIM_TENANT_ID, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_REQUIRE_AUTH (true|false).
 */
function fail(message: string): never {
  process.stderr.write(`graph-simulator: ${message}\n`);
  process.exit(1);
}

function intEnv(name: string, fallback?: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    fail(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return n;
}

async function main(): Promise<void> {
  const seed = process.env.SIM_SEED ?? 'demo';
  if (seed !== 'demo' && seed !== 'empty') {
    fail(`SIM_SEED must be demo or empty, got "${seed}"`);
  }
  const certPath = process.env.SIM_TLS_CERT;
  const keyPath = process.env.SIM_TLS_KEY;
  if ((certPath && !keyPath) || (!certPath && keyPath)) {
    fail('SIM_TLS_CERT and SIM_TLS_KEY go together');
  }
  const opts: GraphSimulatorOptions = {
    port: intEnv('PORT', 4000) ?? 4000,
    host: process.env.SIM_HOST ?? '127.0.0.1',
    seed,
  };
  const latencyMs = intEnv('SIM_LATENCY_MS');
  if (latencyMs !== undefined) {
    opts.latencyMs = latencyMs;
  }
  const lifetime = intEnv('SIM_TOKEN_LIFETIME_SECONDS');
  if (lifetime !== undefined) {
    opts.tokenLifetimeSeconds = lifetime;
  }
  if (process.env.SIM_FIXTURE) {
    opts.fixturePath = process.env.SIM_FIXTURE;
  }
  if (process.env.SIM_TENANT_ID) {
    opts.tenantId = process.env.SIM_TENANT_ID;
  }
  if (process.env.SIM_CLIENT_ID) {
    opts.clientId = process.env.SIM_CLIENT_ID;
  }
  if (process.env.SIM_CLIENT_SECRET) {
    opts.clientSecret = process.env.SIM_CLIENT_SECRET;
  }
  const tlsHosts = (process.env.SIM_TLS_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  if (tlsHosts.length > 0) {
    opts.tlsHosts = tlsHosts;
  }
  if (process.env.SIM_REQUIRE_AUTH === 'false') {
    opts.requireAuth = false;
  }
  if (certPath && keyPath) {
    opts.tls = { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
    opts.preferHttps = true;
  }

  const sim = await startGraphSimulator(opts);
  const caFile = resolve(process.env.SIM_CA_FILE ?? '.data/graph-simulator-ca.pem');
  mkdirSync(dirname(caFile), { recursive: true });
  writeFileSync(caFile, sim.tlsCaCertificate);

  process.stdout.write(
    [
      `Graph simulator listening on ${sim.origin} (HTTP and HTTPS on the same port)`,
      `  GRAPH_BASE_URL=${sim.graphBaseUrl}`,
      `  AZURE_AUTHORITY_HOST=${sim.authorityHost}`,
      `  AZURE_TENANT_ID=${sim.tenantId}`,
      `  AZURE_CLIENT_ID=${sim.clientId}`,
      `  AZURE_CLIENT_SECRET=${sim.clientSecret}`,
      `  NODE_EXTRA_CA_CERTS=${caFile}   (its self-signed certificate; @azure/identity needs an https authority)`,
      `  demo service principal: ${DEMO_SERVICE_PRINCIPAL_ID}`,
      ...Object.entries(DEMO_JOBS).map(([name, id]) => `    ${name.padEnd(26)} ${id}`),
      `  admin: ${sim.origin}/__sim/counters, /__sim/requests, /__sim/faults, /__sim/jobs, /__sim/reset`,
      '',
    ].join('\n'),
  );

  const stop = (): void => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
