import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type AttemptView, Clock, jobKey } from '@app/common';
import { GraphClient, GraphError } from '@app/graph';
import { GuardRepository, type PendingPosition } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { PeriodicWork } from '../scheduling/periodic-work';
import { describeStatus } from './guard-policy';

/** Name of the reconciler's pass in the scheduler. */
/** Past the 1 ms by which a row written just before the start can look as late as the start. */
const START_ALLOWANCE_MS = 3;
export const RECONCILE_INTERVAL_NAME = 'pending-reconciliation';
/** How often a running replica looks for attempts another, crashed replica left pending. */
const RECONCILE_INTERVAL_MS = 60_000;
/** Pending rows are read this many at a time. */
const PAGE_SIZE = 500;
/** Time budget of the status re-read of one settled row. */
const REREAD_BUDGET_MS = 5000;

/** What one pass did. */
export interface ReconcileReport {
  /** Rows this pass finalised. */
  settled: number;
  /** Rows it found but could not finalise (settled by another replica meanwhile, or the database failed). */
  failed: number;
}

/**
 * Closes attempts left `pending` by a process that died between the claim and the finalise (DESIGN section 3,
 * step 2): at start-up those this replica id wrote before this process started, and on every pass those older
 * than the lease, on any replica. Each is re-read in Graph where that helps and closed as `unknown`, with what the
 * job reads now. A row whose start may have been sent (every row but a dry run: nobody knows how far the dead
 * process got) starts the cool-down, whatever the re-read shows; a dry run never does.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcilerService.name);
  private running: Promise<ReconcileReport> | null = null;
  private stopping = false;
  /** The database's time when this process started: own rows older than this are a previous run's. */
  private bootedAt: Date | null = null;

  constructor(
    private readonly repo: GuardRepository,
    private readonly graph: GraphClient,
    private readonly periodic: PeriodicWork,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Awaited before the app listens: the instant that separates a previous run's rows from this process's own.
    try {
      this.bootedAt = await this.repo.databaseNow();
      // Rows of this process must fall after the start-up instant and its 1 ms allowance (created_at keeps
      // milliseconds): nothing is served before this returns, and this waits past the allowance.
      await new Promise((resolve) => setTimeout(resolve, START_ALLOWANCE_MS));
    } catch (error) {
      this.logger.warn(
        `start-up reconciliation skipped (database unreachable): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    void this.reconcile(this.bootedAt !== null);
    this.periodic.every(RECONCILE_INTERVAL_NAME, RECONCILE_INTERVAL_MS, () => void this.reconcile(false));
  }

  /**
   * Stops before the database pool and the Graph client close: Nest destroys this module before the persistence
   * and Graph modules it imports, so the pass in progress can finish its current row.
   */
  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    this.periodic.cancel(RECONCILE_INTERVAL_NAME);
    await this.running;
  }

  /** Settles orphaned attempts; reports how many it settled and how many it could not. Never throws. */
  reconcile(atStartup: boolean): Promise<ReconcileReport> {
    this.running ??= this.pass(atStartup).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(atStartup: boolean): Promise<ReconcileReport> {
    const report: ReconcileReport = { settled: 0, failed: 0 };
    const seen = new Set<string>();
    try {
      await this.drain(
        (after) => this.repo.findStalePending(this.config.guard.leaseSeconds, after, PAGE_SIZE),
        seen,
        report,
      );
      const bootedAt = this.bootedAt;
      if (atStartup && bootedAt !== null) {
        await this.drain(
          (after) => this.repo.findPendingOfReplica(this.config.replicaId, bootedAt, after, PAGE_SIZE),
          seen,
          report,
        );
      }
    } catch (error) {
      this.logger.warn(
        `reconciliation pass failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (report.settled > 0) {
      this.logger.warn(`settled ${report.settled} attempt(s) left pending by a stopped process`);
    }
    if (report.failed > 0) {
      this.logger.warn(
        `${report.failed} attempt(s) left pending could not be settled; the next pass tries again`,
      );
    }
    return report;
  }

  /** Pages through pending rows past the ones that could not be settled, until the end or shutdown. */
  private async drain(
    page: (after: PendingPosition | null) => Promise<AttemptView[]>,
    seen: Set<string>,
    report: ReconcileReport,
  ): Promise<void> {
    let after: PendingPosition | null = null;
    for (;;) {
      const rows = await page(after);
      for (const attempt of rows) {
        if (this.stopping) {
          return;
        }
        if (seen.has(attempt.attemptId)) {
          continue;
        }
        seen.add(attempt.attemptId);
        if (await this.settle(attempt)) {
          report.settled += 1;
        } else {
          report.failed += 1;
        }
      }
      const last = rows[rows.length - 1];
      if (rows.length < PAGE_SIZE || last === undefined) {
        return;
      }
      after = { createdAt: last.createdAt, id: last.attemptId };
    }
  }

  /** Finalises one row as `unknown`; true when this call settled it. */
  private async settle(attempt: AttemptView): Promise<boolean> {
    let now: string;
    let observed = null;
    let reason = null;
    const requestIds: string[] = [];
    try {
      const r = await this.graph.getJob(
        { servicePrincipalId: attempt.servicePrincipalId, jobId: attempt.jobId },
        { deadline: Date.now() + REREAD_BUDGET_MS },
      );
      requestIds.push(...r.requestIds);
      observed = r.value.observedStatus;
      reason = r.value.quarantine?.reason ?? null;
      now = `the job now reads ${describeStatus(r.value)}`;
    } catch (error) {
      if (error instanceof GraphError) {
        requestIds.push(...error.requestIds);
      }
      now = 'the job could not be re-read';
    }
    const cooldown = !attempt.dryRun && this.config.guard.startCooldownSeconds > 0;
    const known = attempt.dryRun
      ? 'it was a dry run, so no start was sent'
      : 'a start may or may not have been sent, so the cool-down applies';
    try {
      await this.repo.finalise({
        attemptId: attempt.attemptId,
        jobKey: jobKey(attempt.servicePrincipalId, attempt.jobId),
        outcome: 'unknown',
        observedStatus: observed,
        quarantineReason: reason,
        message: `The process deciding this attempt stopped before recording its outcome; ${known}; ${now}`,
        retryAfterSeconds: null,
        graphRequestIds: requestIds,
        durationMs: Math.max(0, this.clock.now().getTime() - Date.parse(attempt.createdAt)),
        cooldownSeconds: cooldown ? this.config.guard.startCooldownSeconds : null,
      });
      return true;
    } catch (error) {
      // Another replica settled it first, or the database is away: the next pass tries again.
      this.logger.debug(
        `attempt ${attempt.attemptId} not settled: ${error instanceof Error ? error.message : String(error)}`,
      );
      return false;
    }
  }
}
