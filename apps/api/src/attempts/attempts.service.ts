import { Inject, Injectable } from '@nestjs/common';
import { type AttemptView, DomainError, ErrorCode } from '@app/common';
import {
  type ActorGroup,
  type AttemptExport,
  AttemptRepository,
  type JobGroup,
  type OutcomeCounts,
} from '@app/persistence';
import type { ExportQuery, ListQuery, StatsGroupBy, StatsQuery } from './attempt-query';
import { CursorCodec } from './cursor';

export const AUDIT_CURSOR_CODEC = Symbol('AUDIT_CURSOR_CODEC');

export interface AttemptPageView {
  items: AttemptView[];
  nextCursor: string | null;
}

export interface AttemptStatsView {
  from: string | null;
  to: string | null;
  total: number;
  byOutcome: OutcomeCounts;
  groupBy: StatsGroupBy | null;
  groups: (JobGroup | ActorGroup)[];
}

/** What the audit read side needs of the attempt store (a test fake implements exactly this). */
export type AttemptReader = Pick<
  AttemptRepository,
  'list' | 'get' | 'stats' | 'statsByJob' | 'statsByActor' | 'openExport'
>;

/**
 * The audit read side: pages with signed keyset cursors, statistics and streamed exports. Store failures are
 * not caught here: the errors filter answers them with 503 (`AUDIT_UNAVAILABLE`).
 */
@Injectable()
export class AttemptsService {
  constructor(
    @Inject(AttemptRepository) private readonly attempts: AttemptReader,
    @Inject(AUDIT_CURSOR_CODEC) private readonly cursors: CursorCodec,
  ) {}

  /** A page of attempts; a cursor not issued for these filters is a 400 (`INVALID_CURSOR`). */
  async list(q: ListQuery): Promise<AttemptPageView> {
    const after = q.cursor === null ? null : this.cursors.decode(q.cursor, q.filter);
    const page = await this.attempts.list(q.filter, q.limit, after);
    return {
      items: page.items,
      nextCursor: page.next ? this.cursors.encode(page.next, q.filter) : null,
    };
  }

  async get(attemptId: string): Promise<AttemptView> {
    const attempt = await this.attempts.get(attemptId);
    if (!attempt) {
      throw new DomainError(ErrorCode.ATTEMPT_NOT_FOUND, `attempt ${attemptId} not found`);
    }
    return attempt;
  }

  async stats(q: StatsQuery): Promise<AttemptStatsView> {
    const [counts, groups] = await Promise.all([
      this.attempts.stats(q.filter),
      q.groupBy === 'job'
        ? this.attempts.statsByJob(q.filter, q.limit)
        : q.groupBy === 'actor'
          ? this.attempts.statsByActor(q.filter, q.limit)
          : Promise.resolve([]),
    ]);
    return {
      from: q.filter.from?.toISOString() ?? null,
      to: q.filter.to?.toISOString() ?? null,
      total: counts.total,
      byOutcome: counts.byOutcome,
      groupBy: q.groupBy,
      groups,
    };
  }

  /** Opens the export's database cursor (a store failure answers 503 before anything is sent). */
  openExport(q: ExportQuery): Promise<AttemptExport> {
    return this.attempts.openExport(q.filter);
  }
}
