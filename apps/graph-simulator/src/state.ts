import { randomBytes } from 'node:crypto';

export const SIM_STATUS_CODES = ['NotConfigured', 'NotRun', 'Active', 'Paused', 'Quarantine'] as const;
export type SimStatusCode = (typeof SIM_STATUS_CODES)[number];

/** How `status.code` is written on the wire. Graph writes PascalCase; the others test tolerant readers. */
export type StatusCasing = 'PascalCase' | 'camelCase' | 'lowercase' | 'UPPERCASE';

export interface SimSyncError {
  code: string;
  message: string;
  tenantActionable: boolean;
}

export interface SimQuarantine {
  reason: string;
  currentBegan: string;
  nextAttempt: string;
  seriesBegan: string;
  seriesCount: number;
  error: SimSyncError | null;
}

export interface SimJob {
  servicePrincipalId: string;
  id: string;
  templateId: string;
  status: SimStatusCode;
  statusCasing: StatusCasing;
  /** Written verbatim as `status.code` when set (e.g. an unknown future value). */
  rawStatusCode: string | null;
  /** Kept after a pause out of quarantine (stale), as Graph may do; cleared by start. */
  quarantine: SimQuarantine | null;
  /** Without a quarantine, write Graph's documented object of empty strings instead of null. */
  emptyQuarantineObject: boolean;
  /** After a start out of quarantine, fall back into quarantine after `afterMs` (the cause was not fixed). */
  relapse: { reason: string; afterMs: number } | null;
  relapseAt: number | null;
  /** The quarantine a start cleared: a relapse continues its series. */
  clearedQuarantine: SimQuarantine | null;
  scheduleState: 'Active' | 'Disabled' | 'Paused';
  interval: string;
  countSuccessiveCompleteFailures: number;
  lastExecution: { state: string; timeBegan: string; timeEnded: string; errorCode: string | null } | null;
  /** Graph's `status.escrowsPruned`: with `Paused`, the service's own pause waiting for the customer to clean up. */
  escrowsPruned: boolean;
  /** Objects in escrow (failed, retried later); cleared by a restart with Escrows or Full. */
  escrowCount: number;
  /** Deletes held back by the accidental-deletions threshold; pushed through by ForceDeletes. */
  stagedDeletes: number;
  /** Where the next incremental cycle resumes; null after a Watermark or Full reset (a full cycle runs). */
  watermark: string | null;
  /** The scopes of the last restart acted on, as parsed (null: never restarted). */
  lastRestartScope: RestartScope[] | null;
}

/** Graph's `synchronizationJobRestartScope` flags (CSDL member names). */
export const RESTART_SCOPES = [
  'None',
  'ConnectorDataStore',
  'Escrows',
  'Watermark',
  'QuarantineState',
  'Full',
  'ForceDeletes',
] as const;
export type RestartScope = (typeof RESTART_SCOPES)[number];

/** Input for seeding a job: everything but the id is optional. */
export interface JobSeed {
  servicePrincipalId?: string;
  id: string;
  templateId?: string;
  status?: SimStatusCode;
  statusCasing?: StatusCasing;
  rawStatusCode?: string | null;
  quarantine?: QuarantineSeed | null;
  emptyQuarantineObject?: boolean;
  relapse?: { reason: string; afterMs?: number } | null;
  scheduleState?: 'Active' | 'Disabled' | 'Paused';
  interval?: string;
  escrowsPruned?: boolean;
  escrowCount?: number;
  stagedDeletes?: number;
}

export interface QuarantineSeed {
  reason: string;
  seriesCount?: number;
  /** Defaults to now. */
  seriesBegan?: string;
  currentBegan?: string;
  /** Defaults to Entra ID's cadence after seriesBegan: 6 h, 12 h, 24 h, then daily (entraNextAttempt). */
  nextAttempt?: string;
  error?: SimSyncError | null;
}

export type SimOperation = 'list' | 'get' | 'start' | 'pause' | 'restart' | 'batch' | 'token';

