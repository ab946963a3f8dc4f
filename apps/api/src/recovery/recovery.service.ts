import { AuditUnavailableError } from '../jobs/guard.errors';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { type BatchItemResult, GraphClient, GraphError, type JobRef } from '@app/graph';
import {
  type LeaderTerm,
  RecoveryRepository,
  type RecoverySweepView,
  type SweepCounts,
  type WatchRecord,
} from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { GuardService } from '../jobs/guard.service';
import { Lifecycle } from '../health/lifecycle';
import { MetricsService } from '../metrics/metrics.service';
import { RECOVERY_NEEDS_ATTENTION, RECOVERY_SWEEPS } from '../metrics/metric-names';
import {
  type RecoveryRules,
  type Tally,
  afterDecision,
  afterRead,
  afterReadError,
  recoveryRefusal,
} from './recovery-policy';

/** Graph's `$batch` limit: statuses are read 20 at a time. */
export const RECOVERY_BATCH_SIZE = 20;
/** Due watches are paged from the database this many at a time (a multiple of the batch size). */
const PAGE_SIZE = 500;
/** Guarded decisions run at most this many at a time within one batch (gentle on Graph). */
const DECISION_CONCURRENCY = 4;
/** Time budget of one `$batch` read, its own retries included. */
const BATCH_BUDGET_MS = 20_000;
/** A sweep's stop reason when its leader lost the lease. */
const LEASE_LOST = 'Stopped early: the leader lease was lost to another replica; nothing more was written';

/** This replica's leadership: its fencing term and heartbeat. */
interface Leadership {
  term: LeaderTerm;
  /** Set by the heartbeat (or a fenced write) when another replica took over: stop at once. */
  lost: boolean;
  timer: NodeJS.Timeout | null;
  beating?: boolean;
}

/** Name of the sweep's interval in the SchedulerRegistry. */
export const RECOVERY_INTERVAL_NAME = 'recovery-sweep';

/** What `sweepNow()` did: swept (here, or joined the sweep already running here), or why not. */
export type SweepNowResult =
  { status: 'swept'; sweep: SweepSummary } | { status: 'not_leader' | 'disabled' | 'unavailable' };

export type SweepSummary = RecoverySweepView;

type Counts = Omit<SweepCounts, 'message'>;

/** Why a sweep stopped reading before the end of the due list (null: it read them all). */
type StopReason = string | null;

/** Runs `fn` over `items` with at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Scheduled recovery of quarantined jobs (DESIGN section 3a).
 *
 * Every RECOVERY_INTERVAL_SECONDS each replica ticks; the tick first claims the leader lease in PostgreSQL
 * (RecoveryRepository.claimLeadership: one atomic statement, no transaction held while Graph answers), so
 * exactly one replica sweeps at a time. The leader keeps its lease by renewing it at each tick and during a
 * long sweep; the lease lasts one interval plus a margin, so a dead leader is replaced by the first replica
 * that ticks after its lease ran out, and a leader that shuts down gives the lease up at once.
 *
 * A sweep reads the due watches' jobs in `$batch` requests of 20, and puts each quarantined job whose reason
 * allows it through the same guard as an API call (limit, single flight, cool-down, record before acting),
 * with trigger `recovery` and the scheduler as actor. Throttling stops the reading for this sweep.
 */
