import { ConfigError, loadConfig } from './app-config';
import { FINALISE_RETRY_DELAYS_MS } from '../jobs/guard-policy';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems;
    }
    throw error;
  }
}

describe('loadConfig', () => {
  it('applies the defaults of DESIGN section 4', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.graph.baseUrl).toBe('https://graph.microsoft.com/v1.0');
    expect(c.graph.mode).toBe('live');
    expect(c.guard).toMatchObject({
      rateLimitPerJob: 5,
      rateLimitWindowSeconds: 300,
      startCooldownSeconds: 600,
    });
    expect(c.recovery).toMatchObject({ enabled: true, intervalSeconds: 300, maxAttempts: 6 });
    expect(c.recovery.needsPersonReasons).toEqual(['TooManyDeletes', 'QuarantinedOnDemand']);
    expect(c.requireGrants).toBe(false);
    expect(c.logLevel).toBe('info');
    expect(c.databaseUrl).toBeNull();
  });

  it('adds RECOVERY_NEEDS_PERSON_REASONS to the built-in reasons, once each, case-insensitively', () => {
    const c = loadConfig({ RECOVERY_NEEDS_PERSON_REASONS: 'IngestionInterrupted, toomanydeletes' });
    expect(c.recovery.needsPersonReasons).toEqual([
      'TooManyDeletes',
      'QuarantinedOnDemand',
      'IngestionInterrupted',
    ]);
    expect(
      loadConfig({ RECOVERY_NEEDS_PERSON_REASONS: 'QuarantineOnDemand' }).recovery.needsPersonReasons,
    ).toEqual(['TooManyDeletes', 'QuarantinedOnDemand']);
  });

  it('keeps the lease longer than the longest decision: the Graph budget, then the finalise and its retries', () => {
    const c = loadConfig({ GRAPH_BUDGET_MS: '20000' });
    const finaliseRetries = FINALISE_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(c.guard.leaseSeconds * 1000).toBeGreaterThan(c.graph.budgetMs + finaliseRetries);
    expect(loadConfig({ GRAPH_BUDGET_MS: '300000' }).guard.leaseSeconds * 1000).toBeGreaterThan(300_000);
  });

  it('refuses a Graph budget that cannot hold one whole exchange', () => {
    expect(problems({ GRAPH_BUDGET_MS: '5000', GRAPH_TIMEOUT_MS: '8000' })).toEqual([
      "GRAPH_BUDGET_MS (5000) must be at least GRAPH_TIMEOUT_MS (8000): a decision's budget must hold one whole Graph exchange",
    ]);
  });

  it.each([
    ['RATE_LIMIT_PER_JOB', 'abc', 'RATE_LIMIT_PER_JOB must be a positive integer, got "abc"'],
    ['RATE_LIMIT_PER_JOB', '0', 'RATE_LIMIT_PER_JOB must be a positive integer, got "0"'],
    ['RATE_LIMIT_WINDOW_SECONDS', '-5', 'RATE_LIMIT_WINDOW_SECONDS must be a positive integer, got "-5"'],
    ['START_COOLDOWN_SECONDS', '1.5', 'START_COOLDOWN_SECONDS must be a non-negative integer, got "1.5"'],
    ['PORT', '70000', 'PORT must be a port number (0-65535), got "70000"'],
    ['RECOVERY_ENABLED', 'maybe', 'RECOVERY_ENABLED must be true or false, got "maybe"'],
    ['REQUIRE_GRANTS', 'y', 'REQUIRE_GRANTS must be true or false, got "y"'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    ['GRAPH_MODE', 'mock', 'GRAPH_MODE must be one of live, simulator, got "mock"'],
    ['GRAPH_BASE_URL', 'ftp://x', 'GRAPH_BASE_URL must be a URL (http: or https:), got "ftp://x"'],
  ])('refuses %s=%s with one clear line', (key, value, message) => {
    expect(problems({ [key]: value })).toEqual([message]);
  });

  it('notifications: NOTIFY_WEBHOOK_URL needs a Standard Webhooks secret, never shown in the message', () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    expect(
      loadConfig({ NOTIFY_WEBHOOK_URL: 'https://r.example/h', NOTIFY_WEBHOOK_SECRET: secret }).notify,
    ).toMatchObject({
      webhookUrl: 'https://r.example/h',
      webhookSecret: secret,
      retryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000, 23095],
    });
    expect(loadConfig({}).notify.retryScheduleSeconds.reduce((a, b) => a + b, 0)).toBe(86_400);
    expect(problems({ NOTIFY_WEBHOOK_URL: 'https://r.example/h' })).toEqual([
      'NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET must be set together',
    ]);
    const short = problems({
      NOTIFY_WEBHOOK_URL: 'https://r.example/h',
      NOTIFY_WEBHOOK_SECRET: 'whsec_c2hvcnQ=',
    });
    expect(short).toEqual([
      'NOTIFY_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 bytes',
    ]);
    expect(problems({ NOTIFY_WEBHOOK_URL: 'not a url', NOTIFY_WEBHOOK_SECRET: secret })).toEqual([
      'NOTIFY_WEBHOOK_URL must be a URL (http: or https:), got (hidden)',
      'NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET must be set together',
    ]);
    expect(problems({ NOTIFY_RETRY_SCHEDULE: '5,x' })).toEqual([
      'NOTIFY_RETRY_SCHEDULE must be a comma-separated list of whole seconds (0-604800), e.g. 5,300,1800',
    ]);
  });

  it('reports every bad value at once, one line each', () => {
    expect(problems({ RATE_LIMIT_PER_JOB: 'x', RECOVERY_INTERVAL_SECONDS: 'y', PORT: 'z' })).toHaveLength(3);
  });

  it('never prints a secret value in a message', () => {
    const lines = problems({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    expect(lines).toEqual(['DATABASE_URL must be a URL (postgres: or postgresql:), got (hidden)']);
  });

  it('makes nothing implicit in production', () => {
    const lines = problems({ NODE_ENV: 'production', GRAPH_MODE: 'simulator' });
    expect(lines).toEqual(
      expect.arrayContaining([
        'DATABASE_URL is required in production (NODE_ENV=production)',
        'GRAPH_MODE=simulator is not allowed in production (NODE_ENV=production)',
        'AUTH_ISSUER is required in production (NODE_ENV=production)',
        'AUTH_AUDIENCE is required in production (NODE_ENV=production)',
        'AUDIT_CURSOR_KEY is required in production (NODE_ENV=production): the built-in key is public',
      ]),
    );
    expect(lines.some((l) => l.startsWith('Graph credentials are required in production'))).toBe(true);
  });

  it('accepts a complete production configuration', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://u:p@db:5432/sjg',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET: 's',
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'api://sjg',
      AUDIT_CURSOR_KEY: 'k'.repeat(32),
    });
    expect(c.production).toBe(true);
    expect(c.graph.clientSecret).toBe('s');
  });

  it('refuses a short AUDIT_CURSOR_KEY in production without showing it', () => {
    const lines = problems({ NODE_ENV: 'production', AUDIT_CURSOR_KEY: 'hunter2' });
    expect(lines).toContain('AUDIT_CURSOR_KEY must be at least 32 characters in production, got (hidden)');
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(problems({ AUDIT_CURSOR_KEY: 'short' })).toEqual([]);
  });

  it('refuses a secret and a certificate together', () => {
    expect(problems({ AZURE_CLIENT_SECRET: 's', AZURE_CLIENT_CERTIFICATE_PATH: '/c.pem' })).toEqual([
      'AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are exclusive; set one',
    ]);
  });

  describe('console sign-in', () => {
    const CLIENT = '0d7e5c3a-1b2c-4d5e-8f90-123456789abc';

    it('derives the authority from an Entra ID v2 issuer', () => {
      const c = loadConfig({
        AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
        AUTH_AUDIENCE: 'api://sjg',
        CONSOLE_CLIENT_ID: CLIENT,
        CONSOLE_API_SCOPE: 'api://sjg/user_impersonation',
      });
      expect(c.console).toEqual({
        clientId: CLIENT,
        apiScope: 'api://sjg/user_impersonation',
        authority: 'https://login.microsoftonline.com/t',
        servicePrincipalIds: [],
        devIdentities: null,
      });
    });

    it('needs a scope with a client id, a GUID client id and GUID service principals', () => {
      expect(
        problems({ CONSOLE_CLIENT_ID: 'console', CONSOLE_SERVICE_PRINCIPALS: `${CLIENT},sp-1` }),
      ).toEqual([
        'CONSOLE_CLIENT_ID must be an application (client) id (GUID), got "console"',
        'CONSOLE_API_SCOPE is required with CONSOLE_CLIENT_ID (e.g. api://sync-job-guard/user_impersonation)',
        'CONSOLE_AUTHORITY is required with CONSOLE_CLIENT_ID when AUTH_ISSUER is not an Entra ID v2 issuer',
        'CONSOLE_SERVICE_PRINCIPALS must be a comma-separated list of GUIDs, got "sp-1"',
      ]);
    });

    it('takes an explicit https authority, and refuses another scheme', () => {
      const env = { CONSOLE_CLIENT_ID: CLIENT, CONSOLE_API_SCOPE: 's' };
      expect(
        loadConfig({ ...env, CONSOLE_AUTHORITY: 'https://login.microsoftonline.us/t' }).console.authority,
      ).toBe('https://login.microsoftonline.us/t');
      expect(problems({ ...env, CONSOLE_AUTHORITY: 'http://login/t' })).toEqual([
        'CONSOLE_AUTHORITY must be a URL (https:), got "http://login/t"',
      ]);
    });
  });
});

