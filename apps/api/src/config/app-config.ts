import { hostname } from 'node:os';
import { GUID_PATTERN, needsPersonReasons } from '@app/common';
import { decisionLeaseSeconds } from '../jobs/guard-policy';

/** The service's configuration (DESIGN section 4), built once at boot from the environment and validated. */
export interface AppConfig {
  production: boolean;
  port: number;
  host: string;
  /** null only outside production: the zero-setup launcher supplies an embedded database. */
  databaseUrl: string | null;
  databasePoolMax: number;
  replicaId: string;
  graph: {
    mode: 'live' | 'simulator';
    baseUrl: string;
    tenantId: string | null;
    clientId: string | null;
    clientSecret: string | null;
    certificatePath: string | null;
    federatedTokenFile: string | null;
    authorityHost: string | null;
    useManagedIdentity: boolean;
    /** Extra CA (PEM) to trust for Graph and the token authority, e.g. the simulator's self-signed one. */
    tlsCaCertificate: string | null;
    timeoutMs: number;
    /** Time budget of one guarded decision's Graph work, retries included. */
    budgetMs: number;
  };
  auth: {
    issuer: string | null;
    /** AUTH_AUDIENCE as given: one or more comma-separated accepted `aud` values. */
    audience: string | null;
    jwksUri: string | null;
    clockToleranceSeconds: number;
  };
  guard: {
    rateLimitPerJob: number;
    rateLimitWindowSeconds: number;
    startCooldownSeconds: number;
    /** Lease of the single-flight lock; longer than the Graph budget. */
    leaseSeconds: number;
    /** Refusals (denied, rejected, rate_limited) of one caller stored per window; the rest are only counted. */
    refusalsPerCaller: number;
    refusalWindowSeconds: number;
  };
  recovery: {
    enabled: boolean;
    intervalSeconds: number;
    maxAttempts: number;
    /** The built-in reasons that need a person, plus RECOVERY_NEEDS_PERSON_REASONS (added, never removing one). */
    needsPersonReasons: string[];
    backoffSeconds: number[];
  };
  requireGrants: boolean;
  /** How long an approval request of the two-person rule stays open (DESIGN 2c). */
  approvalTtlSeconds: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  metricsToken: string | null;
  auditRetentionDays: number | null;
  /** Key of the audit cursors' MAC; the same on every replica. */
  auditCursorKey: string | null;
  shutdownTimeoutSeconds: number;
  bodyLimitBytes: number;
  corsOrigins: string[];
  notify: NotifyConfig;
  /** The operator console at /console (DESIGN section 2e). */
  console: ConsoleConfig;
}

/** A role the development launcher signs a token for, shown in the console's role switcher. */
export interface ConsoleDevIdentity {
  role: 'Admin' | 'Second admin' | 'Start' | 'Read';
  name: string;
  token: string;
}

export interface ConsoleConfig {
  /** Entra ID application (client) id of the console's single-page app registration; null: no MSAL sign-in. */
  clientId: string | null;
  /** Delegated scope the console asks for, e.g. api://sync-job-guard/user_impersonation. */
  apiScope: string | null;
  /** Entra ID authority, e.g. https://login.microsoftonline.com/<tenant>. */
  authority: string | null;
  /** Service principals the Jobs view lists besides the watched ones. */
  servicePrincipalIds: string[];
  /** Development only: tokens per role, set by the development launcher (never from the environment). */
  devIdentities: ConsoleDevIdentity[] | null;
}

/** Notifications (DESIGN section 2d). */
export interface NotifyConfig {
  /** NOTIFY_WEBHOOK_URL + NOTIFY_WEBHOOK_SECRET: one webhook destination for every event, no API call. */
  webhookUrl: string | null;
  webhookSecret: string | null;
  /** Whether this replica delivers (every replica may; SKIP LOCKED and leases share the work). */
  dispatchEnabled: boolean;
  /** Waits after the 1st, 2nd, … failed try; after the last one the delivery is dead-lettered. */
  retryScheduleSeconds: number[];
  timeoutMs: number;
  concurrency: number;
  pollIntervalMs: number;
  /** Base URL of the operator console, for links in messages (e.g. https://guard.example/console). */
  consoleUrl: string | null;
  /** Delivered events are removed after this many days (pending and dead-lettered ones stay). */
  retentionDays: number;
}

