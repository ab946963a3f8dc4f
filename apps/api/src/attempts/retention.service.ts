import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Clock } from '@app/common';
import { RetentionRepository } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { PeriodicWork } from '../scheduling/periodic-work';

export const RETENTION_INTERVAL_NAME = 'audit-retention';
export const RETENTION_FIRST_RUN_NAME = 'audit-retention-first';
const EVERY_MS = 60 * 60_000;
const FIRST_RUN_DELAY_MS = 60_000;
const DAY_MS = 86_400_000;

export interface RetentionRun {
  cutoff: Date | null;
  deleted: number;
  /** Another replica held the retention lock (it is doing the work). */
  skipped: boolean;
  /** The per-run budget ran out; the rest waits for the next run. */
  incomplete: boolean;
}

/**
 * AUDIT_RETENTION_DAYS: attempts older than that many days are deleted hourly (never `pending` ones), in
 * bounded batches, on one replica at a time (advisory lock). Unset: the audit trail is kept forever.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('retention');
  private running: Promise<RetentionRun> | null = null;
  private stopping = false;
  /** Rows per delete transaction, and batches per run (tests lower them). */
  batchSize = 5000;
  maxBatches = 200;

  constructor(
    private readonly repository: RetentionRepository,
    private readonly periodic: PeriodicWork,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.auditRetentionDays === null) {
      return;
    }
    const tick = (): void => {
      void this.runSafely();
    };
    this.periodic.after(RETENTION_FIRST_RUN_NAME, FIRST_RUN_DELAY_MS, tick);
    this.periodic.every(RETENTION_INTERVAL_NAME, EVERY_MS, tick);
  }

  /** No new run once the module stops; the run in progress finishes its batch while the database is up. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.periodic.cancel(RETENTION_FIRST_RUN_NAME);
    this.periodic.cancel(RETENTION_INTERVAL_NAME);
    await this.running?.catch(() => undefined);
  }

  /** One retention pass as of `now` (the clock's by default); callable directly (tests, operators). */
  async run(now: Date = this.clock.now()): Promise<RetentionRun> {
    const days = this.config.auditRetentionDays;
    if (days === null) {
      return { cutoff: null, deleted: 0, skipped: false, incomplete: false };
    }
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    let deleted = 0;
    // Stops between batches at shutdown: the rest waits for the next run, like a run over its budget.
    for (let i = 0; i < this.maxBatches && !this.stopping; i++) {
      const batch = await this.repository.deleteBatch(cutoff, this.batchSize);
      if (!batch.locked) {
        return { cutoff, deleted, skipped: deleted === 0, incomplete: false };
      }
      deleted += batch.deleted;
      if (batch.deleted < this.batchSize) {
        return { cutoff, deleted, skipped: false, incomplete: false };
      }
    }
    return { cutoff, deleted, skipped: false, incomplete: true };
  }

  private async runSafely(): Promise<void> {
    if (this.running) {
      return;
    }
    this.running = this.run();
    try {
      const r = await this.running;
      if (r.deleted > 0 || r.incomplete) {
        this.logger.log(
          `audit retention removed ${r.deleted} attempts older than ${r.cutoff?.toISOString() ?? '-'}${r.incomplete ? ' (more remain for the next run)' : ''}`,
        );
      }
    } catch (error) {
      this.logger.warn(`audit retention failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.running = null;
    }
  }
}