@Injectable()
export class RecoveryService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(RecoveryService.name);
  private readonly rules: RecoveryRules;
  private stopping = false;
  private inFlight: Promise<SweepSummary | null> | null = null;
  private timerRegistered = false;
  private leadership: Leadership | null = null;

  constructor(
    private readonly repo: RecoveryRepository,
    private readonly graph: GraphClient,
    private readonly guard: GuardService,
    private readonly metrics: MetricsService,
    private readonly scheduler: SchedulerRegistry,
    private readonly lifecycle: Lifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.rules = {
      maxAttempts: config.recovery.maxAttempts,
      needsPersonReasons: config.recovery.needsPersonReasons,
      backoffSeconds: config.recovery.backoffSeconds,
    };
  }

  /**
   * Lease length: half an interval (2 to 60 s). The leader renews it by a heartbeat every third of it, independent
   * of the sweep's progress, so a live leader never loses it to a slow batch, and a dead leader's lease runs out well
   * within one interval: the next tick of any replica after that takes over (DESIGN 3a).
   */
  get leaseSeconds(): number {
    return Math.min(60, Math.max(2, Math.ceil(this.config.recovery.intervalSeconds / 2)));
  }

  onApplicationBootstrap(): void {
    if (!this.config.recovery.enabled) {
      this.logger.log('scheduled recovery is disabled (RECOVERY_ENABLED=false)');
      return;
    }
    const timer = setInterval(() => this.tick(), this.config.recovery.intervalSeconds * 1000);
    timer.unref();
    this.scheduler.addInterval(RECOVERY_INTERVAL_NAME, timer);
    this.timerRegistered = true;
    this.logger.log(
      `scheduled recovery every ${this.config.recovery.intervalSeconds} s (replica ${this.config.replicaId})`,
    );
  }

  /**
   * Graceful stop, in onModuleDestroy rather than onApplicationShutdown: Nest destroys this module before the
   * global PersistenceModule, whose PrismaService disconnects in its own onModuleDestroy, and the sweep in
   * progress still needs the database to finish its current job and to give the lease up.
   */
  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Safety net when the module-destroy hook was skipped; idempotent. */
  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private async stop(): Promise<void> {
    if (this.stopping) {
      await this.inFlight?.catch(() => null);
      return;
    }
    this.stopping = true;
    if (this.timerRegistered) {
      this.timerRegistered = false;
      try {
        this.scheduler.deleteInterval(RECOVERY_INTERVAL_NAME);
      } catch {
        // already removed by the scheduler's own shutdown
      }
    }
    await this.inFlight?.catch(() => null);
    this.stopHeartbeat();
    try {
      await this.repo.releaseLeadership(this.config.replicaId);
    } catch (error) {
      this.logger.warn(`could not release the recovery lease: ${describe(error)}`);
    }
  }

  /** Timer callback: one sweep at a time per replica; a tick during a sweep is skipped. Never throws. */
  private tick(): void {
    if (this.inFlight !== null || this.isStopping()) {
      return;
    }
    this.sweep().catch((error: unknown) => {
      this.logger.error(`recovery tick failed: ${describe(error)}`);
    });
  }

  /**
   * `POST /v1/recovery/sweeps`: a sweep now, on this replica if it holds (or wins) the leader lease. Never two at
   * once: a sweep already running here is joined rather than repeated, and another replica's lease means that
   * replica leads (`not_leader`). Uses the same lease and the same sweep as the timer.
   */
  async sweepNow(): Promise<SweepNowResult> {
    if (!this.config.recovery.enabled) {
      return { status: 'disabled' };
    }
    if (this.isStopping()) {
      return { status: 'unavailable' };
    }
    const running = this.inFlight;
    if (running !== null) {
      const joined = await running.catch(() => null);
      return joined ? { status: 'swept', sweep: joined } : { status: 'unavailable' };
    }
    let leading: boolean;
    try {
      leading = (await this.repo.claimLeadership(this.config.replicaId, this.leaseSeconds)) !== null;
    } catch (error) {
      this.logger.warn(`recovery could not claim the leader lease: ${describe(error)}`);
      return { status: 'unavailable' };
    }
    if (!leading) {
      return { status: 'not_leader' };
    }
    const sweep = await this.sweep();
    return sweep ? { status: 'swept', sweep } : { status: 'unavailable' };
  }

  private isStopping(): boolean {
    return this.stopping || this.lifecycle.shuttingDown;
  }

  /**
   * One sweep, if this replica wins the lease: the sweep's row, or null when another replica leads (or this
   * one is stopping, or the database is unreachable). `now` decides which watches are due and when the next
   * try is (tests move it); the sweep row's times are the real ones. Never throws.
   */
  async sweep(now: Date = new Date()): Promise<SweepSummary | null> {
    const previous = this.inFlight;
    const run = (async () => {
      await previous?.catch(() => null);
      return this.run(now);
    })();
    this.inFlight = run;
    try {
      return await run;
    } finally {
      if (this.inFlight === run) {
        this.inFlight = null;
      }
    }
  }

  private async run(now: Date): Promise<SweepSummary | null> {
    if (this.isStopping()) {
      return null;
    }
    let leader: Leadership | null;
    try {
      leader = await this.lead();
    } catch (error) {
      this.logger.warn(`recovery could not claim the leader lease: ${describe(error)}`);
      this.metrics.counter(RECOVERY_SWEEPS).inc({ result: 'error' });
      return null;
    }
    if (leader === null) {
      this.metrics.counter(RECOVERY_SWEEPS).inc({ result: 'not_leader' });
      await this.refreshGauge();
      return null;
    }

    const sweepId = randomUUID();
    const startedAt = new Date();
    const counts: Counts = {
      jobsRead: 0,
      started: 0,
      skipped: 0,
      needsAttention: 0,
      errors: 0,
      graphRequests: 0,
    };
    const notes: string[] = [];
    let result: 'ok' | 'error' = 'ok';
    try {
      if (!(await this.repo.startSweep(sweepId, leader.term, startedAt))) {
        leader.lost = true;
        this.metrics.counter(RECOVERY_SWEEPS).inc({ result: 'not_leader' });
        return null;
      }
      const stop = await this.work(now, counts, leader);
      if (stop !== null) {
        notes.push(stop);
      }
    } catch (error) {
      result = 'error';
      counts.errors += 1;
      notes.push(`The sweep failed: ${describe(error)}`);
      this.logger.error(`recovery sweep ${sweepId} failed: ${describe(error)}`);
    }
    const message = notes.length > 0 ? notes.join('; ') : null;
    const finishedAt = new Date();
    let summary: SweepSummary;
    try {
      summary = await this.repo.finishSweep(sweepId, finishedAt, { ...counts, message });
    } catch (error) {
      result = 'error';
      this.logger.error(`recovery sweep ${sweepId} could not be recorded: ${describe(error)}`);
      summary = {
        sweepId,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        leader: this.config.replicaId,
        ...counts,
        message,
      };
    }
    this.metrics.counter(RECOVERY_SWEEPS).inc({ result });
    await this.refreshGauge();
    this.logger.log({
      msg: 'recovery sweep finished',
      sweepId,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      ...counts,
      message,
    });
    return summary;
  }

  private async refreshGauge(): Promise<void> {
    try {
      this.metrics.gauge(RECOVERY_NEEDS_ATTENTION).set(await this.repo.countNeedingAttention());
    } catch (error) {
      this.logger.debug(`recovery gauge not refreshed: ${describe(error)}`);
    }
  }

  /**
   * Leads: keeps the current leadership when its heartbeat still holds it, else claims the lease (a new term) and
   * starts the heartbeat. Null when another replica leads.
   */
  private async lead(): Promise<Leadership | null> {
    const current = this.leadership;
    if (current !== null && !current.lost) {
      if (await this.repo.renewLeadership(current.term, this.leaseSeconds)) {
        return current;
      }
      this.loseLeadership(current, 'its lease could not be renewed');
    }
    const term = await this.repo.claimLeadership(this.config.replicaId, this.leaseSeconds);
    if (term === null) {
      return null;
    }
    const leader: Leadership = { term, lost: false, timer: null };
    // The heartbeat: renews every third of the lease, whatever the sweep is doing.
    leader.timer = setInterval(() => void this.beat(leader), Math.max(250, (this.leaseSeconds * 1000) / 3));
    leader.timer.unref();
    this.leadership = leader;
    return leader;
  }

  private async beat(leader: Leadership): Promise<void> {
    if (leader.lost || leader.beating) {
      return;
    }
    leader.beating = true;
    try {
      if (!(await this.repo.renewLeadership(leader.term, this.leaseSeconds))) {
        this.loseLeadership(leader, 'another replica holds the lease');
      }
    } catch (error) {
      // The database is away: the lease may run out; the fenced writes and the next beat decide.
      this.logger.warn(`recovery lease heartbeat failed: ${describe(error)}`);
    } finally {
      leader.beating = false;
    }
  }

  private loseLeadership(leader: Leadership, why: string): void {
    if (!leader.lost) {
      this.logger.warn(`recovery leadership (term ${leader.term.term}) lost: ${why}`);
    }
    leader.lost = true;
    if (leader.timer !== null) {
      clearInterval(leader.timer);
      leader.timer = null;
    }
    if (this.leadership === leader) {
      this.leadership = null;
    }
  }

  private stopHeartbeat(): void {
    if (this.leadership !== null) {
      this.loseLeadership(this.leadership, 'the replica is stopping');
    }
  }

  /** Pages through the due watches, 20 per `$batch`. Returns why it stopped early, or null. */
  private async work(now: Date, counts: Counts, leader: Leadership): Promise<StopReason> {
    let afterId: string | null = null;
    for (;;) {
      const page = await this.repo.dueWatches(now, afterId, PAGE_SIZE);
      if (page.length === 0) {
        return null;
      }
      afterId = page[page.length - 1]?.id ?? null;
      for (let i = 0; i < page.length; i += RECOVERY_BATCH_SIZE) {
        if (this.isStopping()) {
          return 'Stopped early: the replica is shutting down; the rest is left for the next sweep';
        }
        if (leader.lost) {
          return LEASE_LOST;
        }
        const stop = await this.sweepBatch(page.slice(i, i + RECOVERY_BATCH_SIZE), now, counts, leader);
        if (stop !== null) {
          return stop;
        }
      }
      if (page.length < PAGE_SIZE) {
        return null;
      }
    }
  }

  private tally(counts: Counts, tally: Tally): void {
    switch (tally) {
      case 'started':
        counts.started += 1;
        break;
      case 'skipped':
        counts.skipped += 1;
        break;
      case 'needs_attention':
        counts.needsAttention += 1;
        break;
      case 'failed':
      case 'error':
        counts.errors += 1;
        break;
      case 'none':
        break;
    }
  }

  /** Reads one batch, decides on its quarantined jobs and saves the watches. Returns a stop reason or null. */
  private async sweepBatch(
    watches: WatchRecord[],
    now: Date,
    counts: Counts,
    leader: Leadership,
  ): Promise<StopReason> {
    const refs: JobRef[] = watches.map((w) => ({ servicePrincipalId: w.servicePrincipalId, jobId: w.jobId }));
    let items: BatchItemResult[];
    try {
      const res = await this.graph.batchGetJobs(refs, { deadline: Date.now() + BATCH_BUDGET_MS });
      counts.graphRequests += res.requestIds.length;
      items = res.value;
    } catch (error) {
      if (!(error instanceof GraphError)) {
        throw error;
      }
      counts.graphRequests += error.requestIds.length;
      counts.errors += 1;
      if (error.kind === 'throttled') {
        const after = error.details.retryAfterSeconds;
        return `Graph throttled the $batch read${after !== undefined ? ` (Retry-After ${after} s)` : ''}; stopped reading, the remaining due watches are left for the next sweep`;
      }
      return `Graph failed the $batch read (${error.message}); stopped reading, the remaining due watches are left for the next sweep`;
    }

    const save: WatchRecord[] = [];
    const toDecide: WatchRecord[] = [];
    let throttled: GraphError | null = null;
    watches.forEach((watch, index) => {
      const item = items[index];
      if (item === undefined) {
        return;
      }
      if (!item.ok) {
        if (item.error.kind === 'throttled') {
          throttled ??= item.error;
          return;
        }
        const v = afterReadError(watch, item.error);
        this.tally(counts, v.tally);
        save.push(v.record);
        return;
      }
      counts.jobsRead += 1;
      const v = afterRead(watch, item.job, now, this.rules);
      this.tally(counts, v.tally);
      (v.decide ? toDecide : save).push(v.record);
    });

    await eachLimited(toDecide, DECISION_CONCURRENCY, async (record) => {
      if (this.isStopping() || leader.lost) {
        save.push(record);
        return;
      }
      save.push(await this.decide(record, now, counts));
    });
    // Fenced by the term: if another replica took over meanwhile, this writes nothing.
    const written = await this.repo.saveWatches(save, leader.term, now);
    if (save.length > 0 && written === 0) {
      this.loseLeadership(leader, 'the watches were not written (fenced by a newer term)');
      return LEASE_LOST;
    }

    const t = throttled as GraphError | null;
    if (t !== null) {
      counts.errors += 1;
      const after = t.details.retryAfterSeconds;
      return `Graph throttled part of a $batch read${after !== undefined ? ` (Retry-After ${after} s)` : ''}; stopped reading, the remaining due watches are left for the next sweep`;
    }
    return null;
  }

  private async decide(record: WatchRecord, now: Date, counts: Counts): Promise<WatchRecord> {
    try {
      const decision = await this.guard.decide({
        servicePrincipalId: record.servicePrincipalId,
        jobId: record.jobId,
        trigger: 'recovery',
        actor: { type: 'scheduler', id: this.config.replicaId, name: 'recovery' },
        reason: 'scheduled recovery of a quarantined job',
        dryRun: false,
        requestId: null,
        policy: (job) => recoveryRefusal(job, this.rules),
      });
      counts.graphRequests += decision.attempt.graphRequestIds.length;
      const v = afterDecision(record, decision, now, this.rules);
      this.tally(counts, v.tally);
      return v.record;
    } catch (error) {
      // The audit store failed: before the claim nothing was sent to Graph; after it, the error's message says
      // whether a start went out (the reconciler settles that row, with its cool-down). Next sweep tries again.
      counts.errors += 1;
      this.logger.warn(
        `recovery of ${record.servicePrincipalId}/${record.jobId} not decided: ${describe(error)}`,
      );
      const shown =
        error instanceof AuditUnavailableError ? error.publicMessage : 'the recovery could not be decided';
      return { ...record, lastMessage: `Recovery not recorded: ${shown}` };
    }
  }
}
