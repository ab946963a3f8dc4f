import { DomainError, ErrorCode } from '@app/common';
import { GraphError, type GraphResult, type JobRef, type SyncJob } from '@app/graph';
import type { FinalRecordInput, HoldView } from '@app/persistence';
import { attemptView, syncJob } from '../../../../test/support/fixtures';
import { type Caller, Role } from '../auth/roles';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { AuditUnavailableError } from './guard.errors';
import type { GuardDecision, GuardRequest } from './guard.service';
import {
  type ActiveHolds,
  type GuardDecider,
  type JobReader,
  JobsService,
  type RefusalRecorder,
} from './jobs.service';

const SP = '6D3F8A52-1C4B-4E8A-9F27-3B5C0D9E7A14';
const sp = SP.toLowerCase();

function caller(...roles: Role[]): Caller {
  return { actor: { type: 'user', id: 'user-1', name: 'Ada' }, roles: new Set(roles), tenantId: null };
}

function job(id: string, over: Partial<SyncJob> = {}): SyncJob {
  return syncJob({ id, ...over });
}

/** The guard: records what it was asked and answers `started`. */
class FakeGuard implements GuardDecider {
  asked: GuardRequest[] = [];
  decide(req: GuardRequest): Promise<GuardDecision> {
    this.asked.push(req);
    return Promise.resolve({
      attempt: attemptView({ outcome: 'started' }),
      upstreamStatus: null,
      job: null,
    });
  }
}

/** The refusal statement: keeps each final row, or fails like a database that is away. */
class FakeRefusals implements RefusalRecorder {
  rows: FinalRecordInput[] = [];
  failing = false;
  recordFinal(input: FinalRecordInput) {
    if (this.failing) {
      return Promise.reject(new Error('connect ECONNREFUSED'));
    }
    this.rows.push(input);
    const { outcome, message, attemptId } = input;
    return Promise.resolve({ attempt: attemptView({ attemptId, outcome, message }), stored: true });
  }
}

/** Graph's jobs by service principal; a GraphError in place of a job is thrown when it is read. */
class FakeGraph implements JobReader {
  jobs = new Map<string, SyncJob | GraphError>();
  reads: JobRef[] = [];
  getJob(ref: JobRef): Promise<GraphResult<SyncJob>> {
    this.reads.push(ref);
    const j = this.jobs.get(ref.jobId);
    if (j === undefined) {
      return Promise.reject(new GraphError('not_found', 'no such job', { status: 404 }));
    }
    return j instanceof GraphError ? Promise.reject(j) : Promise.resolve({ value: j, requestIds: ['r1'] });
  }
  listJobs(): Promise<GraphResult<SyncJob[]>> {
    const all = [...this.jobs.values()].filter((j): j is SyncJob => !(j instanceof GraphError));
    return Promise.resolve({ value: all, requestIds: ['r1'] });
  }
}

class FakeHolds implements ActiveHolds {
  holds: HoldView[] = [];
  failing = false;
  activeFor(sps: string[]): Promise<HoldView[]> {
    if (this.failing) {
      return Promise.reject(new Error('Connection terminated unexpectedly'));
    }
    return Promise.resolve(this.holds.filter((h) => sps.includes(h.servicePrincipalId)));
  }
}

function hold(jobId: string | null): HoldView {
  return {
    holdId: '11111111-1111-4111-8111-111111111111',
    servicePrincipalId: sp,
    jobId,
    reason: 'migration',
    until: null,
    placedAt: '2026-11-28T12:00:00.000Z',
    placedBy: { id: 'user-2', name: 'Grace' },
    releasedAt: null,
    releasedBy: null,
    active: true,
  };
}

