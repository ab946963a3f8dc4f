import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { AttemptView } from '@app/common';
import {
  type ActorGroup,
  type AttemptExport,
  AttemptRepository,
  type JobGroup,
  type OutcomeCounts,
} from '@app/persistence';
import { BadRequestException } from '@nestjs/common';
import type { ExportQuery, ListQuery, StatsGroupBy, StatsQuery } from './attempt-query';
import { CursorCodec, InvalidCursorError } from './cursor';

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

/** The audit read side: pages with signed keyset cursors, statistics and streamed exports. */
@Injectable()
export class AttemptsService {
  private readonly logger = new Logger('attempts');

  constructor(
    private readonly attempts: AttemptRepository,
    @Inject(AUDIT_CURSOR_CODEC) private readonly cursors: CursorCodec,
  ) {}

  async list(q: ListQuery): Promise<AttemptPageView> {
    let after = null;
    if (q.cursor !== null) {
      try {
        after = this.cursors.decode(q.cursor, q.filter);
      } catch (error) {
        if (error instanceof InvalidCursorError) {
          throw new BadRequestException(error.message);
        }
        throw error;
      }
    }
    const page = await this.store(() => this.attempts.list(q.filter, q.limit, after));
    return {
      items: page.items,
      nextCursor: page.next ? this.cursors.encode(page.next, q.filter) : null,
    };
  }

  async get(attemptId: string): Promise<AttemptView> {
    const attempt = await this.store(() => this.attempts.get(attemptId));
    if (!attempt) {
      throw new NotFoundException(`attempt ${attemptId} not found`);
    }
    return attempt;
  }

  async stats(q: StatsQuery): Promise<AttemptStatsView> {
    const [counts, groups] = await this.store(() =>
      Promise.all([
        this.attempts.stats(q.filter),
        q.groupBy === 'job'
          ? this.attempts.statsByJob(q.filter, q.limit)
          : q.groupBy === 'actor'
            ? this.attempts.statsByActor(q.filter, q.limit)
            : Promise.resolve([]),
      ]),
    );
    return {
      from: q.filter.from?.toISOString() ?? null,
      to: q.filter.to?.toISOString() ?? null,
      total: counts.total,
      byOutcome: counts.byOutcome,
      groupBy: q.groupBy,
      groups,
    };
  }

  /** Opens the export's database cursor; 503 when no connection can be had (nothing sent yet). */
  openExport(q: ExportQuery): Promise<AttemptExport> {
    return this.store(() => this.attempts.openExport(q.filter));
  }

  /** Database failures fail closed: 503 in the problem shape, the cause logged (never sent). */
  private async store<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof HttpException) {
        throw error;
      }
      this.logger.warn(`audit store unavailable: ${error instanceof Error ? error.message : String(error)}`);
      throw new ServiceUnavailableException('the audit store is unavailable; try again shortly');
    }
  }
}