/**
 * Standard Webhooks' suggested schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h), with a last wait that ends the
 * tries 24 h after the first: 8 tries, then the dead letter.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 23095];

/** A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
export function isWebhookSecret(value: string): boolean {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  if (!m?.[1]) {
    return false;
  }
  const bytes = Buffer.from(m[1], 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const SECRET_KEYS = new Set([
  'AZURE_CLIENT_SECRET',
  'METRICS_TOKEN',
  'DATABASE_URL',
  'AUDIT_CURSOR_KEY',
  'NOTIFY_WEBHOOK_URL',
  'NOTIFY_WEBHOOK_SECRET',
]);
/** A production cursor key at least this long (e.g. `openssl rand -base64 32`). */
const MIN_CURSOR_KEY_LENGTH = 32;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(key: string): string | undefined {
    const v = this.env[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  private shown(key: string, value: string): string {
    return SECRET_KEYS.has(key) ? '(hidden)' : JSON.stringify(value);
  }

  str(key: string): string | null {
    return this.raw(key) ?? null;
  }

  int(
    key: string,
    def: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    what = 'a positive integer',
  ): number {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push(`${key} must be ${what}, got ${this.shown(key, v)}`);
      return def;
    }
    return Number(v);
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    if (/^(true|1|yes)$/i.test(v)) {
      return true;
    }
    if (/^(false|0|no)$/i.test(v)) {
      return false;
    }
    this.problems.push(`${key} must be true or false, got ${this.shown(key, v)}`);
    return def;
  }

  url(key: string, def: string | null, protocols = ['http:', 'https:']): string | null {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) {
        throw new Error('protocol');
      }
      return v.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${key} must be a URL (${protocols.join(' or ')}), got ${this.shown(key, v)}`);
      return def;
    }
  }

  oneOf<T extends string>(key: string, values: readonly T[], def: T): T {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    if (!(values as readonly string[]).includes(v)) {
      this.problems.push(`${key} must be one of ${values.join(', ')}, got ${this.shown(key, v)}`);
      return def;
    }
    return v as T;
  }

  list(key: string, def: string[]): string[] {
    const v = this.raw(key);
    return v === undefined
      ? def
      : v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
  }
}

/** Builds and validates the configuration; throws ConfigError with one line per problem. */
export function loadConfig(env: Env = process.env): AppConfig {
  const r = new Reader(env);
  const production = env.NODE_ENV === 'production';
  const databaseUrl = r.url('DATABASE_URL', null, ['postgres:', 'postgresql:']);
  const graphBaseUrl =
    r.url('GRAPH_BASE_URL', 'https://graph.microsoft.com/v1.0') ?? 'https://graph.microsoft.com/v1.0';
  const graphMode = r.oneOf('GRAPH_MODE', ['live', 'simulator'] as const, 'live');
  const timeoutMs = r.int('GRAPH_TIMEOUT_MS', 10_000, 100, 120_000, 'an integer between 100 and 120000');
  const budgetMs = r.int('GRAPH_BUDGET_MS', 15_000, 100, 300_000, 'an integer between 100 and 300000');
  const config: AppConfig = {
    production,
    port: r.int('PORT', 3000, 0, 65535, 'a port number (0-65535)'),
    host: r.str('HOST') ?? '0.0.0.0',
    databaseUrl,
    databasePoolMax: r.int('DATABASE_POOL_MAX', 10, 1, 1000),
    replicaId: r.str('REPLICA_ID') ?? `${hostname()}:${process.pid}`,
    graph: {
      mode: graphMode,
      baseUrl: graphBaseUrl,
      tenantId: r.str('AZURE_TENANT_ID'),
      clientId: r.str('AZURE_CLIENT_ID'),
      clientSecret: r.str('AZURE_CLIENT_SECRET'),
      certificatePath: r.str('AZURE_CLIENT_CERTIFICATE_PATH'),
      federatedTokenFile: r.str('AZURE_FEDERATED_TOKEN_FILE'),
      authorityHost: r.url('AZURE_AUTHORITY_HOST', null),
      useManagedIdentity: r.bool('AZURE_USE_MANAGED_IDENTITY', false),
      tlsCaCertificate: null,
      timeoutMs,
      budgetMs,
    },
    auth: {
      issuer: r.str('AUTH_ISSUER'),
      audience: r.str('AUTH_AUDIENCE'),
      jwksUri: r.url('AUTH_JWKS_URI', null),
      clockToleranceSeconds: r.int(
        'AUTH_CLOCK_TOLERANCE_SECONDS',
        60,
        0,
        600,
        'an integer between 0 and 600',
      ),
    },
    guard: {
      rateLimitPerJob: r.int('RATE_LIMIT_PER_JOB', 5, 1),
      rateLimitWindowSeconds: r.int('RATE_LIMIT_WINDOW_SECONDS', 300, 1),
      startCooldownSeconds: r.int(
        'START_COOLDOWN_SECONDS',
        600,
        0,
        Number.MAX_SAFE_INTEGER,
        'a non-negative integer',
      ),
      leaseSeconds: decisionLeaseSeconds(budgetMs),
      refusalsPerCaller: r.int('AUDIT_REFUSALS_PER_CALLER', 100, 1, 2_147_483_647),
      refusalWindowSeconds: r.int(
        'AUDIT_REFUSAL_WINDOW_SECONDS',
        60,
        1,
        86_400,
        'an integer between 1 and 86400',
      ),
    },
    recovery: {
      enabled: r.bool('RECOVERY_ENABLED', true),
      intervalSeconds: r.int('RECOVERY_INTERVAL_SECONDS', 300, 1),
      maxAttempts: r.int('RECOVERY_MAX_ATTEMPTS', 6, 1),
      needsPersonReasons: needsPersonReasons(r.list('RECOVERY_NEEDS_PERSON_REASONS', [])),
      backoffSeconds: [300, 900, 3600, 14400],
    },
    requireGrants: r.bool('REQUIRE_GRANTS', false),
    approvalTtlSeconds: r.int(
      'APPROVAL_TTL_SECONDS',
      3600,
      60,
      7 * 24 * 3600,
      'an integer between 60 and 604800',
    ),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    metricsToken: r.str('METRICS_TOKEN'),
    auditRetentionDays: env.AUDIT_RETENTION_DAYS?.trim() ? r.int('AUDIT_RETENTION_DAYS', 0, 1) : null,
    auditCursorKey: r.str('AUDIT_CURSOR_KEY'),
    shutdownTimeoutSeconds: r.int('SHUTDOWN_TIMEOUT_SECONDS', 25, 1, 3600, 'an integer between 1 and 3600'),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 16_384, 256, 10_485_760, 'an integer between 256 and 10485760'),
    corsOrigins: r.list('CORS_ORIGINS', []),
    notify: {
      webhookUrl: r.url('NOTIFY_WEBHOOK_URL', null),
      webhookSecret: r.str('NOTIFY_WEBHOOK_SECRET'),
      dispatchEnabled: r.bool('NOTIFY_DISPATCH_ENABLED', true),
      retryScheduleSeconds: r
        .list('NOTIFY_RETRY_SCHEDULE', DEFAULT_RETRY_SCHEDULE_SECONDS.map(String))
        .map(Number),
      timeoutMs: r.int('NOTIFY_TIMEOUT_MS', 10_000, 100, 120_000, 'an integer between 100 and 120000'),
      concurrency: r.int('NOTIFY_CONCURRENCY', 8, 1, 256, 'an integer between 1 and 256'),
      pollIntervalMs: r.int(
        'NOTIFY_POLL_INTERVAL_MS',
        1000,
        50,
        3_600_000,
        'an integer between 50 and 3600000',
      ),
      consoleUrl: r.url('NOTIFY_CONSOLE_URL', null),
      retentionDays: r.int('NOTIFY_RETENTION_DAYS', 30, 1),
    },
    console: {
      clientId: r.str('CONSOLE_CLIENT_ID'),
      apiScope: r.str('CONSOLE_API_SCOPE'),
      authority: r.url('CONSOLE_AUTHORITY', null, ['https:']),
      servicePrincipalIds: r.list('CONSOLE_SERVICE_PRINCIPALS', []),
      devIdentities: null,
    },
  };

  const p = r.problems;
  const n = config.notify;
  if (n.retryScheduleSeconds.some((v) => !Number.isInteger(v) || v < 0 || v > 604_800)) {
    p.push(
      'NOTIFY_RETRY_SCHEDULE must be a comma-separated list of whole seconds (0-604800), e.g. 5,300,1800',
    );
    n.retryScheduleSeconds = DEFAULT_RETRY_SCHEDULE_SECONDS;
  }
  if ((n.webhookUrl === null) !== (n.webhookSecret === null)) {
    p.push('NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET must be set together');
  } else if (n.webhookSecret !== null && !isWebhookSecret(n.webhookSecret)) {
    p.push(
      'NOTIFY_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 bytes',
    );
  }
  const g = config.graph;
  if (budgetMs < timeoutMs) {
    // The single-flight lease is derived from the budget; a budget shorter than one exchange cannot hold a decision.
    p.push(
      `GRAPH_BUDGET_MS (${budgetMs}) must be at least GRAPH_TIMEOUT_MS (${timeoutMs}): a decision's budget must hold one whole Graph exchange`,
    );
  }
  const hasGraphCredential =
    g.useManagedIdentity ||
    (g.tenantId !== null &&
      g.clientId !== null &&
      (g.clientSecret ?? g.certificatePath ?? g.federatedTokenFile) !== null);
  if (g.clientSecret !== null && g.certificatePath !== null) {
    p.push('AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are exclusive; set one');
  }
  if (production) {
    if (databaseUrl === null) {
      p.push('DATABASE_URL is required in production (NODE_ENV=production)');
    }
    if (g.mode === 'simulator') {
      p.push('GRAPH_MODE=simulator is not allowed in production (NODE_ENV=production)');
    }
    if (!hasGraphCredential) {
      p.push(
        'Graph credentials are required in production: AZURE_TENANT_ID, AZURE_CLIENT_ID and one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE (or AZURE_USE_MANAGED_IDENTITY=true)',
      );
    }
    for (const key of ['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
      if (r.str(key) === null) {
        p.push(`${key} is required in production (NODE_ENV=production)`);
      }
    }
    if (config.auditCursorKey === null) {
      p.push('AUDIT_CURSOR_KEY is required in production (NODE_ENV=production): the built-in key is public');
    } else if (config.auditCursorKey.length < MIN_CURSOR_KEY_LENGTH) {
      p.push(
        `AUDIT_CURSOR_KEY must be at least ${MIN_CURSOR_KEY_LENGTH} characters in production, got (hidden)`,
      );
    }
  } else if (config.auth.issuer === null || config.auth.audience === null) {
    if (config.auth.issuer !== null || config.auth.audience !== null || config.auth.jwksUri !== null) {
      p.push('AUTH_ISSUER and AUTH_AUDIENCE must be set together');
    }
  }
  if (config.auth.audience !== null && r.list('AUTH_AUDIENCE', []).length === 0) {
    p.push(
      "AUTH_AUDIENCE must list at least one audience (the API's client id and/or App ID URI, comma-separated)",
    );
  }
  if (config.auth.issuer?.startsWith('https://sts.windows.net/')) {
    p.push(
      'AUTH_ISSUER must be the Entra ID v2.0 issuer https://login.microsoftonline.com/<tenant id>/v2.0 (and the API app registration must set "requestedAccessTokenVersion": 2)',
    );
  }
  const c = config.console;
  if (c.clientId !== null && !GUID_PATTERN.test(c.clientId)) {
    p.push(`CONSOLE_CLIENT_ID must be an application (client) id (GUID), got ${JSON.stringify(c.clientId)}`);
  }
  if (c.clientId !== null && c.apiScope === null) {
    p.push(
      'CONSOLE_API_SCOPE is required with CONSOLE_CLIENT_ID (e.g. api://sync-job-guard/user_impersonation)',
    );
  }
  if (c.clientId !== null && c.authority === null && r.str('CONSOLE_AUTHORITY') === null) {
    c.authority = entraAuthorityOf(config.auth.issuer);
    if (c.authority === null) {
      p.push(
        'CONSOLE_AUTHORITY is required with CONSOLE_CLIENT_ID when AUTH_ISSUER is not an Entra ID v2 issuer',
      );
    }
  }
  const badSp = c.servicePrincipalIds.find((id) => !GUID_PATTERN.test(id));
  if (badSp !== undefined) {
    p.push(
      `CONSOLE_SERVICE_PRINCIPALS must be a comma-separated list of GUIDs, got ${JSON.stringify(badSp)}`,
    );
  }
  if (p.length > 0) {
    throw new ConfigError(p);
  }
  return config;
}

/** https://login.microsoftonline.com/<tenant>/v2.0 → https://login.microsoftonline.com/<tenant>; else null. */
export function entraAuthorityOf(issuer: string | null): string | null {
  const m = issuer === null ? null : /^(https:\/\/[^/]+\/[^/]+)\/v2\.0\/?$/.exec(issuer);
  return m?.[1] ?? null;
}

/** True when the caller configured who may call us; otherwise only the development launcher may supply it. */
export function hasAuthConfig(config: AppConfig): boolean {
  return config.auth.issuer !== null && config.auth.audience !== null;
}