/**
 * Fault injection. A rule matches a request by any combination of operation, method, path glob (`*` matches
 * within a segment, `**` anything), service principal and job id. `times` limits how often it fires.
 */
export interface FaultRule {
  operation?: SimOperation;
  method?: string;
  /** Glob against the path under /v1.0 (e.g. `/servicePrincipals/*\/synchronization/jobs/*\/start`). */
  path?: string;
  servicePrincipalId?: string;
  jobId?: string;
  /** How many times it fires; unlimited when absent. */
  times?: number;
  /**
   * respond: answer `status` with Graph's error body, without acting (default when `status` is set);
   * dropBefore: destroy the connection without acting; dropAfter: act (e.g. start the job), then destroy
   * the connection; hang: never answer; delay: only add `latencyMs`, then proceed (default otherwise).
   */
  action?: 'respond' | 'dropBefore' | 'dropAfter' | 'hang' | 'delay';
  status?: number;
  /** Graph error code, e.g. TooManyRequests, UnknownError, Authorization_RequestDenied. */
  code?: string;
  message?: string;
  /** Retry-After header value (seconds, or an HTTP date). */
  retryAfter?: number | string;
  latencyMs?: number;
  /** Whether it also applies to `$batch` sub-requests (respond only). Default true. */
  inBatch?: boolean;
}

export interface ActiveFault extends FaultRule {
  id: string;
  fired: number;
}

export interface ThrottleConfig {
  /** Requests allowed per window (counted over the listed operations). */
  limit: number;
  windowMs: number;
  /** Default: every Graph operation (batch sub-requests count one each). */
  operations?: SimOperation[];
}

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  operation: SimOperation | 'unknown';
  servicePrincipalId: string | null;
  jobId: string | null;
  /** HTTP status answered, or what happened instead. */
  status: number | 'dropped' | 'hang';
  viaBatch: boolean;
  clientRequestId: string | null;
  requestId: string;
  faultId: string | null;
}

export interface SimCounters {
  /** Graph HTTP requests (the $batch envelope counts one; admin and token requests not counted). */
  requests: number;
  /** GETs of a job or a list, batch items included. */
  reads: number;
  gets: number;
  lists: number;
  /** POST .../start acted on (204), batch items included. */
  starts: number;
  /** Starts acted on, by `servicePrincipalId/jobId`. */
  startsByJob: Record<string, number>;
  /** Starts acted on while the job was Active, NotRun or NotConfigured (the case Graph's docs warn about). */
  harmfulStarts: number;
  harmfulStartsByJob: Record<string, number>;
  pauses: number;
  /** POST .../restart acted on (204). */
  restarts: number;
  /** POST .../restart requests received (acted on or not). */
  restartRequests: number;
  batchRequests: number;
  batchItems: number;
  tokenRequests: number;
  tokensIssued: number;
  /** Graph requests refused 401 InvalidAuthenticationToken. */
  unauthorized: number;
  /** 429s from the throttle (not from faults). */
  throttled: number;
  faultsFired: number;
  /** POST .../start requests received (acted on or not). */
  startRequests: number;
}

function emptyCounters(): SimCounters {
  return {
    requests: 0,
    reads: 0,
    gets: 0,
    lists: 0,
    starts: 0,
    startsByJob: {},
    harmfulStarts: 0,
    harmfulStartsByJob: {},
    pauses: 0,
    restarts: 0,
    restartRequests: 0,
    batchRequests: 0,
    batchItems: 0,
    tokenRequests: 0,
    tokensIssued: 0,
    unauthorized: 0,
    throttled: 0,
    faultsFired: 0,
    startRequests: 0,
  };
}

