import { type AttemptView, OBSERVED_STATUSES } from '@app/common';
import {
  GraphClient,
  GraphError,
  type GraphResult,
  type JobRef,
  type SyncJob,
  type BatchItemResult,
} from '@app/graph';
import type { ApprovalRepository, ClaimInput, FinaliseInput, GuardRepository } from '@app/persistence';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { AuditUnavailableError } from './guard.errors';
import { GuardService } from './guard.service';

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';

function job(status: SyncJob['observedStatus'], reason: string | null = null): SyncJob {
  return {
    id: 'scim.1',
    templateId: 'scim',
    observedStatus: status,
    rawStatusCode: status,
    quarantine:
      status === 'quarantine'
        ? { reason, currentBegan: null, nextAttempt: null, seriesBegan: null, seriesCount: 1, error: null }
        : null,
    schedule: null,
    lastExecution: null,
    countSuccessiveCompleteFailures: null,
    troubleshootingUrl: null,
    escrowsPruned: null,
  };
}

type Step<T> = T | GraphError | Error;

/** A scripted GraphClient: each call takes the next answer of its script. For decision-code tests only. */
class ScriptedGraph extends GraphClient {
  reads: Step<SyncJob>[] = [];
  startsScript: Step<'ok'>[] = [];
  calls: string[] = [];

  private next<T>(script: Step<T>[], what: string): GraphResult<T> {
    this.calls.push(what);
    const step = script.shift();
    if (step === undefined) {
      throw new Error(`unexpected ${what}`);
    }
    if (step instanceof Error) {
      throw step;
    }
    return { value: step, requestIds: [`${what}-${this.calls.length}`] };
  }
  getJob(_ref: JobRef): Promise<GraphResult<SyncJob>> {
    return Promise.resolve().then(() => this.next(this.reads, 'get'));
  }
  startJob(_ref: JobRef): Promise<GraphResult<void>> {
    return Promise.resolve().then(() => {
      const r = this.next(this.startsScript, 'start');
      return { value: undefined, requestIds: r.requestIds };
    });
  }
  listJobs(): Promise<GraphResult<SyncJob[]>> {
    return Promise.reject(new Error('not used'));
  }
  pauseJob(): Promise<GraphResult<void>> {
    return Promise.reject(new Error('not used'));
  }
  restartJob(): Promise<GraphResult<void>> {
    return Promise.reject(new Error('not used'));
  }
  batchGetJobs(): Promise<GraphResult<BatchItemResult[]>> {
    return Promise.reject(new Error('not used'));
  }
}

/** Stands in for the two SQL statements; records what the guard asked of them. */
class RecordingRepo {
  claims: ClaimInput[] = [];
  finals: FinaliseInput[] = [];
  claimError: Error | null = null;
  finaliseFailures = 0;

  claim(input: ClaimInput) {
    if (this.claimError) {
      return Promise.reject(this.claimError);
    }
    this.claims.push(input);
    return Promise.resolve({ claimed: true as const, attempt: view(input.attemptId, 'pending', null) });
  }
  finalise(input: FinaliseInput) {
    if (this.finaliseFailures > 0) {
      this.finaliseFailures--;
      return Promise.reject(new Error('connection lost'));
    }
    this.finals.push(input);
    return Promise.resolve(view(input.attemptId, input.outcome, input.message));
  }
}

function view(id: string, outcome: AttemptView['outcome'], message: string | null): AttemptView {
  return {
    attemptId: id,
    createdAt: new Date().toISOString(),
    finishedAt: null,
    servicePrincipalId: SP,
    jobId: 'scim.1',
    trigger: 'api',
    actor: { type: 'app', id: 'a', name: null },
    outcome,
    observedStatus: null,
    quarantineReason: null,
    reason: null,
    dryRun: false,
    message,
    retryAfterSeconds: null,
    graphRequestIds: [],
    durationMs: null,
    operation: 'start',
    approvalId: null,
    holdId: null,
    resetScope: [],
    requestedBy: null,
  };
}

