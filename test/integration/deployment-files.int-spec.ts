import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../apps/api/src/config/app-config';
import { DEV_AUDIENCE, DEV_STABLE_ISSUER } from '../../apps/api/src/dev/dev-issuer';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from '../../apps/graph-simulator/src/demo';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

interface ComposeService {
  build?: unknown;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
  volumes?: string[];
}

describe('docker-compose.yml and Dockerfile (no Docker engine here: checked by reading them)', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it('has postgres with a volume and a healthcheck, a one-shot migrate, the API and the simulator under a profile', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['api', 'graph-simulator', 'migrate', 'postgres', 'token-issuer']);
    expect(s.postgres?.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
    expect(s.postgres?.volumes).toContain('pgdata:/var/lib/postgresql/data');
    expect(compose.volumes).toHaveProperty('pgdata');
    expect(s.migrate?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(s.api?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(s.api?.ports).toContain('3000:3000');
    expect(s['graph-simulator']?.profiles).toEqual(['simulator']);
    expect(s['token-issuer']?.profiles).toEqual(['simulator']);
  });

  it('runs the same built entry points as the npm scripts', () => {
    expect(pkg.scripts['db:migrate']).toContain(compose.services.migrate?.command?.[1]);
    // The same node flags as well (the young generation's size): `node <flags> <entry>` in both.
    expect(pkg.scripts['start:prod']).toBe(
      'node --max-semi-space-size=32 dist/apps/api/apps/api/src/main.js',
    );
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(pkg.scripts['start:prod']?.split(' '));
    expect(pkg.scripts.simulator).toContain(compose.services['graph-simulator']?.command?.[1]);
  });

  it('gives the API every variable production requires, and the configuration accepts them', () => {
    const api = compose.services.api?.environment ?? {};
    for (const key of [
      'NODE_ENV',
      'DATABASE_URL',
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_ID',
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'AUDIT_CURSOR_KEY',
      'RATE_LIMIT_PER_JOB',
      'RECOVERY_ENABLED',
      'REQUIRE_GRANTS',
      'LOG_LEVEL',
      'AZURE_CLIENT_CERTIFICATE_PATH',
      'AZURE_USE_MANAGED_IDENTITY',
      'AUDIT_CURSOR_KEY',
      'METRICS_TOKEN',
      'NODE_EXTRA_CA_CERTS',
    ]) {
      expect(api).toHaveProperty(key);
    }
    expect(api.NODE_ENV).toBe('production');
    // Resolve ${VAR:-default} / ${VAR:?msg} with sample values, then validate as the service would at boot.
    const sample: Record<string, string> = {
      AZURE_TENANT_ID: '00000000-0000-4000-8000-000000000001',
      AZURE_CLIENT_ID: '00000000-0000-4000-8000-000000000002',
      AZURE_CLIENT_SECRET: 's',
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'api://x',
      AUDIT_CURSOR_KEY: 'c'.repeat(43),
    };
    const resolved = Object.fromEntries(
      Object.entries(api).map(([k, v]) => [
        k,
        String(v).replace(
          /\$\{(\w+)(?::[-?]([^}]*))?\}/g,
          (_m, name: string, def: string | undefined) => sample[name] ?? def ?? '',
        ),
      ]),
    );
    const config = loadConfig(resolved);
    expect(config.production).toBe(true);
    expect(config.databaseUrl).toMatch(/^postgresql:\/\/sync_job_guard:/);
  });

  const resolveWith = (sample: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(compose.services.api?.environment ?? {}).map(([k, v]) => [
        k,
        String(v).replace(
          /\$\{(\w+)(?::[-?]([^}]*))?\}/g,
          (_m, name: string, def: string | undefined) => sample[name] ?? def ?? '',
        ),
      ]),
    );

  it('accepts the certificate and the managed-identity variants of the Graph identity', () => {
    const auth = {
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'c,api://x',
      AUDIT_CURSOR_KEY: 'k'.repeat(32),
    };
    const cert = loadConfig(
      resolveWith({
        ...auth,
        AZURE_TENANT_ID: 't',
        AZURE_CLIENT_ID: 'c',
        AZURE_CLIENT_CERTIFICATE_PATH: '/run/secrets/graph-cert.pem',
      }),
    );
    expect(cert.graph.certificatePath).toBe('/run/secrets/graph-cert.pem');
    expect(cert.graph.clientSecret).toBeNull();
    const mi = loadConfig(resolveWith({ ...auth, AZURE_USE_MANAGED_IDENTITY: 'true' }));
    expect(mi.graph.useManagedIdentity).toBe(true);
    expect(compose.services.api?.volumes).toContain('./secrets:/run/secrets:ro');
  });

  it('runs the simulator profile with no Azure value: simulator.env points the API at the simulator and the issuer', () => {
    const envFile = Object.fromEntries(
      readFileSync(join(root, 'simulator.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ) as Record<string, string>;
    expect(envFile).toMatchObject({
      AZURE_TENANT_ID: DEMO_TENANT_ID,
      AZURE_CLIENT_ID: DEMO_CLIENT_ID,
      AZURE_CLIENT_SECRET: DEMO_CLIENT_SECRET,
      AUTH_ISSUER: DEV_STABLE_ISSUER,
      AUTH_AUDIENCE: DEV_AUDIENCE,
    });
    const sim = compose.services['graph-simulator']?.environment ?? {};
    // The API trusts the simulator's self-signed certificate: the CA file the simulator writes to the shared volume.
    expect(envFile.NODE_EXTRA_CA_CERTS).toBe(sim.SIM_CA_FILE);
    expect(sim.SIM_TLS_HOSTS).toBe(new URL(envFile.AZURE_AUTHORITY_HOST ?? '').hostname);
    expect(new URL(envFile.AUTH_JWKS_URI ?? '').hostname).toBe('token-issuer');
    const config = loadConfig(resolveWith(envFile));
    expect(config.production).toBe(true);
    expect(config.graph.mode).toBe('live');
    expect(config.auditCursorKey).not.toBeNull();
    expect(config.metricsToken).not.toBeNull();
  });

  it('builds in stages, installs only production dependencies at the end, runs as a non-root user with a healthcheck', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health\/ready/m);
  });
});
