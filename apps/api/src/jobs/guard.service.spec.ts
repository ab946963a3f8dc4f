import { type AttemptView, OBSERVED_STATUSES } from '@app/common';
import {
  GraphClient,
  GraphError,
  type GraphResult,
  type JobRef,
  type SyncJob,
  type BatchItemResult,
} from '@app/graph';
import type { ClaimInput, ClaimRefused, ClaimResult, FinaliseInput, GuardStore } from '@app/persistence';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { AuditUnavailableError } from './guard.errors';
import { type ApprovalRequests, GuardService } from './guard.service';
import { CLAIM_WORDING } from './guard-policy';
import { recoveryRefusal } from '../recovery/recovery-policy';
import { syncJob } from '../../../../test/support/scripted-graph';
import { attemptView } from '../../../../test/support/fixtures';

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';

function job(status: SyncJob['observedStatus'], reason: string | null = null): SyncJob {
  return syncJob('scim.1', { status, reason });
}

type Step<T> = T | GraphError | Error;

/** A scripted GraphClient: each call takes the next answer of its script. For decision-code tests only. */
class ScriptedGraph extends GraphClient {
  reads: Step<SyncJob>[] = [];
  startsScript: Step<'ok'>[] = [];
  calls: string[] = [];
  /** Runs before each call answers (e.g. to move a fake clock). */
  onCall: (what: string) => void = () => undefined;