describe('GuardService decisions (scripted Graph, recorded repository)', () => {
  let graph: ScriptedGraph;
  let repo: RecordingRepo;
  let guard: GuardService;
  let waits: number[];

  beforeEach(() => {
    graph = new ScriptedGraph();
    repo = new RecordingRepo();
    guard = new GuardService(
      repo as unknown as GuardRepository,
      graph,
      new MetricsService(),
      loadConfig({ GRAPH_BUDGET_MS: '10000' }),
      { create: () => Promise.reject(new Error('not used')) } as unknown as ApprovalRepository,
    );
    waits = [];
    guard.wait = (ms) => {
      waits.push(ms);
      return Promise.resolve();
    };
  });

  const decide = (over: Partial<Parameters<GuardService['decide']>[0]> = {}) =>
    guard.decide({
      servicePrincipalId: SP,
      jobId: 'scim.1',
      trigger: 'api',
      actor: { type: 'app', id: 'a', name: null },
      reason: null,
      dryRun: false,
      requestId: 'r-1',
      ...over,
    });
  const last = () => repo.finals[repo.finals.length - 1];

  it('writes nothing to Graph when the claim cannot be written', async () => {
    repo.claimError = new Error('ECONNREFUSED');
    await expect(decide()).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(graph.calls).toEqual([]);
  });

  it('starts a paused job with one read and one start, and asks for the cool-down', async () => {
    graph.reads = [job('paused')];
    graph.startsScript = ['ok'];
    const d = await decide();
    expect(d.attempt.outcome).toBe('started');
    expect(graph.calls).toEqual(['get', 'start']);
    expect(last()?.cooldownSeconds).toBe(600);
    expect(last()?.graphRequestIds).toEqual(['get-1', 'start-2']);
  });

  it.each(OBSERVED_STATUSES.filter((s) => s !== 'paused' && s !== 'quarantine'))(
    'never starts a job that reads %s',
    async (status) => {
      graph.reads = [job(status)];
      const d = await decide();
      expect(d.attempt.outcome).toBe('skipped');
      expect(graph.calls).toEqual(['get']);
      expect(last()?.cooldownSeconds).toBeNull();
    },
  );

  it('applies an extra policy after the read (recovery) and does not start', async () => {
    graph.reads = [job('quarantine', 'TooManyDeletes')];
    const d = await decide({
      policy: (j) => (j.quarantine?.reason === 'TooManyDeletes' ? 'needs a person' : null),
    });
    expect(d.attempt.outcome).toBe('skipped');
    expect(last()?.message).toBe('needs a person');
    expect(graph.calls).toEqual(['get']);
  });

  it('429 on the start: waits Retry-After, re-reads, sends again', async () => {
    graph.reads = [job('paused'), job('paused')];
    graph.startsScript = [
      new GraphError('throttled', '429', { status: 429, retryAfterSeconds: 2, notActedOn: true }),
      'ok',
    ];
    const d = await decide();
    expect(d.attempt.outcome).toBe('started');
    expect(graph.calls).toEqual(['get', 'start', 'get', 'start']);
    expect(waits).toEqual([2000]);
  });

  it('429 on the start, and the re-read shows the job running: not sent again', async () => {
    graph.reads = [job('paused'), job('active')];
    graph.startsScript = [
      new GraphError('throttled', '429', { status: 429, retryAfterSeconds: 1, notActedOn: true }),
    ];
    const d = await decide();
    expect(d.attempt.outcome).toBe('skipped');
    expect(graph.calls).toEqual(['get', 'start', 'get']);
  });

  it('re-sends at most twice, then reports the throttling', async () => {
    const throttled = () =>
      new GraphError('throttled', '429', { status: 429, retryAfterSeconds: 1, notActedOn: true });
    graph.reads = [job('paused'), job('paused'), job('paused')];
    graph.startsScript = [throttled(), throttled(), throttled()];
    const d = await decide();
    expect(d.attempt.outcome).toBe('rate_limited');
    expect(graph.calls.filter((c) => c === 'start')).toHaveLength(3);
  });

  it('does not wait past the time budget for a Retry-After', async () => {
    graph.reads = [job('paused')];
    graph.startsScript = [
      new GraphError('throttled', '429', { status: 429, retryAfterSeconds: 60, notActedOn: true }),
    ];
    const d = await decide();
    expect(d.attempt.outcome).toBe('rate_limited');
    expect(last()?.retryAfterSeconds).toBe(60);
    expect(waits).toEqual([]);
  });

  it('a lost answer and a failed re-read end as unknown, with the cool-down', async () => {
    graph.reads = [job('paused'), new GraphError('unavailable', '503', { status: 503 })];
    graph.startsScript = [new GraphError('lost', 'socket hang up')];
    const d = await decide();
    expect(d.attempt.outcome).toBe('unknown');
    expect(last()?.cooldownSeconds).toBe(600);
    expect(graph.calls).toEqual(['get', 'start', 'get']);
  });

  it('a 500 on the start with the job still paused: upstream_error, not re-sent, cool-down all the same', async () => {
    graph.reads = [job('paused'), job('paused')];
    graph.startsScript = [new GraphError('unavailable', '500', { status: 500 })];
    const d = await decide();
    expect(d.attempt.outcome).toBe('upstream_error');
    expect(graph.calls).toEqual(['get', 'start', 'get']);
    expect(last()?.cooldownSeconds).toBe(600);
  });

  it('a 504 on the start is treated like a lost answer: re-read, never re-sent', async () => {
    graph.reads = [job('quarantine', 'EncounteredQuarantineException'), job('active')];
    graph.startsScript = [new GraphError('timeout', '504', { status: 504 })];
    const d = await decide();
    expect(d.attempt.outcome).toBe('started');
    expect(graph.calls).toEqual(['get', 'start', 'get']);
  });

  it('an unexpected error becomes an unknown outcome, never an exception', async () => {
    graph.reads = [new Error('boom')];
    const d = await decide();
    expect(d.attempt.outcome).toBe('unknown');
  });

  it('retries the finalise when the database blinks, then gives up with 503', async () => {
    graph.reads = [job('active')];
    repo.finaliseFailures = 2;
    expect((await decide()).attempt.outcome).toBe('skipped');
    graph.reads = [job('active')];
    repo.finaliseFailures = 10;
    await expect(decide()).rejects.toBeInstanceOf(AuditUnavailableError);
  });
});
