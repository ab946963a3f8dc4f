import { SchedulerRegistry } from '@nestjs/schedule';
import { ManualClock, type Outcome } from '@app/common';
import { type BatchItemResult, GraphError, type GraphResult, type JobRef, type SyncJob } from '@app/graph';
import type { LeaderTerm, RecoverySweepView, SweepCounts, WatchRecord } from '@app/persistence';
import { type AppConfig, loadConfig } from '../config/app-config';
import type { GuardDecision, GuardRequest } from '../jobs/guard.service';
import { Lifecycle } from '../health/lifecycle';
import { MetricsService } from '../metrics/metrics.service';
import { PeriodicWork } from '../scheduling/periodic-work';
import { type LeaseStore, RECOVERY_HEARTBEAT_NAME, RecoveryLease } from './recovery-lease';
import { LEASE_LOST, type RecoveryGuard, RecoverySweep, type WatchStore } from './recovery-sweep';
import { RECOVERY_INTERVAL_NAME, RecoveryScheduler } from './recovery.scheduler';
import { RecoveryService, type SweepRowStore } from './recovery.service';
import { attemptView, watchRecord } from '../../../../test/support/fixtures';
import { ScriptedGraph, type ScriptedJob, syncJob } from '../../../../test/support/scripted-graph';

/**
 * The recovery sweep's decisions, in memory: the real RecoveryService, RecoveryLease and RecoverySweep over a fake
 * repository (the repository's own method signatures), a fake Graph behind the GraphClient interface and a small
 * guard that applies the recovery policy the way GuardService does (read, policy, start). Time is a ManualClock.
 */

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';
const T0 = new Date('2026-11-29T12:00:00.000Z');

/** The scripted Graph (reads, starts that take effect) with `$batch` reads, and a `$batch` that fails on cue. */
class FakeGraph extends ScriptedGraph {
  readonly batches: string[][] = [];
  /** The next `$batch` fails as a whole with this error. */
  failNextBatch: GraphError | null = null;

  put(jobId: string, job: ScriptedJob): void {
    this.set({ servicePrincipalId: SP, jobId }, job);
  }

  startedJobs(): string[] {
    return this.starts.map((s) => s.jobId);
  }

  override batchGetJobs(refs: JobRef[]): Promise<GraphResult<BatchItemResult[]>> {
    this.batches.push(refs.map((r) => r.jobId));
    const failure = this.failNextBatch;
    if (failure !== null) {
      this.failNextBatch = null;
      return Promise.reject(failure);
    }
    const value = refs.map((ref): BatchItemResult => {
      const job = this.get(ref);
      return job
        ? { ref, ok: true, job: syncJob(ref.jobId, job), requestId: null }
        : { ref, ok: false, error: new GraphError('not_found', 'no such job', { status: 404 }) };
    });
    return Promise.resolve({ value, requestIds: [`batch-${this.batches.length}`] });
  }
}

/** The recovery repository in memory: the lease row, the watches and the sweep rows. */
class FakeRecoveryStore implements LeaseStore, WatchStore, SweepRowStore {
  leader: { holder: string; term: number; expiresAt: number } | null = null;
  private terms = 0;
  readonly watches = new Map<string, WatchRecord>();
  readonly sweeps: RecoverySweepView[] = [];
  renewals = 0;

  constructor(private readonly clock: ManualClock) {}

  watch(jobId: string): void {
    this.watches.set(jobId, watchRecord({ id: `w-${jobId}`, servicePrincipalId: SP, jobId }));
  }

  claimLeadership(holder: string, leaseSeconds: number): Promise<LeaderTerm | null> {
    const now = this.clock.now().getTime();
    const l = this.leader;
    if (l !== null && l.expiresAt >= now && l.holder !== holder) {
      return Promise.resolve(null);
    }
    const kept = l !== null && l.holder === holder && l.expiresAt >= now;
    this.leader = { holder, term: kept ? l.term : ++this.terms, expiresAt: now + leaseSeconds * 1000 };
    return Promise.resolve({ holder, term: String(this.leader.term) });
  }

  renewLeadership(leader: LeaderTerm, leaseSeconds: number): Promise<boolean> {
    this.renewals += 1;
    const l = this.leader;
    const now = this.clock.now().getTime();
    if (l === null || l.holder !== leader.holder || String(l.term) !== leader.term || l.expiresAt < now) {
      return Promise.resolve(false);
    }
    l.expiresAt = now + leaseSeconds * 1000;
    return Promise.resolve(true);
  }

  releaseLeadership(holder: string): Promise<void> {
    if (this.leader?.holder === holder) {
      this.leader = null;
    }
    return Promise.resolve();
  }

  /** Another replica takes over (the lease ran out meanwhile): a newer term. */
  takeOver(holder: string): void {
    this.leader = { holder, term: ++this.terms, expiresAt: this.clock.now().getTime() + 60_000 };
  }

