import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, validInput } from '@app/common';
import { GraphClient } from '@app/graph';
import {
  HoldRepository,
  type HoldView,
  RecoveryRepository,
  type RecoverySweepView,
  type RecoveryWatchView,
  holdApplying,
} from '@app/persistence';
import type { Caller } from '../auth/roles';
import { readFromGraph } from '../jobs/graph-read-error';
import {
  encodeCursor,
  isUuid,
  parseSweepListQuery,
  parseWatchBody,
  parseWatchListQuery,
} from './recovery-query';
import { type Page, pageOf } from '../http/page';

/** What the watch endpoints need of their collaborators (a test fake implements exactly this). */
export type WatchStore = Pick<
  RecoveryRepository,
  'createWatches' | 'listWatches' | 'deleteWatch' | 'listSweeps'
>;
export type WatchJobReader = Pick<GraphClient, 'getJob' | 'listJobs'>;
export type WatchHolds = Pick<HoldRepository, 'activeFor'>;

export type WatchWithHold = RecoveryWatchView & { hold: HoldView | null };

/** The result of watching: one job (created or already watched), or every job of a service principal. */
export type WatchCreated =
  | { kind: 'one'; watch: RecoveryWatchView; created: boolean }
  | { kind: 'all'; items: RecoveryWatchView[]; created: number };

/** The watch list and sweep history of scheduled recovery (DESIGN sections 2 and 3a). */
@Injectable()
export class RecoveryWatchService {
  constructor(
    @Inject(RecoveryRepository) private readonly repo: WatchStore,
    @Inject(GraphClient) private readonly graph: WatchJobReader,
    @Inject(HoldRepository) private readonly holds: WatchHolds,
  ) {}

  /**
   * Watches a job Graph has (an unknown one is refused now, 404, not flagged by a later sweep), or every job
   * Graph lists for the service principal. Watching a watched job returns the existing watch.
   */
  async create(body: unknown, caller: Caller, requestId: string | null): Promise<WatchCreated> {
    const request = validInput(parseWatchBody(body));
    const event = { actorId: caller.actor.id, actorName: caller.actor.name, action: 'watch.create' };
    const ctx = { clientRequestId: requestId ?? undefined };
    if (request.kind === 'one') {
      const { servicePrincipalId, jobId } = request;
      await readFromGraph(() => this.graph.getJob({ servicePrincipalId, jobId }, ctx));
      const { watches, created } = await this.repo.createWatches(servicePrincipalId, [jobId], event);
      const watch = watches[0];
      if (!watch) {
        throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The watch could not be created');
      }
      return { kind: 'one', watch, created: created.has(watch.watchId) };
    }
    const listed = await readFromGraph(() => this.graph.listJobs(request.servicePrincipalId, ctx));
    const jobIds = listed.value.map((j) => j.id);
    const { watches, created } = await this.repo.createWatches(request.servicePrincipalId, jobIds, event);
    return { kind: 'all', items: watches, created: created.size };
  }

  /** The watch list, oldest first, each with the hold that applies to its job now (DESIGN 2c). */
  async list(query: Record<string, unknown>): Promise<Page<WatchWithHold>> {
    const q = validInput(parseWatchListQuery(query));
    const rows = await this.repo.listWatches({
      ...(q.servicePrincipalId !== undefined ? { servicePrincipalId: q.servicePrincipalId } : {}),
      ...(q.state !== undefined ? { state: q.state } : {}),
      after: q.cursor,
      limit: q.limit + 1,
    });
    const { items, nextCursor } = pageOf(rows, q.limit, (w) => encodeCursor(w.createdAt, w.watchId));
    const holds = await this.holds.activeFor([...new Set(items.map((w) => w.servicePrincipalId))]);
    return {
      items: items.map((w) => ({ ...w, hold: holdApplying(holds, w.servicePrincipalId, w.jobId) })),
      nextCursor,
    };
  }

  async remove(watchId: string, caller: Caller): Promise<void> {
    if (!isUuid(watchId)) {
      throw new DomainError(ErrorCode.INVALID_INPUT, 'watchId must be a UUID');
    }
    const deleted = await this.repo.deleteWatch(watchId, {
      actorId: caller.actor.id,
      actorName: caller.actor.name,
      action: 'watch.delete',
    });
    if (!deleted) {
      throw new DomainError(ErrorCode.WATCH_NOT_FOUND, `No watch ${watchId}`);
    }
  }

  /** Sweep history, newest first. */
  async sweeps(query: Record<string, unknown>): Promise<Page<RecoverySweepView>> {
    const q = validInput(parseSweepListQuery(query));
    const rows = await this.repo.listSweeps({ before: q.cursor, limit: q.limit + 1 });
    return pageOf(rows, q.limit, (s) => encodeCursor(s.startedAt, s.sweepId));
  }
}
