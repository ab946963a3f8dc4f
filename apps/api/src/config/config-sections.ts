import { hostname } from 'node:os';
import { GUID_PATTERN, needsPersonReasons } from '@app/common';
import { decisionLeaseSeconds } from '../jobs/guard-policy';
import type { AppConfig, ConsoleConfig, NotifyConfig } from './app-config';
import type { ConfigReader, Env } from './config-reader';

/**
 * One reader per area of the configuration: each reads its variables, checks how they fit together, and adds
 * one line per problem to the reader.
 */

/** A production cursor key at least this long (e.g. `openssl rand -base64 32`). */
const MIN_CURSOR_KEY_LENGTH = 32;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const PRODUCTION_ONLY = '(NODE_ENV=production)';

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

/** https://login.microsoftonline.com/<tenant>/v2.0 → https://login.microsoftonline.com/<tenant>; else null. */
export function entraAuthorityOf(issuer: string | null): string | null {
  const m = issuer === null ? null : /^(https:\/\/[^/]+\/[^/]+)\/v2\.0\/?$/.exec(issuer);
  return m?.[1] ?? null;
}

type ServerConfig = Pick<
  AppConfig,
  | 'production'
  | 'port'
  | 'host'
  | 'databaseUrl'
  | 'databasePoolMax'
  | 'replicaId'
  | 'logLevel'
  | 'metricsToken'
  | 'shutdownTimeoutSeconds'
  | 'bodyLimitBytes'
  | 'corsOrigins'
>;

/** The process: listening, database, replica identity, logs, metrics, shutdown and request limits. */
export function readServer(r: ConfigReader, env: Env): ServerConfig {
  const production = env.NODE_ENV === 'production';
  const server: ServerConfig = {
    production,
    databaseUrl: r.url('DATABASE_URL', null, ['postgres:', 'postgresql:']),
    port: r.int('PORT', 3000, 0, 65535, 'a port number (0-65535)'),
    host: r.str('HOST') ?? '0.0.0.0',
    databasePoolMax: r.int('DATABASE_POOL_MAX', 10, 1, 1000),
    replicaId: r.str('REPLICA_ID') ?? `${hostname()}:${process.pid}`,
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    metricsToken: r.str('METRICS_TOKEN'),
    shutdownTimeoutSeconds: r.int('SHUTDOWN_TIMEOUT_SECONDS', 25, 1, 3600, 'an integer between 1 and 3600'),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 16_384, 256, 10_485_760, 'an integer between 256 and 10485760'),
    corsOrigins: r.list('CORS_ORIGINS', []),
  };
  if (production && server.databaseUrl === null) {
    r.problems.push(`DATABASE_URL is required in production ${PRODUCTION_ONLY}`);
  }
  return server;
}

/** Microsoft Graph: where, how long, and with which credential. */
export function readGraph(r: ConfigReader, production: boolean): AppConfig['graph'] {
  const baseUrl =
    r.url('GRAPH_BASE_URL', 'https://graph.microsoft.com/v1.0') ?? 'https://graph.microsoft.com/v1.0';
  const mode = r.oneOf('GRAPH_MODE', ['live', 'simulator'] as const, 'live');
  const timeoutMs = r.int('GRAPH_TIMEOUT_MS', 10_000, 100, 120_000, 'an integer between 100 and 120000');
  const budgetMs = r.int('GRAPH_BUDGET_MS', 15_000, 100, 300_000, 'an integer between 100 and 300000');
  const g: AppConfig['graph'] = {
    mode,
    baseUrl,
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
  };
  const p = r.problems;
  if (budgetMs < timeoutMs) {
    // The single-flight lease is derived from the budget; a budget shorter than one exchange cannot hold a decision.
    p.push(
      `GRAPH_BUDGET_MS (${budgetMs}) must be at least GRAPH_TIMEOUT_MS (${timeoutMs}): a decision's budget must hold one whole Graph exchange`,
    );
  }
  if (g.clientSecret !== null && g.certificatePath !== null) {
    p.push('AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are exclusive; set one');
  }
  const hasCredential =
    g.useManagedIdentity ||
    (g.tenantId !== null &&
      g.clientId !== null &&
      (g.clientSecret ?? g.certificatePath ?? g.federatedTokenFile) !== null);
  if (production && g.mode === 'simulator') {
    p.push(`GRAPH_MODE=simulator is not allowed in production ${PRODUCTION_ONLY}`);
  }
  if (production && !hasCredential) {
    p.push(
      'Graph credentials are required in production: AZURE_TENANT_ID, AZURE_CLIENT_ID and one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE (or AZURE_USE_MANAGED_IDENTITY=true)',
    );
  }
  return g;
}