  private holds(leader: LeaderTerm): boolean {
    return this.leader?.holder === leader.holder && String(this.leader.term) === leader.term;
  }

  dueWatches(now: Date, afterId: string | null, limit: number): Promise<WatchRecord[]> {
    const due = [...this.watches.values()]
      .filter((w) => (w.nextTryAt === null || w.nextTryAt <= now) && (afterId === null || w.id > afterId))
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, limit);
    return Promise.resolve(due.map((w) => ({ ...w })));
  }

  saveWatches(records: WatchRecord[], leader: LeaderTerm): Promise<number> {
    if (!this.holds(leader)) {
      return Promise.resolve(0);
    }
    for (const r of records) {
      this.watches.set(r.jobId, { ...r });
    }
    return Promise.resolve(records.length);
  }

  startSweep(id: string, leader: LeaderTerm, startedAt: Date): Promise<boolean> {
    if (!this.holds(leader)) {
      return Promise.resolve(false);
    }
    this.sweeps.push({
      sweepId: id,
      startedAt: startedAt.toISOString(),
      finishedAt: null,
      leader: leader.holder,
      jobsRead: 0,
      started: 0,
      skipped: 0,
      needsAttention: 0,
      errors: 0,
      graphRequests: 0,
      message: null,
    });
    return Promise.resolve(true);
  }

  finishSweep(id: string, finishedAt: Date, counts: SweepCounts): Promise<RecoverySweepView> {
    const row = this.sweeps.find((s) => s.sweepId === id);
    if (!row) {
      return Promise.reject(new Error(`no sweep ${id}`));
    }
    Object.assign(row, counts, { finishedAt: finishedAt.toISOString() });
    return Promise.resolve({ ...row });
  }

  countNeedingAttention(): Promise<number> {
    return Promise.resolve([...this.watches.values()].filter((w) => w.state === 'needs_attention').length);
  }
}

/** The guard's decision as recovery sees it: read the job, apply the caller's policy, start when it allows. */
class PolicyGuard implements RecoveryGuard {
  readonly requests: GuardRequest[] = [];
  /** A decision that fails (the audit store is away). */
  failFor = new Set<string>();

  constructor(private readonly graph: FakeGraph) {}

  async decide(req: GuardRequest): Promise<GuardDecision> {
    this.requests.push(req);
    if (this.failFor.has(req.jobId)) {
      throw new Error('the audit store is unavailable');
    }
    const read = await this.graph.getJob(req);
    const refusal = req.policy?.(read.value) ?? null;
    if (refusal !== null) {
      return this.decision(req, 'skipped', refusal, read.value, read.requestIds);
    }
    const started = await this.graph.startJob(req);
    return this.decision(req, 'started', 'start sent', read.value, [
      ...read.requestIds,
      ...started.requestIds,
    ]);
  }

  private decision(
    req: GuardRequest,
    outcome: Outcome,
    message: string,
    job: SyncJob,
    graphRequestIds: string[],
  ): GuardDecision {
    const attempt = attemptView({
      attemptId: `attempt-${this.requests.length}`,
      servicePrincipalId: req.servicePrincipalId,
      jobId: req.jobId,
      trigger: req.trigger,
      actor: req.actor,
      outcome,
      observedStatus: job.observedStatus,
      quarantineReason: job.quarantine?.reason ?? null,
      reason: req.reason,
      message,
      graphRequestIds,
    });
    return { attempt, upstreamStatus: null, job };
  }
}

interface Replica {
  service: RecoveryService;
  scheduler: RecoveryScheduler;
  periodic: PeriodicWork;
  lifecycle: Lifecycle;
  metrics: MetricsService;
}

