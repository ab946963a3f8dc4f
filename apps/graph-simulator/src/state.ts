import { randomBytes } from 'node:crypto';
import { FaultBook, type ActiveFault, type FaultRule, type FaultTarget } from './faults';
import { toGraphJson } from './job-json';
import {
  applyRelapse,
  enterQuarantine,
  jobKeyOf,
  newJob,
  patchJob,
  pauseTransition,
  restartTransition,
  startTransition,
  type JobPatch,
} from './job-lifecycle';
import type {
  JobSeed,
  QuarantineSeed,
  RestartScope,
  SimJob,
  SimOperation,
  SimStatusCode,
  StatusCasing,
} from './job-types';
import { emptyCounters, Ring, type RequestLogEntry, type SimCounters } from './request-log';
import { Throttle, type ThrottleConfig } from './throttle';

// The names this module has always offered (the simulator's index re-exports them).
export * from './job-types';
export type { ActiveFault, FaultRule } from './faults';
export type { ThrottleConfig } from './throttle';
export type { RequestLogEntry, SimCounters } from './request-log';
export { AUTO_DISABLE_MS, entraNextAttempt, jobKeyOf, parseResetScope } from './job-lifecycle';
export { writeStatus } from './job-json';

/**
 * Everything the simulator knows, reachable in-process by tests: jobs, faults, throttle, tokens,
 * request log and counters. The HTTP layer (simulator.ts) only routes to these methods.
 */
export class SimulatorState {
  private readonly principals = new Map<string, Map<string, SimJob>>();
  private readonly faults = new FaultBook();
  private log: Ring<RequestLogEntry>;
  private counts: SimCounters = emptyCounters();
  private tokens = new Map<string, number>();
  private readonly throttler: Throttle;
  /** Added to every Graph answer (ms). */
  latencyMs: number;
  /** Graph requests need a bearer token issued by this simulator. */
  requireAuth: boolean;
  tokenLifetimeSeconds: number;
  /** `$batch` responses order: Graph may answer out of order. */
  batchOrder: 'inOrder' | 'reverse' | 'shuffle';