describe('JobsService', () => {
  let guard: FakeGuard;
  let refusals: FakeRefusals;
  let graph: FakeGraph;
  let holds: FakeHolds;
  let jobs: JobsService;

  beforeEach(() => {
    guard = new FakeGuard();
    refusals = new FakeRefusals();
    graph = new FakeGraph();
    holds = new FakeHolds();
    jobs = new JobsService(guard, refusals, new MetricsService(), loadConfig({}), graph, holds);
  });

  describe('start: the checks before the guard', () => {
    const call = (over: Partial<Parameters<JobsService['start']>[0]> = {}) =>
      jobs.start({
        servicePrincipalId: SP,
        jobId: 'scim.1',
        body: { reason: 'nightly' },
        caller: caller(Role.Start),
        requestId: 'req-1',
        ...over,
      });

    it('hands a valid request to the guard, with the service principal lower-cased', async () => {
      const d = await call();
      expect(d.attempt.outcome).toBe('started');
      expect(guard.asked).toEqual([
        expect.objectContaining({
          servicePrincipalId: sp,
          jobId: 'scim.1',
          reason: 'nightly',
          dryRun: false,
        }),
      ]);
      expect(refusals.rows).toEqual([]);
    });

    it.each([
      ['no Start role', { caller: caller(Role.Read) }, 'denied', /lacks the JobControl.Start role/],
      ['a malformed job id', { jobId: '../x' }, 'rejected', /jobId/],
      ['an unknown body property', { body: { reason: 'x', force: true } }, 'rejected', /"force"/],
      [
        'a query parameter',
        { query: { dryRun: 'true' } },
        'rejected',
        /send reason and dryRun in the JSON body/,
      ],
    ] as const)('refuses %s with a %s attempt row, without the guard', async (_w, over, outcome, message) => {
      const d = await call(over);
      expect(d.attempt.outcome).toBe(outcome);
      expect(d.attempt.message).toMatch(message);
      expect(refusals.rows).toHaveLength(1);
      expect(guard.asked).toEqual([]);
    });

    it('an Admin has the Start role', async () => {
      await call({ caller: caller(Role.Admin) });
      expect(guard.asked).toHaveLength(1);
    });

    it('fails closed when the refusal cannot be recorded: AUDIT_UNAVAILABLE', async () => {
      refusals.failing = true;
      const error = await call({ caller: caller(Role.Read) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuditUnavailableError);
      expect((error as DomainError).code).toBe(ErrorCode.AUDIT_UNAVAILABLE);
    });
  });

  describe('job views', () => {
    it('shows the job with the hold that applies to it and the quarantine clock', async () => {
      graph.jobs.set(
        'scim.1',
        job('scim.1', {
          observedStatus: 'quarantine',
          quarantine: {
            reason: 'EncounteredQuarantineException',
            currentBegan: null,
            nextAttempt: '2026-11-28T13:00:00Z',
            seriesBegan: '2026-11-01T00:00:00Z',
            seriesCount: 3,
            error: null,
          },
        }),
      );
      holds.holds = [hold(null)];
      const view = await jobs.get(SP.toLowerCase(), 'scim.1', 'req-1');
      expect(view).toMatchObject({
        servicePrincipalId: sp,
        id: 'scim.1',
        hold: { holdId: hold(null).holdId },
        escrowPause: false,
        quarantineClock: {
          since: '2026-11-01T00:00:00.000Z',
          nextEntraRetry: '2026-11-28T13:00:00.000Z',
          autoDisableAt: '2026-11-29T00:00:00.000Z',
        },
      });
    });

    it('lists every job, each with its own hold', async () => {
      graph.jobs.set('scim.1', job('scim.1'));
      graph.jobs.set('scim.2', job('scim.2'));
      holds.holds = [hold('scim.2')];
      const views = await jobs.list(sp, null);
      expect(views.map((v) => [v.id, v.hold?.jobId ?? null])).toEqual([
        ['scim.1', null],
        ['scim.2', 'scim.2'],
      ]);
    });

    it('refuses malformed ids before asking Graph', async () => {
      const error = await jobs.get('not-a-guid', 'scim.1', null).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.INVALID_INPUT });
      expect(graph.reads).toEqual([]);
    });

    it.each([
      [new GraphError('not_found', 'x', { status: 404 }), ErrorCode.JOB_NOT_FOUND, undefined],
      [
        new GraphError('throttled', 'x', { status: 429, retryAfterSeconds: 12.5 }),
        ErrorCode.GRAPH_THROTTLED,
        13,
      ],
      [new GraphError('unavailable', 'x', { status: 503 }), ErrorCode.GRAPH_UNAVAILABLE, undefined],
      [new GraphError('unavailable', 'x', { status: 500 }), ErrorCode.GRAPH_ERROR, undefined],
      [new GraphError('timeout', 'x'), ErrorCode.GRAPH_TIMEOUT, undefined],
      [new GraphError('forbidden', 'x', { status: 403 }), ErrorCode.GRAPH_FORBIDDEN, undefined],
      [new GraphError('lost', 'x'), ErrorCode.GRAPH_ERROR, undefined],
    ])('a Graph failure on the read (%s) is %s', async (graphError, code, retryAfterSeconds) => {
      graph.jobs.set('scim.1', graphError);
      const error = await jobs.get(sp, 'scim.1', null).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe(code);
      expect((error as DomainError).cause).toBe(graphError);
      expect((error as DomainError).details?.retryAfterSeconds).toBe(retryAfterSeconds);
    });

    it('never shows "no hold" when the holds cannot be read: the store failure reaches the caller', async () => {
      graph.jobs.set('scim.1', job('scim.1'));
      holds.failing = true;
      await expect(jobs.get(sp, 'scim.1', null)).rejects.toThrow(/Connection terminated/);
    });
  });
});
