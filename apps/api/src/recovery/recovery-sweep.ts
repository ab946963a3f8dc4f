import { Inject, Injectable, Logger } from '@nestjs/common';
import { type BatchItemResult, GraphClient, GraphError, type JobRef } from '@app/graph';
import { RecoveryRepository, type SweepCounts, type WatchRecord } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { isAuditStoreFailure } from '../jobs/guard.errors';
import { GuardService } from '../jobs/guard.service';
import type { SweepLeader } from './recovery-lease';
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
export const LEASE_LOST =
  'Stopped early: the leader lease was lost to another replica; nothing more was written';
/** A sweep's stop reason when the replica is shutting down. */
export const SHUTTING_DOWN =
  'Stopped early: the replica is shutting down; the rest is left for the next sweep';

/** What a sweep counts, for its row. */
export type Counts = Omit<SweepCounts, 'message'>;

export function emptyCounts(): Counts {
  return { jobsRead: 0, started: 0, skipped: 0, needsAttention: 0, errors: 0, graphRequests: 0 };
}

/** Why a sweep stopped reading before the end of the due list (null: it read them all). */
export type StopReason = string | null;

/** What the sweep needs from the database. */
export type WatchStore = Pick<RecoveryRepository, 'dueWatches' | 'saveWatches'>;

/** What the sweep needs from the guard: one guarded decision, with the recovery policy. */
export type RecoveryGuard = Pick<GuardService, 'decide'>;

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

function addTally(counts: Counts, tally: Tally): void {
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

function throttledNote(whole: boolean, error: GraphError): string {
  const after = error.details.retryAfterSeconds;
  return `Graph throttled ${whole ? 'the' : 'part of a'} $batch read${after !== undefined ? ` (Retry-After ${after} s)` : ''}; stopped reading, the remaining due watches are left for the next sweep`;
}

/**
 * The sweep itself (DESIGN section 3a): reads the due watches' jobs in `$batch` requests of 20, puts each
 * quarantined job whose reason allows it through the same guard as an API call (limit, single flight, cool-down,
 * record before acting), with trigger `recovery` and the scheduler as actor, and saves each watch's next state,
 * fenced by the leader's term. Throttling stops the reading for this sweep. Scheduling, the lease and the sweep
 * row are RecoveryService's.
 */
@Injectable()
export class RecoverySweep {
  private readonly logger = new Logger(RecoverySweep.name);
  readonly rules: RecoveryRules;

  constructor(
    @Inject(RecoveryRepository) private readonly repo: WatchStore,
    private readonly graph: GraphClient,
    @Inject(GuardService) private readonly guard: RecoveryGuard,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.rules = {
      maxAttempts: config.recovery.maxAttempts,
      needsPersonReasons: config.recovery.needsPersonReasons,
      backoffSeconds: config.recovery.backoffSeconds,
    };
  }

  /**
   * Pages through the watches due at `now`, 20 per `$batch`, adding to `counts`. Returns why it stopped early, or
   * null when it read them all. `stopping` is asked between batches and decisions. Throws when the database fails.
   */
  async work(now: Date, counts: Counts, leader: SweepLeader, stopping: () => boolean): Promise<StopReason> {
    let afterId: string | null = null;
    for (;;) {
      const page = await this.repo.dueWatches(now, afterId, PAGE_SIZE);
      if (page.length === 0) {
        return null;
      }
      afterId = page[page.length - 1]?.id ?? null;
      for (let i = 0; i < page.length; i += RECOVERY_BATCH_SIZE) {
        if (stopping()) {
          return SHUTTING_DOWN;
        }
        if (leader.lost) {
          return LEASE_LOST;
        }
        const batch = page.slice(i, i + RECOVERY_BATCH_SIZE);
        const stop = await this.sweepBatch(batch, now, counts, leader, stopping);
        if (stop !== null) {
          return stop;
        }
      }
      if (page.length < PAGE_SIZE) {
        return null;
      }
    }
  }

  /** Reads one batch, decides on its quarantined jobs and saves the watches. Returns a stop reason or null. */
  private async sweepBatch(
    watches: WatchRecord[],
    now: Date,
    counts: Counts,
    leader: SweepLeader,
    stopping: () => boolean,
  ): Promise<StopReason> {
    const refs: JobRef[] = watches.map((w) => ({ servicePrincipalId: w.servicePrincipalId, jobId: w.jobId }));
    let items: BatchItemResult[];
    try {
      // A time budget for Graph's answer: real time, whatever `now` the sweep decides with.
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
        return throttledNote(true, error);
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
        addTally(counts, v.tally);
        save.push(v.record);
        return;
      }
      counts.jobsRead += 1;
      const v = afterRead(watch, item.job, now, this.rules);
      addTally(counts, v.tally);
      (v.decide ? toDecide : save).push(v.record);
    });

    await eachLimited(toDecide, DECISION_CONCURRENCY, async (record) => {
      if (stopping() || leader.lost) {
        save.push(record);
        return;
      }
      save.push(await this.decide(record, now, counts));
    });
    // Fenced by the term: if another replica took over meanwhile, this writes nothing.
    const written = await this.repo.saveWatches(save, leader.term, now);
    if (save.length > 0 && written === 0) {
      leader.lose('the watches were not written (fenced by a newer term)');
      return LEASE_LOST;
    }

    const t = throttled as GraphError | null;
    if (t !== null) {
      counts.errors += 1;
      return throttledNote(false, t);
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
      addTally(counts, v.tally);
      return v.record;
    } catch (error) {
      // The audit store failed: before the claim nothing was sent to Graph; after it, the error's message says
      // whether a start went out (the reconciler settles that row, with its cool-down). Next sweep tries again.
      counts.errors += 1;
      this.logger.warn(
        `recovery of ${record.servicePrincipalId}/${record.jobId} not decided: ${describe(error)}`,
      );
      const shown = isAuditStoreFailure(error) ? error.message : 'the recovery could not be decided';
      return { ...record, lastMessage: `Recovery not recorded: ${shown}` };
    }
  }
}