/** Who may call us: the token issuer, audiences and keys. */
export function readAuth(r: ConfigReader, production: boolean): AppConfig['auth'] {
  const auth: AppConfig['auth'] = {
    issuer: r.str('AUTH_ISSUER'),
    audience: r.str('AUTH_AUDIENCE'),
    jwksUri: r.url('AUTH_JWKS_URI', null),
    clockToleranceSeconds: r.int('AUTH_CLOCK_TOLERANCE_SECONDS', 60, 0, 600, 'an integer between 0 and 600'),
  };
  const p = r.problems;
  if (production) {
    for (const [key, value] of [
      ['AUTH_ISSUER', auth.issuer],
      ['AUTH_AUDIENCE', auth.audience],
    ] as const) {
      if (value === null) {
        p.push(`${key} is required in production ${PRODUCTION_ONLY}`);
      }
    }
  } else if (
    (auth.issuer === null || auth.audience === null) &&
    (auth.issuer !== null || auth.audience !== null || auth.jwksUri !== null)
  ) {
    p.push('AUTH_ISSUER and AUTH_AUDIENCE must be set together');
  }
  if (auth.audience !== null && r.list('AUTH_AUDIENCE', []).length === 0) {
    p.push(
      "AUTH_AUDIENCE must list at least one audience (the API's client id and/or App ID URI, comma-separated)",
    );
  }
  if (auth.issuer?.startsWith('https://sts.windows.net/')) {
    p.push(
      'AUTH_ISSUER must be the Entra ID v2.0 issuer https://login.microsoftonline.com/<tenant id>/v2.0 (and the API app registration must set "requestedAccessTokenVersion": 2)',
    );
  }
  return auth;
}

/** The guard's limits; the single-flight lease follows from the Graph budget. */
export function readGuard(r: ConfigReader, graphBudgetMs: number): AppConfig['guard'] {
  return {
    rateLimitPerJob: r.int('RATE_LIMIT_PER_JOB', 5, 1),
    rateLimitWindowSeconds: r.int('RATE_LIMIT_WINDOW_SECONDS', 300, 1),
    startCooldownSeconds: r.int(
      'START_COOLDOWN_SECONDS',
      600,
      0,
      Number.MAX_SAFE_INTEGER,
      'a non-negative integer',
    ),
    leaseSeconds: decisionLeaseSeconds(graphBudgetMs),
    refusalsPerCaller: r.int('AUDIT_REFUSALS_PER_CALLER', 100, 1, 2_147_483_647),
    refusalWindowSeconds: r.int(
      'AUDIT_REFUSAL_WINDOW_SECONDS',
      60,
      1,
      86_400,
      'an integer between 1 and 86400',
    ),
  };
}

export function readRecovery(r: ConfigReader): AppConfig['recovery'] {
  return {
    enabled: r.bool('RECOVERY_ENABLED', true),
    intervalSeconds: r.int('RECOVERY_INTERVAL_SECONDS', 300, 1),
    maxAttempts: r.int('RECOVERY_MAX_ATTEMPTS', 6, 1),
    needsPersonReasons: needsPersonReasons(r.list('RECOVERY_NEEDS_PERSON_REASONS', [])),
    backoffSeconds: [300, 900, 3600, 14400],
  };
}

/** Grants and the two-person rule. */
export function readAccess(r: ConfigReader): Pick<AppConfig, 'requireGrants' | 'approvalTtlSeconds'> {
  return {
    requireGrants: r.bool('REQUIRE_GRANTS', false),
    approvalTtlSeconds: r.int(
      'APPROVAL_TTL_SECONDS',
      3600,
      60,
      7 * 24 * 3600,
      'an integer between 60 and 604800',
    ),
  };
}

/** The audit trail: retention and the cursors' key (required, and long enough, in production). */
export function readAudit(
  r: ConfigReader,
  env: Env,
  production: boolean,
): Pick<AppConfig, 'auditRetentionDays' | 'auditCursorKey'> {
  const auditRetentionDays = env.AUDIT_RETENTION_DAYS?.trim() ? r.int('AUDIT_RETENTION_DAYS', 0, 1) : null;
  const auditCursorKey = r.str('AUDIT_CURSOR_KEY');
  if (production && auditCursorKey === null) {
    r.problems.push(
      `AUDIT_CURSOR_KEY is required in production ${PRODUCTION_ONLY}: the built-in key is public`,
    );
  } else if (production && auditCursorKey !== null && auditCursorKey.length < MIN_CURSOR_KEY_LENGTH) {
    r.problems.push(
      `AUDIT_CURSOR_KEY must be at least ${MIN_CURSOR_KEY_LENGTH} characters in production, got (hidden)`,
    );
  }
  return { auditRetentionDays, auditCursorKey };
}

export function readNotify(r: ConfigReader): NotifyConfig {
  const n: NotifyConfig = {
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
  };
  const p = r.problems;
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
  return n;
}

/** The operator console; its MSAL authority defaults to the one of an Entra ID v2 AUTH_ISSUER. */
export function readConsole(r: ConfigReader, authIssuer: string | null): ConsoleConfig {
  const c: ConsoleConfig = {
    clientId: r.str('CONSOLE_CLIENT_ID'),
    apiScope: r.str('CONSOLE_API_SCOPE'),
    authority: r.url('CONSOLE_AUTHORITY', null, ['https:']),
    servicePrincipalIds: r.list('CONSOLE_SERVICE_PRINCIPALS', []),
    devIdentities: null,
  };
  const p = r.problems;
  if (c.clientId !== null && !GUID_PATTERN.test(c.clientId)) {
    p.push(`CONSOLE_CLIENT_ID must be an application (client) id (GUID), got ${JSON.stringify(c.clientId)}`);
  }
  if (c.clientId !== null && c.apiScope === null) {
    p.push(
      'CONSOLE_API_SCOPE is required with CONSOLE_CLIENT_ID (e.g. api://sync-job-guard/user_impersonation)',
    );
  }
  if (c.clientId !== null && c.authority === null && r.str('CONSOLE_AUTHORITY') === null) {
    c.authority = entraAuthorityOf(authIssuer);
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
  return c;
}
