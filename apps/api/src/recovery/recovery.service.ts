import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '@app/common';
import { RecoveryRepository, type RecoverySweepView } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { Lifecycle } from '../health/lifecycle';
import { MetricsService } from '../metrics/metrics.service';
import { RECOVERY_NEEDS_ATTENTION, RECOVERY_SWEEPS } from '../metrics/metric-names';
import { RecoveryLease, type SweepLeader } from './recovery-lease';
import { RecoverySweep, emptyCounts } from './recovery-sweep';

export { RECOVERY_BATCH_SIZE } from './recovery-sweep';

/** What `sweepNow()` did: swept (here, or joined the sweep already running here), or why not. */
export type SweepNowResult =
  { status: 'swept'; sweep: SweepSummary } | { status: 'not_leader' | 'disabled' | 'unavailable' };

export type SweepSummary = RecoverySweepView;

/** What one sweep run needs from the database: its row, and the count behind the needs-attention gauge. */
export type SweepRowStore = Pick<RecoveryRepository, 'startSweep' | 'finishSweep' | 'countNeedingAttention'>;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Scheduled recovery of quarantined jobs (DESIGN section 3a): one sweep at a time per replica, led by the
 * replica that holds the lease (RecoveryLease), recorded as a sweep row naming the leader, and counted in the
 * metrics. The sweep's decisions are RecoverySweep's; the timer is RecoveryScheduler's; `sweepNow()` is
 * `POST /v1/recovery/sweeps`.
 */
@Injectable()
export class RecoveryService implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(RecoveryService.name);
  private stopping = false;
  private inFlight: Promise<SweepSummary | null> | null = null;

  constructor(
    @Inject(RecoveryRepository) private readonly repo: SweepRowStore,
    private readonly lease: RecoveryLease,
    private readonly sweeper: RecoverySweep,
    private readonly metrics: MetricsService,
    private readonly lifecycle: Lifecycle,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The lease length (a 503's Retry-After when the sweep cannot run now). */
  get leaseSeconds(): number {
    return this.lease.seconds;
  }

  /**
   * Graceful stop, in onModuleDestroy rather than onApplicationShutdown: Nest destroys this module before the
   * PersistenceModule it imports, whose PrismaService disconnects in its own onModuleDestroy, and the sweep in
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
    await this.inFlight?.catch(() => null);
    await this.lease.release();
  }

  /** The timer's call: one sweep at a time per replica; a tick during a sweep is skipped. Never throws. */
  tick(): void {
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
      leading = await this.lease.claim();
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
   * try is (tests move it); the sweep row's times are the clock's. Never throws.
   */
  async sweep(now: Date = this.clock.now()): Promise<SweepSummary | null> {
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
    let leader: SweepLeader | null;
    try {
      leader = await this.lease.lead();
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
    return this.lead(leader, now);
  }

  /** The sweep as leader: its row first (fenced by the term), the work, then the row's counts. */
  private async lead(leader: SweepLeader, now: Date): Promise<SweepSummary | null> {
    const sweepId = randomUUID();
    const startedAt = this.clock.now();
    const counts = emptyCounts();
    const notes: string[] = [];
    let result: 'ok' | 'error' = 'ok';
    try {
      if (!(await this.repo.startSweep(sweepId, leader.term, startedAt))) {
        leader.lose('the sweep row was not written (fenced by a newer term)');
        this.metrics.counter(RECOVERY_SWEEPS).inc({ result: 'not_leader' });
        return null;
      }
      const stop = await this.sweeper.work(now, counts, leader, () => this.isStopping());
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
    const finishedAt = this.clock.now();
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
}
