import { Readable } from 'node:stream';
import type { AttemptView } from '@app/common';
import { ErrorCode } from '@app/common';
import {
  type ActorGroup,
  type AttemptExport,
  type AttemptFilter,
  type AttemptKey,
  type AttemptPage,
  type AttemptStats,
  type JobGroup,
  emptyOutcomeCounts,
} from '@app/persistence';
import { attemptView } from '../../../../test/support/fixtures';
import { parseListQuery, parseStatsQuery } from './attempt-query';
import { type AttemptReader, AttemptsService } from './attempts.service';
import { CursorCodec, InvalidCursorError } from './cursor';

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';

function matches(a: AttemptView, f: AttemptFilter): boolean {
  return (
    (f.jobId === undefined || a.jobId === f.jobId) &&
    (f.outcomes === undefined || (f.outcomes as string[]).includes(a.outcome)) &&
    (f.actorId === undefined || a.actor.id === f.actorId)
  );
}

/** The attempt store in memory: newest first by (createdAt, attemptId), filtered like the SQL. */
class MemoryAttempts implements AttemptReader {
  rows: AttemptView[] = [];
  failing = false;

  private ordered(f: AttemptFilter): AttemptView[] {
    return this.rows
      .filter((a) => matches(a, f))
      .sort((x, y) => y.createdAt.localeCompare(x.createdAt) || y.attemptId.localeCompare(x.attemptId));
  }

  private guard(): void {
    if (this.failing) {
      throw new Error('Connection terminated unexpectedly');
    }
  }

  list(filter: AttemptFilter, limit: number, after: AttemptKey | null): Promise<AttemptPage> {
    this.guard();
    const rows = this.ordered(filter).filter(
      (a) =>
        after === null ||
        a.createdAt < after.createdAt.toISOString() ||
        (a.createdAt === after.createdAt.toISOString() && a.attemptId < after.id),
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return Promise.resolve({
      items,
      next: rows.length > limit && last ? { createdAt: new Date(last.createdAt), id: last.attemptId } : null,
    });
  }

  get(attemptId: string): Promise<AttemptView | null> {
    this.guard();
    return Promise.resolve(this.rows.find((a) => a.attemptId === attemptId) ?? null);
  }

  stats(filter: AttemptFilter): Promise<AttemptStats> {
    this.guard();
    const byOutcome = emptyOutcomeCounts();
    const rows = this.ordered(filter);
    for (const a of rows) {
      if (a.outcome !== 'pending') {
        byOutcome[a.outcome] += 1;
      }
    }
    return Promise.resolve({ total: rows.length, byOutcome });
  }

  statsByJob(filter: AttemptFilter, top: number): Promise<JobGroup[]> {
    const groups = new Map<string, JobGroup>();
    for (const a of this.ordered(filter)) {
      const g = groups.get(a.jobId) ?? {
        servicePrincipalId: a.servicePrincipalId,
        jobId: a.jobId,
        total: 0,
        byOutcome: emptyOutcomeCounts(),
      };
      g.total += 1;
      groups.set(a.jobId, g);
    }
    return Promise.resolve([...groups.values()].sort((x, y) => y.total - x.total).slice(0, top));
  }

  statsByActor(): Promise<ActorGroup[]> {
    return Promise.resolve([]);
  }

  openExport(filter: AttemptFilter): Promise<AttemptExport> {
    this.guard();
    return Promise.resolve({ rows: Readable.from(this.ordered(filter)), close: () => undefined });
  }
}

function at(i: number, over: Partial<AttemptView> = {}): AttemptView {
  return attemptView({
    attemptId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    createdAt: new Date(Date.UTC(2026, 10, 28, 12, 0, i)).toISOString(),
    servicePrincipalId: SP,
    ...over,
  });
}

describe('AttemptsService', () => {
  let store: MemoryAttempts;
  let service: AttemptsService;

  beforeEach(() => {
    store = new MemoryAttempts();
    service = new AttemptsService(store, new CursorCodec('unit-test-key'));
    store.rows = [
      at(1, { jobId: 'scim.a' }),
      at(2, { jobId: 'scim.b', outcome: 'denied' }),
      at(3, { jobId: 'scim.a', outcome: 'rate_limited' }),
      at(4, { jobId: 'scim.a' }),
      at(5, { jobId: 'scim.a', outcome: 'skipped' }),
    ];
  });

  it('pages newest first with a cursor that continues where the last page ended', async () => {
    const first = await service.list(parseListQuery({ jobId: 'scim.a', limit: '2' }));
    expect(first.items.map((a) => a.attemptId.slice(-1))).toEqual(['5', '4']);
    expect(first.nextCursor).not.toBeNull();
    const second = await service.list(
      parseListQuery({ jobId: 'scim.a', limit: '2', cursor: first.nextCursor ?? '' }),
    );
    expect(second.items.map((a) => a.attemptId.slice(-1))).toEqual(['3', '1']);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses a cursor issued for other filters: 400 INVALID_CURSOR, the store not asked', async () => {
    const first = await service.list(parseListQuery({ jobId: 'scim.a', limit: '1' }));
    store.failing = true;
    const error = await service
      .list(parseListQuery({ jobId: 'scim.b', limit: '1', cursor: first.nextCursor ?? '' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCursorError);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_CURSOR });
  });

  it('finds one attempt, and answers an unknown one with ATTEMPT_NOT_FOUND', async () => {
    await expect(service.get(at(2).attemptId)).resolves.toMatchObject({ outcome: 'denied' });
    await expect(service.get('00000000-0000-4000-8000-00000000dead')).rejects.toMatchObject({
      code: ErrorCode.ATTEMPT_NOT_FOUND,
      message: 'attempt 00000000-0000-4000-8000-00000000dead not found',
    });
  });

  it('counts by outcome and by job over the same filters', async () => {
    const stats = await service.stats(parseStatsQuery({ groupBy: 'job', limit: '1' }));
    expect(stats).toMatchObject({ total: 5, groupBy: 'job', from: null, to: null });
    expect(stats.byOutcome).toMatchObject({ started: 2, denied: 1, rate_limited: 1, skipped: 1 });
    expect(stats.groups).toEqual([expect.objectContaining({ jobId: 'scim.a', total: 4 })]);
  });

  it('lets a store failure through untouched (the errors filter answers it 503)', async () => {
    store.failing = true;
    await expect(service.list(parseListQuery({}))).rejects.toThrow(/Connection terminated/);
    await expect(service.get(at(1).attemptId)).rejects.toThrow(/Connection terminated/);
  });
});
