import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type AttemptView, jobKey } from '@app/common';
import { GraphClient, GraphError } from '@app/graph';
import { GuardRepository } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { describeStatus, isStartable } from './guard-policy';

/** How often a running replica looks for attempts another, crashed replica left pending. */
const RECONCILE_INTERVAL_MS = 60_000;

/**
 * Closes attempts left `pending` by a process that died between the claim and the finalise (DESIGN section 3,
 * step 2): at start-up those of this replica id, and on every pass those older than the lease, on any replica.
 * Each is re-read in Graph where that helps and closed as `unknown`, with what the job reads now.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcilerService.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly repo: GuardRepository,
    private readonly graph: GraphClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.reconcile(true);
    this.timer = setInterval(() => void this.reconcile(false), RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
    }
    await this.running;
  }

  /** Settles orphaned attempts; returns how many. Never throws. */
  reconcile(atStartup: boolean): Promise<number> {
    this.running ??= this.pass(atStartup).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(atStartup: boolean): Promise<number> {
    try {
      const stale = await this.repo.findStalePending(this.config.guard.leaseSeconds);
      const own = atStartup ? await this.repo.findPendingOfReplica(this.config.replicaId) : [];
      const all = new Map<string, AttemptView>([...stale, ...own].map((a) => [a.attemptId, a]));
      for (const attempt of all.values()) {
        await this.settle(attempt);
      }
      if (all.size > 0) {
        this.logger.warn(`settled ${all.size} attempt(s) left pending by a stopped process`);
      }
      return all.size;
    } catch (error) {
      this.logger.warn(
        `reconciliation pass failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return 0;
    }
  }

  private async settle(attempt: AttemptView): Promise<void> {
    let now: string;
    let observed = null;
    let reason = null;
    let maybeStarted = false;
    const requestIds: string[] = [];
    try {
      const r = await this.graph.getJob(
        { servicePrincipalId: attempt.servicePrincipalId, jobId: attempt.jobId },
        { deadline: Date.now() + 5000 },
      );
      requestIds.push(...r.requestIds);
      observed = r.value.observedStatus;
      reason = r.value.quarantine?.reason ?? null;
      maybeStarted = !isStartable(r.value.observedStatus);
      now = `the job now reads ${describeStatus(r.value)}`;
    } catch (error) {
      if (error instanceof GraphError) {
        requestIds.push(...error.requestIds);
      }
      now = 'the job could not be re-read';
    }
    try {
      await this.repo.finalise({
        attemptId: attempt.attemptId,
        jobKey: jobKey(attempt.servicePrincipalId, attempt.jobId),
        outcome: 'unknown',
        observedStatus: observed,
        quarantineReason: reason,
        message: `The process deciding this attempt stopped before recording its outcome; ${now}`,
        retryAfterSeconds: null,
        graphRequestIds: requestIds,
        durationMs: Math.max(0, Date.now() - Date.parse(attempt.createdAt)),
        cooldownSeconds:
          maybeStarted && this.config.guard.startCooldownSeconds > 0
            ? this.config.guard.startCooldownSeconds
            : null,
      });
    } catch (error) {
      // Another replica settled it first, or the database is away: the next pass tries again.
      this.logger.debug(
        `attempt ${attempt.attemptId} not settled: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