  constructor(
    opts: {
      latencyMs?: number;
      requireAuth?: boolean;
      tokenLifetimeSeconds?: number;
      requestLogLimit?: number;
      throttle?: ThrottleConfig | null;
      batchOrder?: 'inOrder' | 'reverse' | 'shuffle';
    } = {},
  ) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.requireAuth = opts.requireAuth ?? true;
    this.tokenLifetimeSeconds = opts.tokenLifetimeSeconds ?? 3600;
    this.log = new Ring(opts.requestLogLimit ?? 50_000);
    this.throttler = new Throttle(opts.throttle ?? null);
    this.batchOrder = opts.batchOrder ?? 'shuffle';
  }

  // ---------------------------------------------------------------- jobs

  /** Makes a service principal exist (with no jobs) so that its list answers 200 `[]` rather than 404. */
  addServicePrincipal(servicePrincipalId: string): void {
    const key = servicePrincipalId.toLowerCase();
    if (!this.principals.has(key)) {
      this.principals.set(key, new Map());
    }
  }

  hasServicePrincipal(servicePrincipalId: string): boolean {
    return this.principals.has(servicePrincipalId.toLowerCase());
  }

  /** Adds or replaces one job. The service principal defaults to the demo one. */
  putJob(seed: JobSeed, defaultServicePrincipalId?: string): SimJob {
    const servicePrincipalId = (seed.servicePrincipalId ?? defaultServicePrincipalId ?? '').toLowerCase();
    if (servicePrincipalId === '') {
      throw new Error(`job ${seed.id} has no servicePrincipalId`);
    }
    const job = newJob(seed, servicePrincipalId, Date.now());
    this.addServicePrincipal(servicePrincipalId);
    this.principals.get(servicePrincipalId)?.set(job.id, job);
    return job;
  }

  putJobs(seeds: JobSeed[], defaultServicePrincipalId?: string): void {
    for (const seed of seeds) {
      this.putJob(seed, defaultServicePrincipalId);
    }
  }

  /**
   * Cheaply seeds `count` jobs `scim.<32 hex>` for one service principal (10 000 take a few ms).
   * Returns their ids in order.
   */
  seedJobs(
    servicePrincipalId: string,
    count: number,
    status: SimStatusCode = 'Paused',
    opts: { prefix?: string; reason?: string; statusCasing?: StatusCasing } = {},
  ): string[] {
    const ids: string[] = [];
    const prefix = opts.prefix ?? 'scim';
    for (let i = 0; i < count; i++) {
      const id = `${prefix}.${i.toString(16).padStart(32, '0')}`;
      this.putJob({
        servicePrincipalId,
        id,
        status,
        ...(opts.statusCasing ? { statusCasing: opts.statusCasing } : {}),
        ...(status === 'Quarantine'
          ? { quarantine: { reason: opts.reason ?? 'EncounteredQuarantineException' } }
          : {}),
      });
      ids.push(id);
    }
    return ids;
  }

  /** The job as the simulator holds it (relapse applied), or undefined. */
  getJob(servicePrincipalId: string, jobId: string): SimJob | undefined {
    const job = this.principals.get(servicePrincipalId.toLowerCase())?.get(jobId);
    if (job) {
      applyRelapse(job, Date.now());
    }
    return job;
  }

  listJobs(servicePrincipalId: string): SimJob[] | undefined {
    const jobs = this.principals.get(servicePrincipalId.toLowerCase());
    if (!jobs) {
      return undefined;
    }
    const now = Date.now();
    const out = [...jobs.values()];
    for (const job of out) {
      applyRelapse(job, now);
    }
    return out;
  }

  allJobs(): SimJob[] {
    return [...this.principals.values()].flatMap((m) => [...m.values()]);
  }

  removeJob(servicePrincipalId: string, jobId: string): boolean {
    return this.principals.get(servicePrincipalId.toLowerCase())?.delete(jobId) ?? false;
  }

  clearJobs(): void {
    this.principals.clear();
  }

  /** Changes a job's fields in place (status, casing, relapse ...). */
  updateJob(servicePrincipalId: string, jobId: string, patch: JobPatch): SimJob {
    const job = this.mustGet(servicePrincipalId, jobId);
    patchJob(job, patch, Date.now());
    return job;
  }

  /** Puts a job in quarantine, continuing its series (seriesBegan kept, seriesCount + 1) when already in one. */
  quarantine(servicePrincipalId: string, jobId: string, seed: QuarantineSeed): SimJob {
    const job = this.mustGet(servicePrincipalId, jobId);
    enterQuarantine(job, seed, Date.now());
    return job;
  }

  private mustGet(servicePrincipalId: string, jobId: string): SimJob {
    const job = this.principals.get(servicePrincipalId.toLowerCase())?.get(jobId);
    if (!job) {
      throw new Error(`no job ${jobId} under ${servicePrincipalId}`);
    }
    return job;
  }

  /** Graph's start semantics. Returns whether the start was harmful (job was not Paused / Quarantine). */
  applyStart(job: SimJob): { harmful: boolean } {
    const now = Date.now();
    applyRelapse(job, now);
    const key = jobKeyOf(job.servicePrincipalId, job.id);
    this.counts.starts += 1;
    this.counts.startsByJob[key] = (this.counts.startsByJob[key] ?? 0) + 1;
    const result = startTransition(job, now);
    if (result.harmful) {
      this.counts.harmfulStarts += 1;
      this.counts.harmfulStartsByJob[key] = (this.counts.harmfulStartsByJob[key] ?? 0) + 1;
    }
    return result;
  }

  /** Graph's restart with the given scopes (see restartTransition for what each scope clears). */
  applyRestart(job: SimJob, requested: RestartScope[]): void {
    const now = Date.now();
    applyRelapse(job, now);
    this.counts.restarts += 1;
    restartTransition(job, requested, now);
  }

  applyPause(job: SimJob): void {
    applyRelapse(job, Date.now());
    this.counts.pauses += 1;
    pauseTransition(job);
  }

  /** The synchronizationJob JSON Graph would answer. */
  toGraphJson(job: SimJob): Record<string, unknown> {
    return toGraphJson(job);
  }

  // ---------------------------------------------------------------- faults and throttle

  addFault(rule: FaultRule): string {
    return this.faults.add(rule);
  }

  removeFault(id: string): boolean {
    return this.faults.remove(id);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  listFaults(): ActiveFault[] {
    return this.faults.list();
  }

  /** Shortcut: the permission problem Graph reports on sync endpoints (`401 UnknownError`, empty message). */
  denyPermission(operation?: SimOperation, style: '401-unknown' | '403-denied' = '401-unknown'): string {
    return this.addFault({
      ...(operation ? { operation } : {}),
      status: style === '401-unknown' ? 401 : 403,
      code: style === '401-unknown' ? 'UnknownError' : 'Authorization_RequestDenied',
      message: style === '401-unknown' ? '' : 'Insufficient privileges to complete the operation.',
    });
  }

  /** Finds the first matching rule and uses one of its `times`. */
  takeFault(req: FaultTarget): ActiveFault | null {
    const fault = this.faults.take(req);
    if (fault) {
      this.counts.faultsFired += 1;
    }
    return fault;
  }

  setThrottle(config: ThrottleConfig | null): void {
    this.throttler.set(config);
  }

  /** Counts one request against the throttle; returns the Retry-After seconds when it is over the limit. */
  throttle(operation: SimOperation): number | null {
    const retryAfter = this.throttler.take(operation);
    if (retryAfter !== null) {
      this.counts.throttled += 1;
    }
    return retryAfter;
  }

  // ---------------------------------------------------------------- tokens

  issueToken(): { token: string; expiresIn: number } {
    const now = Date.now();
    if (this.tokens.size > 1000) {
      for (const [t, exp] of this.tokens) {
        if (exp <= now) {
          this.tokens.delete(t);
        }
      }
    }
    const token = `simtok.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, now + this.tokenLifetimeSeconds * 1000);
    this.counts.tokensIssued += 1;
    return { token, expiresIn: this.tokenLifetimeSeconds };
  }

  isTokenValid(token: string): boolean {
    const exp = this.tokens.get(token);
    return exp !== undefined && exp > Date.now();
  }

  /** Makes every issued token invalid (as if expired or revoked): the next Graph call gets 401. */
  expireTokens(): void {
    this.tokens.clear();
  }

  // ---------------------------------------------------------------- log and counters

  record(entry: RequestLogEntry): void {
    this.log.push(entry);
  }

  /** The request log, oldest first (bounded by `requestLogLimit`). */
  requests(filter: Partial<Pick<RequestLogEntry, 'operation' | 'jobId' | 'method'>> = {}): RequestLogEntry[] {
    return this.log
      .toArray()
      .filter(
        (e) =>
          (filter.operation === undefined || e.operation === filter.operation) &&
          (filter.jobId === undefined || e.jobId === filter.jobId) &&
          (filter.method === undefined || e.method === filter.method),
      );
  }

  /** Mutable counters for the HTTP layer. */
  get mutableCounters(): SimCounters {
    return this.counts;
  }

  counters(): SimCounters {
    return {
      ...this.counts,
      startsByJob: { ...this.counts.startsByJob },
      harmfulStartsByJob: { ...this.counts.harmfulStartsByJob },
    };
  }

  /** Starts acted on for one job. */
  startsFor(servicePrincipalId: string, jobId: string): number {
    return this.counts.startsByJob[jobKeyOf(servicePrincipalId, jobId)] ?? 0;
  }

  resetCounters(): void {
    this.counts = emptyCounters();
  }

  resetLog(): void {
    this.log.clear();
  }

  /** Back to a clean state: no jobs, faults or throttle; counters and log cleared. Issued tokens stay valid. */
  reset(): void {
    this.clearJobs();
    this.clearFaults();
    this.setThrottle(null);
    this.resetCounters();
    this.resetLog();
  }
}