describe('AUTH_AUDIENCE and AUTH_ISSUER for a real Entra ID tenant', () => {
  const base = {
    AUTH_ISSUER: 'https://login.microsoftonline.com/00000000-0000-4000-8000-000000000001/v2.0',
  };
  it('accepts a comma-separated audience list', () => {
    const c = loadConfig({
      ...base,
      AUTH_AUDIENCE: '6e3c1b0a-1f5d-4c8e-9a7b-2d4f6a8c0e12,api://sync-job-guard',
    });
    expect(c.auth.audience).toBe('6e3c1b0a-1f5d-4c8e-9a7b-2d4f6a8c0e12,api://sync-job-guard');
  });
  it('refuses a list with no audience in it', () => {
    expect(() => loadConfig({ ...base, AUTH_AUDIENCE: ' , ,' })).toThrow(
      /AUTH_AUDIENCE must list at least one/,
    );
  });
  it('refuses the v1 issuer and names the v2 one', () => {
    expect(() =>
      loadConfig({
        AUTH_ISSUER: 'https://sts.windows.net/00000000-0000-4000-8000-000000000001/',
        AUTH_AUDIENCE: 'api://x',
      }),
    ).toThrow(/AUTH_ISSUER must be the Entra ID v2.0 issuer/);
  });
});