describe('RecoveryService (the sweep, in memory)', () => {
  let clock: ManualClock;
  let store: FakeRecoveryStore;
  let graph: FakeGraph;
  let guard: PolicyGuard;
  const replicas: Replica[] = [];

  function replica(env: Record<string, string> = {}): Replica {
    const config: AppConfig = loadConfig({
      REPLICA_ID: 'replica-a',
      RECOVERY_INTERVAL_SECONDS: '60',
      ...env,
    });
    const periodic = new PeriodicWork(new SchedulerRegistry());
    const lifecycle = new Lifecycle();
    const metrics = new MetricsService();
    const lease = new RecoveryLease(store, periodic, config);
    const sweep = new RecoverySweep(store, graph, guard, config);
    const service = new RecoveryService(store, lease, sweep, metrics, lifecycle, clock, config);
    const r = {
      service,
      scheduler: new RecoveryScheduler(service, periodic, config),
      periodic,
      lifecycle,
      metrics,
    };
    replicas.push(r);
    return r;
  }

  /** `n` watched jobs that read active (nothing to recover). */
  function watchActiveJobs(n: number): void {
    for (let i = 0; i < n; i++) {
      const id = `job.${String(i).padStart(2, '0')}`;
      graph.put(id, { status: 'active', reason: null });
      store.watch(id);
    }
  }

  beforeEach(() => {
    clock = new ManualClock(T0);
    store = new FakeRecoveryStore(clock);
    graph = new FakeGraph();
    guard = new PolicyGuard(graph);
  });

  afterEach(async () => {
    for (const r of replicas.splice(0)) {
      r.scheduler.onModuleDestroy();
      await r.service.onModuleDestroy();
    }
  });

  it('starts the quarantined job a start can fix, leaves the rest, and records the sweep', async () => {
    graph.put('job.fixable', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    graph.put('job.deletes', { status: 'quarantine', reason: 'TooManyDeletes' });
    graph.put('job.paused', { status: 'paused', reason: null });
    graph.put('job.active', { status: 'active', reason: null });
    for (const id of ['job.fixable', 'job.deletes', 'job.paused', 'job.active', 'job.gone']) {
      store.watch(id);
    }
    const { service } = replica();

    const summary = await service.sweep();

    expect(graph.startedJobs()).toEqual(['job.fixable']);
    expect(guard.requests.map((r) => [r.jobId, r.trigger, r.actor.type, r.actor.id])).toEqual([
      ['job.fixable', 'recovery', 'scheduler', 'replica-a'],
    ]);
    expect(summary).toMatchObject({
      leader: 'replica-a',
      jobsRead: 4,
      started: 1,
      skipped: 0,
      needsAttention: 2,
      errors: 0,
      // One $batch, then the guard's read and start.
      graphRequests: 3,
      message: null,
      startedAt: T0.toISOString(),
    });
    const state = (id: string) => store.watches.get(id)?.state;
    expect(state('job.fixable')).toBe('recovering');
    expect(state('job.deletes')).toBe('needs_attention');
    expect(state('job.paused')).toBe('ok');
    expect(state('job.active')).toBe('ok');
    expect(state('job.gone')).toBe('needs_attention');
    expect(store.sweeps).toHaveLength(1);
  });

  it('checks a recovery held at the next sweep, and backs off a job that went back to quarantine', async () => {
    graph.put('job.relapse', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    store.watch('job.relapse');
    const { service } = replica();
    await service.sweep();
    expect(store.watches.get('job.relapse')?.state).toBe('recovering');

    // Graph quarantines it again before the next sweep.
    graph.put('job.relapse', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    const next = await service.sweep(clock.advance(60_000));
    expect(next).toMatchObject({ started: 0, errors: 1 });
    const w = store.watches.get('job.relapse');
    expect(w).toMatchObject({ state: 'backing_off', failedAttempts: 1 });
    // The first back-off step (300 s) from the sweep's `now`.
    expect(w?.nextTryAt).toEqual(new Date(T0.getTime() + 60_000 + 300_000));

    // Not due before then: the watch is not read at all.
    const batches = graph.batches.length;
    await service.sweep(clock.advance(299_000));
    expect(graph.batches).toHaveLength(batches);
    await service.sweep(clock.advance(1000));
    expect(graph.batches).toHaveLength(batches + 1);
    expect(graph.startedJobs()).toEqual(['job.relapse', 'job.relapse']);
  });

  it('reads 20 jobs per $batch, and stops reading when Graph throttles', async () => {
    watchActiveJobs(45);
    const { service } = replica();
    expect(await service.sweep()).toMatchObject({ jobsRead: 45, errors: 0 });
    expect(graph.batches.map((b) => b.length)).toEqual([20, 20, 5]);

    graph.batches.length = 0;
    graph.failNextBatch = new GraphError('throttled', 'Too many requests', {
      status: 429,
      retryAfterSeconds: 30,
      requestIds: ['throttled-1'],
    });
    const throttled = await service.sweep();
    expect(graph.batches).toHaveLength(1);
    expect(throttled).toMatchObject({ jobsRead: 0, errors: 1, graphRequests: 1 });
    expect(throttled?.message).toContain('Graph throttled the $batch read (Retry-After 30 s)');
  });

  it('does nothing but count when another replica holds the lease', async () => {
    graph.put('job.fixable', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    store.watch('job.fixable');
    store.takeOver('replica-b');
    const { service, metrics } = replica();

    expect(await service.sweep()).toBeNull();
    expect(await service.sweepNow()).toEqual({ status: 'not_leader' });
    expect(graph.batches).toEqual([]);
    expect(store.sweeps).toEqual([]);
    expect(await metrics.render()).toMatch(/sjg_recovery_sweeps_total\{result="not_leader"\} 1/);
  });

  it('stops at once, writing nothing more, when another replica takes over mid-sweep', async () => {
    watchActiveJobs(30);
    const { service } = replica();
    // The first batch is read while another replica takes over: its fenced save writes nothing.
    const batchGetJobs = graph.batchGetJobs.bind(graph);
    graph.batchGetJobs = (refs) => {
      store.takeOver('replica-b');
      return batchGetJobs(refs);
    };
    const summary = await service.sweep();
    expect(graph.batches).toHaveLength(1);
    expect(summary?.message).toBe(LEASE_LOST);
    expect([...store.watches.values()].every((w) => w.lastSeenAt === null)).toBe(true);
  });

  it('keeps the lease by a heartbeat in the scheduler while leading, and gives it up on shutdown', async () => {
    const { service, periodic } = replica();
    await service.sweep();
    expect(periodic.names()).toEqual([RECOVERY_HEARTBEAT_NAME]);
    expect(service.leaseSeconds).toBe(30);

    // The beat renews the lease from the clock's now.
    clock.advance(25_000);
    expect(periodic.runNow(RECOVERY_HEARTBEAT_NAME)).toBe(true);
    await Promise.resolve();
    expect(store.leader).toMatchObject({ holder: 'replica-a', expiresAt: clock.now().getTime() + 30_000 });

    await service.onModuleDestroy();
    expect(periodic.names()).toEqual([]);
    expect(store.leader).toBeNull();
    // Stopped: no more sweeps here.
    expect(await service.sweep()).toBeNull();
    expect(await service.sweepNow()).toEqual({ status: 'unavailable' });
  });

  it('loses the leadership when a heartbeat finds another replica holds the lease', async () => {
    const { service, periodic } = replica();
    await service.sweep();
    store.takeOver('replica-b');
    periodic.runNow(RECOVERY_HEARTBEAT_NAME);
    await Promise.resolve();
    await Promise.resolve();
    expect(periodic.names()).toEqual([]);
    expect(await service.sweep()).toBeNull();
  });

  it('sweepNow joins the sweep already running here instead of starting a second one', async () => {
    graph.put('job.fixable', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    store.watch('job.fixable');
    const { service } = replica();
    const running = service.sweep();
    const now = await service.sweepNow();
    expect(now).toEqual({ status: 'swept', sweep: await running });
    expect(now).toMatchObject({ status: 'swept', sweep: { started: 1 } });
    expect(store.sweeps).toHaveLength(1);
    expect(graph.startedJobs()).toEqual(['job.fixable']);
  });

  it('answers disabled when scheduled recovery is off, and then schedules nothing', async () => {
    const { service, scheduler, periodic } = replica({ RECOVERY_ENABLED: 'false' });
    scheduler.onApplicationBootstrap();
    expect(periodic.names()).toEqual([]);
    expect(await service.sweepNow()).toEqual({ status: 'disabled' });
  });

  it('ticks through the scheduler: one sweep per tick, none once the module stops', async () => {
    graph.put('job.fixable', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    store.watch('job.fixable');
    const { service, scheduler, periodic } = replica();
    scheduler.onApplicationBootstrap();
    expect(periodic.names()).toEqual([RECOVERY_INTERVAL_NAME]);

    expect(periodic.runNow(RECOVERY_INTERVAL_NAME)).toBe(true);
    // A tick during the sweep in progress is skipped; sweepNow joins the tick's sweep.
    periodic.runNow(RECOVERY_INTERVAL_NAME);
    expect(await service.sweepNow()).toMatchObject({ status: 'swept', sweep: { started: 1 } });
    expect(store.sweeps).toHaveLength(1);
    await service.onModuleDestroy();
    periodic.runNow(RECOVERY_INTERVAL_NAME);
    await Promise.resolve();
    expect(store.sweeps).toHaveLength(1);
    expect(graph.startedJobs()).toEqual(['job.fixable']);

    scheduler.onModuleDestroy();
    expect(periodic.names()).toEqual([]);
  });

  it('records a decision the audit store could not take, and goes on with the others', async () => {
    graph.put('job.a', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    graph.put('job.b', { status: 'quarantine', reason: 'EncounteredQuarantineException' });
    store.watch('job.a');
    store.watch('job.b');
    guard.failFor.add('job.a');
    const { service } = replica();
    expect(await service.sweep()).toMatchObject({ started: 1, errors: 1 });
    expect(store.watches.get('job.a')?.lastMessage).toBe(
      'Recovery not recorded: the recovery could not be decided',
    );
    expect(graph.startedJobs()).toEqual(['job.b']);
  });

  it('does not sweep once the replica is shutting down', async () => {
    store.watch('job.a');
    const { service, lifecycle } = replica();
    lifecycle.shuttingDown = true;
    expect(await service.sweep()).toBeNull();
    expect(await service.sweepNow()).toEqual({ status: 'unavailable' });
    expect(graph.batches).toEqual([]);
  });
});
