import { ConfigError, ConfigReader, type Env } from './config-reader';
import {
  readAccess,
  readAudit,
  readAuth,
  readConsole,
  readGraph,
  readGuard,
  readNotify,
  readRecovery,
  readServer,
} from './config-sections';

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

export { ConfigError } from './config-reader';
export { DEFAULT_RETRY_SCHEDULE_SECONDS, entraAuthorityOf, isWebhookSecret } from './config-sections';

/**
 * Builds and validates the configuration, one area at a time (config-sections.ts); throws ConfigError with one
 * line per problem, grouped by area.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const r = new ConfigReader(env);
  const server = readServer(r, env);
  const graph = readGraph(r, server.production);
  const auth = readAuth(r, server.production);
  const config: AppConfig = {
    ...server,
    graph,
    auth,
    guard: readGuard(r, graph.budgetMs),
    recovery: readRecovery(r),
    ...readAccess(r),
    ...readAudit(r, env, server.production),
    notify: readNotify(r),
    console: readConsole(r, auth.issuer),
  };
  if (r.problems.length > 0) {
    throw new ConfigError(r.problems);
  }
  return config;
}

/** True when the caller configured who may call us; otherwise only the development launcher may supply it. */
export function hasAuthConfig(config: AppConfig): boolean {
  return config.auth.issuer !== null && config.auth.audience !== null;
}