/** A fixed-size ring, so a benchmark's millions of requests cost constant memory and O(1) per entry. */
class Ring<T> {
  private items: T[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    if (this.capacity <= 0) {
      return;
    }
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.next] = item;
      this.next = (this.next + 1) % this.capacity;
    }
  }
  toArray(): T[] {
    return this.items.length < this.capacity
      ? [...this.items]
      : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
  clear(): void {
    this.items = [];
    this.next = 0;
  }
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${escaped}$`);
}

export function jobKeyOf(servicePrincipalId: string, jobId: string): string {
  return `${servicePrincipalId.toLowerCase()}/${jobId}`;
}

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** Entra ID disables a job that stays in quarantine this long (reference: the quarantine clock). */
export const AUTO_DISABLE_MS = 28 * DAY;

/**
 * When Entra ID retries a quarantined job on its own: about 6 h after the series began, then 12 h, 24 h, and
 * daily after that (reference/graph-sync.md, "the quarantine clock").
 */
export function entraNextAttempt(seriesBegan: string, seriesCount: number): string {
  const began = Date.parse(seriesBegan);
  const n = Math.max(1, seriesCount);
  const after = n === 1 ? 6 * HOUR : n === 2 ? 12 * HOUR : (n - 2) * DAY;
  return iso(began + after);
}

/** Parses Graph's comma-separated resetScope; unknown names are returned in `unknown`. */
export function parseResetScope(value: string): { scopes: RestartScope[]; unknown: string[] } {
  const scopes: RestartScope[] = [];
  const unknown: string[] = [];
  for (const part of value.split(',')) {
    const name = part.trim();
    if (name === '') {
      continue;
    }
    const found = RESTART_SCOPES.find((s) => s.toLowerCase() === name.toLowerCase());
    if (found) {
      scopes.push(found);
    } else {
      unknown.push(name);
    }
  }
  return { scopes, unknown };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '0000Z'); // Graph writes 7 fractional digits
}

/**
 * Everything the simulator knows, reachable in-process by tests: jobs, faults, throttle, tokens,
 * request log and counters. The HTTP layer (simulator.ts) only routes to these methods.
 */
export class SimulatorState {
  private readonly principals = new Map<string, Map<string, SimJob>>();
  private faults: ActiveFault[] = [];
  private faultSeq = 0;
  private log: Ring<RequestLogEntry>;
  private counts: SimCounters = emptyCounters();
  private tokens = new Map<string, number>();
  private throttleConfig: ThrottleConfig | null = null;
  private throttleWindowStart = 0;
  private throttleUsed = 0;
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
    this.throttleConfig = opts.throttle ?? null;
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
    const status = seed.status ?? 'Paused';
    const now = Date.now();
    const job: SimJob = {
      servicePrincipalId,
      id: seed.id,
      templateId: seed.templateId ?? seed.id.split('.')[0] ?? 'scim',
      status,
      statusCasing: seed.statusCasing ?? 'PascalCase',
      rawStatusCode: seed.rawStatusCode ?? null,
      quarantine: null,
      emptyQuarantineObject: seed.emptyQuarantineObject ?? false,
      relapse: seed.relapse ? { reason: seed.relapse.reason, afterMs: seed.relapse.afterMs ?? 0 } : null,
      relapseAt: null,
      clearedQuarantine: null,
      scheduleState: seed.scheduleState ?? (status === 'Paused' ? 'Paused' : 'Active'),
      interval: seed.interval ?? 'PT40M',
      countSuccessiveCompleteFailures: status === 'Quarantine' ? 1 : 0,
      escrowsPruned: seed.escrowsPruned ?? false,
      escrowCount: seed.escrowCount ?? 0,
      stagedDeletes: seed.stagedDeletes ?? 0,
      watermark: status === 'NotRun' || status === 'NotConfigured' ? null : iso(now - 39 * 60 * 1000),
      lastRestartScope: null,
      lastExecution:
        status === 'NotRun' || status === 'NotConfigured'
          ? null
          : {
              state: status === 'Quarantine' ? 'Failed' : 'Succeeded',
              timeBegan: iso(now - 40 * 60 * 1000),
              timeEnded: iso(now - 39 * 60 * 1000),
              errorCode: null,
            },
    };
    if (seed.quarantine) {
      job.quarantine = this.buildQuarantine(seed.quarantine, null, now);
    } else if (status === 'Quarantine') {
      job.quarantine = this.buildQuarantine({ reason: 'EncounteredQuarantineException' }, null, now);
    }
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
      this.applyRelapse(job, Date.now());
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
      this.applyRelapse(job, now);
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
  updateJob(
    servicePrincipalId: string,
    jobId: string,
    patch: Partial<Omit<JobSeed, 'id' | 'servicePrincipalId'>>,
  ): SimJob {
    const job = this.mustGet(servicePrincipalId, jobId);
    if (patch.status !== undefined) {
      job.status = patch.status;
      if (patch.status !== 'Quarantine' && patch.quarantine === undefined) {
        job.quarantine = null;
      }
    }
    if (patch.statusCasing !== undefined) {
      job.statusCasing = patch.statusCasing;
    }
    if (patch.rawStatusCode !== undefined) {
      job.rawStatusCode = patch.rawStatusCode;
    }
    if (patch.emptyQuarantineObject !== undefined) {
      job.emptyQuarantineObject = patch.emptyQuarantineObject;
    }
    if (patch.relapse !== undefined) {
      job.relapse = patch.relapse
        ? { reason: patch.relapse.reason, afterMs: patch.relapse.afterMs ?? 0 }
        : null;
    }
    if (patch.scheduleState !== undefined) {
      job.scheduleState = patch.scheduleState;
    }
    if (patch.interval !== undefined) {
      job.interval = patch.interval;
    }
    if (patch.escrowsPruned !== undefined) {
      job.escrowsPruned = patch.escrowsPruned;
    }
    if (patch.escrowCount !== undefined) {
      job.escrowCount = patch.escrowCount;
    }
    if (patch.stagedDeletes !== undefined) {
      job.stagedDeletes = patch.stagedDeletes;
    }
    if (patch.quarantine !== undefined) {
      job.quarantine = patch.quarantine
        ? this.buildQuarantine(patch.quarantine, job.quarantine, Date.now())
        : null;
    }
    return job;
  }

  /** Puts a job in quarantine, continuing its series (seriesBegan kept, seriesCount + 1) when already in one. */
  quarantine(servicePrincipalId: string, jobId: string, seed: QuarantineSeed): SimJob {
    const job = this.mustGet(servicePrincipalId, jobId);
    this.enterQuarantine(job, seed, Date.now());
    return job;
  }

  private enterQuarantine(job: SimJob, seed: QuarantineSeed, now: number): void {
    job.quarantine = this.buildQuarantine(seed, job.quarantine ?? job.clearedQuarantine, now);
    job.clearedQuarantine = null;
    job.status = 'Quarantine';
    job.relapseAt = null;
    job.countSuccessiveCompleteFailures += 1;
    job.lastExecution = {
      state: 'Failed',
      timeBegan: iso(now - 1000),
      timeEnded: iso(now),
      errorCode: job.quarantine.error?.code ?? null,
    };
  }

  private buildQuarantine(seed: QuarantineSeed, previous: SimQuarantine | null, now: number): SimQuarantine {
    const currentBegan = seed.currentBegan ?? iso(now);
    const seriesBegan = seed.seriesBegan ?? previous?.seriesBegan ?? currentBegan;
    const seriesCount = seed.seriesCount ?? (previous ? previous.seriesCount + 1 : 1);
    return {
      reason: seed.reason,
      currentBegan,
      nextAttempt: seed.nextAttempt ?? entraNextAttempt(seriesBegan, seriesCount),
      seriesBegan,
      seriesCount,
      error: seed.error === undefined ? (previous?.error ?? null) : seed.error,
    };
  }

  private applyRelapse(job: SimJob, now: number): void {
    if (job.status === 'Active' && job.relapseAt !== null && job.relapseAt <= now && job.relapse) {
      this.enterQuarantine(job, { reason: job.relapse.reason }, now);
    }
    // Entra ID disables a job that stayed in quarantine 28 days after the series began.
    if (
      job.status === 'Quarantine' &&
      job.quarantine !== null &&
      Date.parse(job.quarantine.seriesBegan) + AUTO_DISABLE_MS <= now
    ) {
      job.scheduleState = 'Disabled';
    }
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
    this.applyRelapse(job, now);
    const key = jobKeyOf(job.servicePrincipalId, job.id);
    this.counts.starts += 1;
    this.counts.startsByJob[key] = (this.counts.startsByJob[key] ?? 0) + 1;
    if (job.status === 'Paused' || job.status === 'Quarantine') {
      const fromQuarantine = job.status === 'Quarantine' || job.quarantine !== null;
      job.status = 'Active';
      job.clearedQuarantine = job.quarantine;
      job.quarantine = null;
      job.scheduleState = 'Active';
      job.relapseAt = fromQuarantine && job.relapse ? now + job.relapse.afterMs : null;
      return { harmful: false };
    }
    this.counts.harmfulStarts += 1;
    this.counts.harmfulStartsByJob[key] = (this.counts.harmfulStartsByJob[key] ?? 0) + 1;
    return { harmful: true };
  }

  /**
   * Graph's restart with the given scopes (an empty list is the portal's "Restart provisioning":
   * QuarantineState + Watermark + Escrows). What each scope clears: QuarantineState the quarantine; Watermark
   * the watermark (a full cycle runs); Escrows the escrowed objects and escrowsPruned; ForceDeletes the deletes
   * the threshold held back (and a TooManyDeletes quarantine); Full all of these. The job then runs (Active),
   * unless it stays in a quarantine that the scopes did not clear.
   */
  applyRestart(job: SimJob, requested: RestartScope[]): void {
    const now = Date.now();
    this.applyRelapse(job, now);
    this.counts.restarts += 1;
    const scopes = new Set<RestartScope>(
      requested.length === 0 ? ['QuarantineState', 'Watermark', 'Escrows'] : requested,
    );
    const full = scopes.has('Full');
    job.lastRestartScope = [...requested];
    if (full || scopes.has('Watermark')) {
      job.watermark = null;
    }
    if (full || scopes.has('Escrows')) {
      job.escrowCount = 0;
      job.escrowsPruned = false;
    }
    let quarantineCleared = full || scopes.has('QuarantineState');
    if (full || scopes.has('ForceDeletes')) {
      job.stagedDeletes = 0;
      quarantineCleared ||= job.quarantine?.reason === 'TooManyDeletes';
    }
    if (job.status === 'Quarantine' && !quarantineCleared) {
      return;
    }
    if (quarantineCleared) {
      job.clearedQuarantine = job.quarantine;
      job.quarantine = null;
    }
    job.status = 'Active';
    job.scheduleState = 'Active';
    job.relapseAt = job.relapse && quarantineCleared ? now + job.relapse.afterMs : null;
  }

  applyPause(job: SimJob): void {
    this.applyRelapse(job, Date.now());
    this.counts.pauses += 1;
    job.status = 'Paused';
    job.scheduleState = 'Paused';
    job.relapseAt = null;
    // A quarantine object may stay behind (stale) on the paused job, as Graph's own examples show.
  }

  /** The synchronizationJob JSON Graph would answer. */
  toGraphJson(job: SimJob): Record<string, unknown> {
    const q = job.quarantine;
    const quarantine = q
      ? {
          currentBegan: q.currentBegan,
          nextAttempt: q.nextAttempt,
          reason: q.reason,
          seriesBegan: q.seriesBegan,
          seriesCount: q.seriesCount,
          error: q.error,
        }
      : job.emptyQuarantineObject
        ? { currentBegan: '', nextAttempt: '', reason: '', seriesBegan: '', seriesCount: 0, error: null }
        : null;
    const last = job.lastExecution;
    return {
      id: job.id,
      templateId: job.templateId,
      schedule: {
        expiration: null,
        interval: job.scheduleState === 'Disabled' ? 'P10675199DT2H48M5.4775807S' : job.interval,
        state: job.scheduleState,
      },
      status: {
        code: job.rawStatusCode ?? writeStatus(job.status, job.statusCasing),
        countSuccessiveCompleteFailures: job.countSuccessiveCompleteFailures,
        escrowsPruned: job.escrowsPruned,
        lastExecution: last
          ? {
              activityIdentifier: null,
              countEntitled: 0,
              countEntitledForProvisioning: 0,
              countEscrowed: job.escrowCount,
              countEscrowedRaw: job.escrowCount,
              countExported: 0,
              countExports: 0,
              countImported: 0,
              countImportedDeltas: 0,
              countImportedReferenceDeltas: 0,
              state: last.state,
              timeBegan: last.timeBegan,
              timeEnded: last.timeEnded,
              error: last.errorCode ? { code: last.errorCode, message: '', tenantActionable: true } : null,
            }
          : null,
        lastSuccessfulExecution: null,
        lastSuccessfulExecutionWithExports: null,
        progress: [],
        quarantine,
        steadyStateFirstAchievedTime: '0001-01-01T00:00:00Z',
        steadyStateLastAchievedTime: '0001-01-01T00:00:00Z',
        synchronizedEntryCountByType: [],
        troubleshootingUrl: '',
      },
      synchronizationJobSettings: [
        { name: 'QuarantineTooManyDeletesThreshold', value: '500' },
        { name: 'AzureIngestionAttributeOptimization', value: 'False' },
      ],
    };
  }

  // ---------------------------------------------------------------- faults and throttle

  addFault(rule: FaultRule): string {
    const id = `fault-${++this.faultSeq}`;
    this.faults.push({ ...rule, id, fired: 0 });
    return id;
  }

  removeFault(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clearFaults(): void {
    this.faults = [];
  }

  listFaults(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
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
  takeFault(req: {
    operation: SimOperation | 'unknown';
    method: string;
    path: string;
    servicePrincipalId: string | null;
    jobId: string | null;
    viaBatch: boolean;
  }): ActiveFault | null {
    if (this.faults.length === 0) {
      return null;
    }
    for (const fault of this.faults) {
      if (fault.operation && fault.operation !== req.operation) {
        continue;
      }
      if (fault.method && fault.method.toUpperCase() !== req.method) {
        continue;
      }
      if (fault.jobId && fault.jobId !== req.jobId) {
        continue;
      }
      if (
        fault.servicePrincipalId &&
        fault.servicePrincipalId.toLowerCase() !== req.servicePrincipalId?.toLowerCase()
      ) {
        continue;
      }
      if (fault.path && !globToRegExp(fault.path).test(req.path)) {
        continue;
      }
      if (req.viaBatch) {
        const action = fault.action ?? (fault.status ? 'respond' : 'delay');
        if (action !== 'respond' || fault.inBatch === false) {
          continue;
        }
      }
      if (fault.times !== undefined && fault.fired >= fault.times) {
        continue;
      }
      fault.fired += 1;
      this.counts.faultsFired += 1;
      if (fault.times !== undefined && fault.fired >= fault.times) {
        this.faults = this.faults.filter((f) => f !== fault);
      }
      return fault;
    }
    return null;
  }

  setThrottle(config: ThrottleConfig | null): void {
    this.throttleConfig = config;
    this.throttleUsed = 0;
    this.throttleWindowStart = Date.now();
  }

  /** Counts one request against the throttle; returns the Retry-After seconds when it is over the limit. */
  throttle(operation: SimOperation): number | null {
    const cfg = this.throttleConfig;
    if (!cfg || (cfg.operations && !cfg.operations.includes(operation))) {
      return null;
    }
    const now = Date.now();
    if (now - this.throttleWindowStart >= cfg.windowMs) {
      this.throttleWindowStart = now;
      this.throttleUsed = 0;
    }
    if (this.throttleUsed < cfg.limit) {
      this.throttleUsed += 1;
      return null;
    }
    this.counts.throttled += 1;
    return Math.max(1, Math.ceil((this.throttleWindowStart + cfg.windowMs - now) / 1000));
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

export function writeStatus(status: SimStatusCode, casing: StatusCasing): string {
  switch (casing) {
    case 'PascalCase':
      return status;
    case 'camelCase':
      return status.charAt(0).toLowerCase() + status.slice(1);
    case 'lowercase':
      return status.toLowerCase();
    case 'UPPERCASE':
      return status.toUpperCase();
  }
}
