import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@app/common';
import { GraphError, type GraphResult, type JobRef, type SyncJob } from '@app/graph';
import { syncJob, watchView } from '../../../../test/support/fixtures';
import type { HoldView, KeysetPosition, RecoverySweepView, RecoveryWatchView } from '@app/persistence';
import { type Caller, Role } from '../auth/roles';
import {
  RecoveryWatchService,
  type WatchHolds,
  type WatchJobReader,
  type WatchStore,
} from './recovery-watch.service';

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';
const ADMIN: Caller = {
  actor: { type: 'user', id: 'a1', name: 'Ada' },
  roles: new Set([Role.Admin]),
  tenantId: null,
};

function graphJob(id: string): SyncJob {
  return syncJob({ id });
}

/** Graph with a fixed set of jobs under SP; anything else is not found. */
class FakeGraph implements WatchJobReader {
  constructor(private readonly jobIds: string[]) {}
  getJob(ref: JobRef): Promise<GraphResult<SyncJob>> {
    return this.jobIds.includes(ref.jobId) && ref.servicePrincipalId === SP
      ? Promise.resolve({ value: graphJob(ref.jobId), requestIds: [] })
      : Promise.reject(new GraphError('not_found', 'no such job', { status: 404 }));
  }
  listJobs(servicePrincipalId: string): Promise<GraphResult<SyncJob[]>> {
    return servicePrincipalId === SP
      ? Promise.resolve({ value: this.jobIds.map(graphJob), requestIds: [] })
      : Promise.reject(new GraphError('throttled', 'slow down', { status: 429, retryAfterSeconds: 4 }));
  }
}

/** The watch table in memory: oldest first, one watch per job, keyset on (createdAt, watchId). */
class MemoryWatches implements WatchStore {
  watches: RecoveryWatchView[] = [];
  sweepRows: RecoverySweepView[] = [];

  createWatches(servicePrincipalId: string, jobIds: string[], event: { actorId: string }) {
    const created = new Set<string>();
    for (const jobId of jobIds) {
      if (!this.watches.some((w) => w.servicePrincipalId === servicePrincipalId && w.jobId === jobId)) {
        const watch = this.watch(servicePrincipalId, jobId, event.actorId);
        this.watches.push(watch);
        created.add(watch.watchId);
      }
    }
    const watches = this.watches.filter(
      (w) => w.servicePrincipalId === servicePrincipalId && jobIds.includes(w.jobId),
    );
    return Promise.resolve({ watches, created });
  }

  listWatches(filter: { servicePrincipalId?: string; after: KeysetPosition | null; limit: number }) {
    const after = filter.after;
    return Promise.resolve(
      this.watches
        .filter(
          (w) =>
            filter.servicePrincipalId === undefined || w.servicePrincipalId === filter.servicePrincipalId,
        )
        .filter((w) => after === null || w.createdAt > after.at.toISOString())
        .slice(0, filter.limit),
    );
  }

  deleteWatch(watchId: string) {
    const found = this.watches.find((w) => w.watchId === watchId) ?? null;
    this.watches = this.watches.filter((w) => w !== found);
    return Promise.resolve(found);
  }

  listSweeps(filter: { limit: number }) {
    return Promise.resolve(this.sweepRows.slice(0, filter.limit));
  }

  private watch(servicePrincipalId: string, jobId: string, createdBy: string): RecoveryWatchView {
    return watchView({
      watchId: randomUUID(),
      servicePrincipalId,
      jobId,
      createdAt: new Date(Date.UTC(2026, 10, 28, 12, 0, this.watches.length)).toISOString(),
      createdBy,
    });
  }
}

class FakeHolds implements WatchHolds {
  holds: HoldView[] = [];
  activeFor(sps: string[]) {
    return Promise.resolve(this.holds.filter((h) => sps.includes(h.servicePrincipalId)));
  }
}

describe('RecoveryWatchService', () => {
  let store: MemoryWatches;
  let holds: FakeHolds;
  let service: RecoveryWatchService;

  beforeEach(() => {
    store = new MemoryWatches();
    holds = new FakeHolds();
    service = new RecoveryWatchService(store, new FakeGraph(['scim.1', 'scim.2', 'scim.3']), holds);
  });

  it('watches a job Graph has, once: created, then the existing watch', async () => {
    const first = await service.create({ servicePrincipalId: SP, jobId: 'scim.1' }, ADMIN, null);
    expect(first).toMatchObject({ kind: 'one', created: true, watch: { jobId: 'scim.1', createdBy: 'a1' } });
    const again = await service.create({ servicePrincipalId: SP, jobId: 'scim.1' }, ADMIN, null);
    expect(again).toMatchObject({ kind: 'one', created: false });
    expect(store.watches).toHaveLength(1);
  });

  it('refuses a job Graph does not have (JOB_NOT_FOUND), storing nothing', async () => {
    await expect(
      service.create({ servicePrincipalId: SP, jobId: 'scim.404' }, ADMIN, null),
    ).rejects.toMatchObject({ code: ErrorCode.JOB_NOT_FOUND });
    expect(store.watches).toEqual([]);
  });

  it('watches every job Graph lists, counting only the new ones; Graph throttling is GRAPH_THROTTLED', async () => {
    await service.create({ servicePrincipalId: SP, jobId: 'scim.2' }, ADMIN, null);
    const all = await service.create({ servicePrincipalId: SP, allJobs: true }, ADMIN, null);
    expect(all).toMatchObject({ kind: 'all', created: 2 });
    const other = 'aaaaaaaa-1111-4111-8111-111111111111';
    await expect(
      service.create({ servicePrincipalId: other, allJobs: true }, ADMIN, null),
    ).rejects.toMatchObject({
      code: ErrorCode.GRAPH_THROTTLED,
      details: { retryAfterSeconds: 4 },
    });
  });

  it('pages the list with a cursor and shows the hold that applies to each job', async () => {
    await service.create({ servicePrincipalId: SP, allJobs: true }, ADMIN, null);
    holds.holds = [
      {
        holdId: randomUUID(),
        servicePrincipalId: SP,
        jobId: 'scim.2',
        reason: 'migration',
        until: null,
        placedAt: '2026-11-28T12:00:00.000Z',
        placedBy: { id: 'a2', name: null },
        releasedAt: null,
        releasedBy: null,
        active: true,
      },
    ];
    const first = await service.list({ limit: '2' });
    expect(first.items.map((w) => [w.jobId, w.hold?.reason ?? null])).toEqual([
      ['scim.1', null],
      ['scim.2', 'migration'],
    ]);
    const second = await service.list({ limit: '2', cursor: first.nextCursor ?? '' });
    expect(second.items.map((w) => w.jobId)).toEqual(['scim.3']);
    expect(second.nextCursor).toBeNull();
  });

  it('removes a watch, and answers WATCH_NOT_FOUND or INVALID_INPUT otherwise', async () => {
    const one = await service.create({ servicePrincipalId: SP, jobId: 'scim.1' }, ADMIN, null);
    const watchId = one.kind === 'one' ? one.watch.watchId : '';
    await service.remove(watchId, ADMIN);
    await expect(service.remove(watchId, ADMIN)).rejects.toMatchObject({ code: ErrorCode.WATCH_NOT_FOUND });
    await expect(service.remove('x', ADMIN)).rejects.toMatchObject({ code: ErrorCode.INVALID_INPUT });
    await expect(service.list({ state: 'sleeping' })).rejects.toMatchObject({
      code: ErrorCode.INVALID_INPUT,
    });
  });
});