  private next<T>(script: Step<T>[], what: string): GraphResult<T> {
    this.calls.push(what);
    this.onCall(what);
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

/** Stands in for the two SQL statements (the repository's own interface); records what the guard asked of them. */
class RecordingRepo implements GuardStore {
  claims: ClaimInput[] = [];
  finals: FinaliseInput[] = [];
  claimError: Error | null = null;
  /** Set: the claim refuses, as the statement would (the row already final). */
  refuse: ClaimRefused | null = null;
  finaliseFailures = 0;

  claim(input: ClaimInput): Promise<ClaimResult> {
    if (this.claimError) {
      return Promise.reject(this.claimError);
    }
    this.claims.push(input);
    if (this.refuse) {
      const outcome = this.refuse.kind === 'grant' ? 'denied' : 'rate_limited';
      const attempt = view(input.attemptId, outcome, 'refused');
      return Promise.resolve({ claimed: false, attempt, stored: true, refusal: this.refuse });
    }
    return Promise.resolve({ claimed: true, attempt: view(input.attemptId, 'pending', null) });
  }
  finalise(input: FinaliseInput): Promise<AttemptView> {
    if (this.finaliseFailures > 0) {
      this.finaliseFailures--;
      return Promise.reject(new Error('connection lost'));
    }
    this.finals.push(input);
    return Promise.resolve(view(input.attemptId, input.outcome, input.message));
  }
}

function view(attemptId: string, outcome: AttemptView['outcome'], message: string | null): AttemptView {
  return attemptView({ attemptId, servicePrincipalId: SP, outcome, message });
}

describe('GuardService decisions (scripted Graph, recorded repository)', () => {
  let graph: ScriptedGraph;
  let repo: RecordingRepo;
  let guard: GuardService;
  let waits: number[];

  beforeEach(() => {
    graph = new ScriptedGraph();
    repo = new RecordingRepo();
    const approvals: ApprovalRequests = { create: () => Promise.reject(new Error('not used')) };
    guard = new GuardService(
      repo,
      graph,
      new MetricsService(),
      loadConfig({ GRAPH_BUDGET_MS: '10000' }),
      approvals,
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

  it('gives the claim the policy wording and answers its refusal with the stable reason, sending nothing', async () => {
    repo.refuse = { kind: 'cooldown', secondsLeft: 42 };
    const d = await decide();
    expect(repo.claims[0]?.wording).toBe(CLAIM_WORDING);
    expect(d).toMatchObject({ refusal: 'cooldown', job: null, attempt: { outcome: 'rate_limited' } });
    expect(graph.calls).toEqual([]);
    expect(repo.finals).toEqual([]);
  });

  it.each(OBSERVED_STATUSES)(
    'answers a dry run of a job that reads %s with dry_run, whether a start would be sent, and why',
    async (status) => {
      graph.reads = [job(status, status === 'quarantine' ? 'EncounteredQuarantineException' : null)];
      await decide({ dryRun: true });
      const would = status === 'paused' || status === 'quarantine';
      expect(last()).toMatchObject({ outcome: 'dry_run', wouldStart: would, cooldownSeconds: null });
      expect(last()?.message).toMatch(would ? /a start would be sent/ : /no start would be sent/);
      if (!would) {
        expect(last()?.message).toMatch(/only allowed when paused or in quarantine/);
      }
      expect(graph.calls).toEqual(['get']);
    },
  );

  it('answers a dry run the caller policy refuses with dry_run, wouldStart false and the refusal', async () => {
    graph.reads = [job('quarantine', 'TooManyDeletes')];
    await decide({ dryRun: true, policy: () => 'Quarantine reason TooManyDeletes needs a person' });
    expect(last()).toMatchObject({ outcome: 'dry_run', wouldStart: false });
    expect(last()?.message).toMatch(
      /no start would be sent: Quarantine reason TooManyDeletes needs a person/,
    );
    expect(graph.calls).toEqual(['get']);
  });

  it('records no wouldStart for a decision that is not a dry run', async () => {
    graph.reads = [job('active')];
    await decide();
    expect(last()?.wouldStart ?? null).toBeNull();
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

  describe('the same complete decision on every re-read (recovery policy)', () => {
    const rules = {
      maxAttempts: 6,
      needsPersonReasons: ['TooManyDeletes', 'QuarantinedOnDemand'],
      backoffSeconds: [60],
    };
    const recovery = { trigger: 'recovery' as const, policy: (j: SyncJob) => recoveryRefusal(j, rules) };
    const throttled = () =>
      new GraphError('throttled', '429', { status: 429, retryAfterSeconds: 1, notActedOn: true });

    it('does not re-send when the quarantine reason became one that needs a person during the wait', async () => {
      graph.reads = [
        job('quarantine', 'EncounteredQuarantineException'),
        job('quarantine', 'TooManyDeletes'),
      ];
      graph.startsScript = [throttled()];
      const d = await decide(recovery);
      expect(d.attempt.outcome).toBe('skipped');
      expect(last()?.message).toContain('TooManyDeletes');
      expect(graph.calls).toEqual(['get', 'start', 'get']);
      expect(last()?.cooldownSeconds).toBeNull();
    });

    it('does not re-send when a person paused the job during the wait', async () => {
      graph.reads = [job('quarantine', 'EncounteredQuarantineException'), job('paused')];
      graph.startsScript = [throttled()];
      const d = await decide(recovery);
      expect(d.attempt.outcome).toBe('skipped');
      expect(graph.calls).toEqual(['get', 'start', 'get']);
    });

    it('re-sends when the re-read still satisfies the policy', async () => {
      graph.reads = [job('quarantine', 'EncounteredQuarantineException'), job('quarantine', 'Unknown')];
      graph.startsScript = [throttled(), 'ok'];
      const d = await decide(recovery);
      expect(d.attempt.outcome).toBe('started');
      expect(graph.calls).toEqual(['get', 'start', 'get', 'start']);
    });
  });

  describe('the Graph time budget', () => {
    let clock: number;
    beforeEach(() => {
      clock = 1_000_000;
      guard.now = () => clock;
      guard.wait = (ms) => {
        waits.push(ms);
        clock += ms;
        return Promise.resolve();
      };
    });

    it('never sends a start with almost no budget left: upstream_error, not sent, no cool-down', async () => {
      graph.reads = [job('paused')];
      graph.onCall = (what) => {
        if (what === 'get') {
          clock += 10_000 - 1; // the read used all but 1 ms of the 10 s budget
        }
      };
      const d = await decide();
      expect(d.attempt.outcome).toBe('upstream_error');
      expect(d.upstreamStatus).toBe(504);
      expect(last()?.message).toMatch(/not sent/);
      expect(last()?.cooldownSeconds).toBeNull();
      expect(graph.calls).toEqual(['get']);
    });

    it('a budget used up before sending (inside the client) is not sent: upstream_error, no cool-down, no re-read', async () => {
      graph.reads = [job('paused')];
      graph.startsScript = [
        new GraphError('timeout', 'The time budget was used up before sending', { notSent: true }),
      ];
      const d = await decide();
      expect(d.attempt.outcome).toBe('upstream_error');
      expect(last()?.message).toMatch(/not sent/);
      expect(last()?.cooldownSeconds).toBeNull();
      expect(graph.calls).toEqual(['get', 'start']);
    });

    it('does not wait for a Retry-After that would leave too little budget for the re-send', async () => {
      graph.reads = [job('paused')];
      graph.startsScript = [
        new GraphError('throttled', '429', { status: 429, retryAfterSeconds: 9, notActedOn: true }),
      ];
      const d = await decide();
      expect(d.attempt.outcome).toBe('rate_limited');
      expect(waits).toEqual([]);
      expect(graph.calls).toEqual(['get', 'start']);
    });
  });

  it('an unexpected exception after a start was sent counts as a start that may have been sent', async () => {
    graph.reads = [job('paused')];
    graph.startsScript = [new Error('socket exploded')];
    const d = await decide();
    expect(d.attempt.outcome).toBe('unknown');
    expect(last()?.cooldownSeconds).toBe(600);
    expect(last()?.message).toMatch(/after a start was sent/);
  });

  it('an unexpected exception before any start starts no cool-down', async () => {
    graph.reads = [new Error('boom')];
    await decide();
    expect(last()?.cooldownSeconds).toBeNull();
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
