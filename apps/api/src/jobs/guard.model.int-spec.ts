import fc from 'fast-check';
import { SystemClock, jobKey } from '@app/common';
import { GraphError, type JobRef } from '@app/graph';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Pool } from 'pg';
import {
  type ClaimInput,
  type FinaliseInput,
  GuardRepository,
  type Repositories,
  openRepositories,
} from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import {
  type Answer,
  ScriptedGraph,
  type ScriptedJob,
  syncJob,
} from '../../../../test/support/scripted-graph';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { type RecoveryRules, recoveryRefusal } from '../recovery/recovery-policy';
import { AuditUnavailableError } from './guard.errors';
import { type StartPolicy, startVerdict } from './guard-policy';
import { GuardService } from './guard.service';
import { startApprovalWhy } from '../control/control-policy';
import { PeriodicWork } from '../scheduling/periodic-work';
import { ReconcilerService } from './reconciler.service';

/**
 * Model-based test of the guard: the real GuardService and ReconcilerService on real PostgreSQL (the real claim
 * and finalise statements), with Graph scripted behind the GraphClient interface. Each scenario runs random
 * requests from several replicas (API and recovery, with their policies, dry runs), concurrently, against Graph
 * answers of every kind (204, 404, 429 and 503 with Retry-After, 500, lost after acting, lost without acting, not
 * sent for lack of budget), a person changing the job's status or quarantine reason before any Graph call, a replica
 * dying at any Graph call, and the database failing the finalise for a while or for good. Then every replica
 * restarts and reconciles, a second round of requests runs, and the invariants are checked:
 * (1) every start Graph received was preceded, in the same decision, by a read under which the requesting policy
 *     allowed it; (2) no two starts of one job within the cool-down, crashes included; (3) every start Graph
 *     received had its pending attempt row written before; (4) after reconciliation no row is pending; (5) no final
 *     row ever changed.
 * SJG_MODEL_RUNS sets the number of scenarios (default 200); fast-check prints the seed and the shrunk scenario
 * of a failure, and SJG_MODEL_SEED replays one.
 */

const SP = '5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f';
const REPLICAS = ['model-a', 'model-b', 'model-c'] as const;
const RULES: RecoveryRules = {
  maxAttempts: 6,
  needsPersonReasons: ['TooManyDeletes', 'QuarantinedOnDemand'],
  backoffSeconds: [300],
};
const RECOVERY_POLICY: StartPolicy = (job) => recoveryRefusal(job, RULES);

/** The replica dies right after this Graph call (Graph has done whatever the answer says). */
class Crash extends Error {}

type AnswerKind =
  | 'ok'
  | 'throttled'
  | 'unavailableRetryAfter'
  | 'serverError'
  | 'lost'
  | 'actedThenLost'
  | 'notSent'
  | 'notFound';

interface CallScript {
  answer: AnswerKind;
  /** A person changes the job just before Graph answers this call. */
  person: ScriptedJob | null;
}

interface RequestScript {
  replica: number;
  job: number;
  trigger: 'api' | 'recovery';
  dryRun: boolean;
  /** The replica dies after this Graph call of the decision (0-based), or never. */
  crashAtCall: number | null;
  /** The finalise fails this many times (4 or more: longer than the retries, the row stays pending). */
  finaliseFailures: number;
  calls: CallScript[];
}

/** What Graph does while the replicas are down: a started job falls back into quarantine, reads fail. */
interface Downtime {
  requarantine: boolean;
  readsFail: boolean;
}

interface Scenario {
  jobs: ScriptedJob[];
  rounds: [RequestScript[], RequestScript[]];
  downtime: [Downtime, Downtime];
}

const quarantined = (reasons: string[]): fc.Arbitrary<ScriptedJob> =>
  fc.constantFrom(...reasons).map<ScriptedJob>((reason) => ({ status: 'quarantine', reason }));

/** Any status a job can have; the ones a start may be sent for come up more often. */
const jobState: fc.Arbitrary<ScriptedJob> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<ScriptedJob>({ status: 'paused', reason: null }) },
  { weight: 3, arbitrary: quarantined(['EncounteredQuarantineException', 'Unknown']) },
  { weight: 2, arbitrary: quarantined(['TooManyDeletes', 'QuarantinedOnDemand']) },
  { weight: 1, arbitrary: fc.constant<ScriptedJob>({ status: 'active', reason: null }) },
  { weight: 1, arbitrary: fc.constant<ScriptedJob>({ status: 'notRun', reason: null }) },
);

const callScript: fc.Arbitrary<CallScript> = fc.record({
  answer: fc.oneof(
    { weight: 4, arbitrary: fc.constant<AnswerKind>('ok') },
    // Graph's "not acted on, retry after": the path that re-reads and may re-send.
    { weight: 3, arbitrary: fc.constantFrom<AnswerKind>('throttled', 'unavailableRetryAfter') },
    {
      weight: 3,
      arbitrary: fc.constantFrom<AnswerKind>('serverError', 'lost', 'actedThenLost', 'notSent', 'notFound'),
    },
  ),
  person: fc.option(jobState, { freq: 2 }),
});

const requestScript = (jobs: number): fc.Arbitrary<RequestScript> =>
  fc.record({
    replica: fc.integer({ min: 0, max: REPLICAS.length - 1 }),
    job: fc.integer({ min: 0, max: jobs - 1 }),
    trigger: fc.constantFrom<'api' | 'recovery'>('api', 'recovery'),
    dryRun: fc.boolean(),
    crashAtCall: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 5 }),
    finaliseFailures: fc.oneof(
      { weight: 8, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 6 }) },
    ),
    calls: fc.array(callScript, { minLength: 2, maxLength: 6 }),
  });

const downtime: fc.Arbitrary<Downtime> = fc.record({ requarantine: fc.boolean(), readsFail: fc.boolean() });

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 2 }).chain((n) =>
  fc.record({
    jobs: fc.array(jobState, { minLength: n, maxLength: n }),
    rounds: fc.tuple(
      fc.array(requestScript(n), { minLength: 1, maxLength: 6 }),
      fc.array(requestScript(n), { minLength: 0, maxLength: 4 }),
    ),
    downtime: fc.tuple(downtime, downtime),
  }),
);

function toAnswer(kind: AnswerKind, call: 'get' | 'start'): Answer {
  switch (kind) {
    case 'ok':
      return { kind: 'ok' };
    case 'throttled':
      return {
        kind: 'error',
        error: new GraphError('throttled', '429', { status: 429, retryAfterSeconds: 1, notActedOn: true }),
      };
    case 'unavailableRetryAfter':
      return {
        kind: 'error',
        error: new GraphError('unavailable', '503', { status: 503, retryAfterSeconds: 1, notActedOn: true }),
      };
    case 'serverError':
      return { kind: 'error', error: new GraphError('unavailable', '500', { status: 500 }) };
    case 'lost':
      return { kind: 'error', error: new GraphError(call === 'start' ? 'lost' : 'timeout', 'answer lost') };
    case 'actedThenLost':
      return call === 'start' ? { kind: 'actedThenLost' } : { kind: 'ok' };
    case 'notSent':
      return { kind: 'error', error: new GraphError('timeout', 'budget used up', { notSent: true }) };
    case 'notFound':
      return { kind: 'error', error: new GraphError('not_found', '404', { status: 404 }) };
  }
}

const step = (answer: AnswerKind, person: ScriptedJob | null = null): CallScript => ({ answer, person });
const request = (over: Partial<RequestScript>): RequestScript => ({
  replica: 0,
  job: 0,
  trigger: 'api',
  dryRun: false,
  crashAtCall: null,
  finaliseFailures: 0,
  calls: [],
  ...over,
});
const calm: Downtime = { requarantine: false, readsFail: false };

/** Scenarios found in review, always run before the random ones. */
const EXAMPLES: [Scenario][] = [
  // Recovery is throttled; during the wait the reason becomes TooManyDeletes: no re-send.
  [
    {
      jobs: [{ status: 'quarantine', reason: 'EncounteredQuarantineException' }],
      rounds: [
        [
          request({
            trigger: 'recovery',
            calls: [
              step('ok'),
              step('throttled'),
              step('ok', { status: 'quarantine', reason: 'TooManyDeletes' }),
            ],
          }),
        ],
        [],
      ],
      downtime: [calm, calm],
    },
  ],
  // A replica dies right after Graph acted on its start; the job falls back into quarantine before the
  // reconciler re-reads it. The settled row must start the cool-down: no second start.
  [
    {
      jobs: [{ status: 'quarantine', reason: 'Unknown' }],
      rounds: [
        [request({ crashAtCall: 1, calls: [step('ok'), step('ok')] })],
        [request({ replica: 1, calls: [step('ok'), step('ok')] })],
      ],
      downtime: [{ requarantine: true, readsFail: false }, calm],
    },
  ],
  // The same, with the reconciler's re-read failing.
  [
    {
      jobs: [{ status: 'paused', reason: null }],
      rounds: [
        [request({ crashAtCall: 1, calls: [step('ok'), step('actedThenLost')] })],
        [request({ replica: 2, calls: [step('ok', { status: 'paused', reason: null }), step('ok')] })],
      ],
      downtime: [{ requarantine: false, readsFail: true }, calm],
    },
  ],
];

describe('the guard, model-based (fast-check, real PostgreSQL, scripted Graph)', () => {
  let db: TestDatabase;
  let repos: Repositories;
  let pool: Pool;
  let run = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    repos = openRepositories({ connectionString: db.url, poolMax: 10 });
    pool = new Pool({ connectionString: db.url, max: 2 });
  });

  afterAll(async () => {
    await repos.close();
    await pool.end();
    await db.drop();
  });

  const q = async <T>(text: string, params: unknown[]): Promise<T[]> =>
    (await pool.query(text, params)).rows as T[];
  const metrics = new MetricsService();
  const guardConfigs = REPLICAS.map((replicaId) =>
    loadConfig({ REPLICA_ID: replicaId, START_COOLDOWN_SECONDS: '600', RATE_LIMIT_PER_JOB: '1000' }),
  );

  async function execute(s: Scenario): Promise<void> {
    run += 1;
    const jobIds = s.jobs.map((_, i) => `model.r${run}.j${i}`);
    const ref = (i: number): JobRef => ({ servicePrincipalId: SP, jobId: jobIds[i] as string });
    const graph = new ScriptedGraph();
    s.jobs.forEach((j, i) => graph.set(ref(i), j));

    /** attempt id → request script, learned at the claim (the reason carries the request's name). */
    const byAttempt = new Map<string, RequestScript>();
    const scripts = new Map<string, RequestScript>();
    const callsMade = new Map<string, number>();
    const crashed = new Set<string>();
    const finaliseFailuresLeft = new Map<string, number>();
    const violations: string[] = [];

    class ModelRepo extends GuardRepository {
      override async claim(input: ClaimInput) {
        const script = scripts.get(input.reason ?? '');
        if (script) {
          byAttempt.set(input.attemptId, script);
          finaliseFailuresLeft.set(input.attemptId, script.finaliseFailures);
        }
        return super.claim(input);
      }
      override finalise(input: FinaliseInput) {
        if (crashed.has(input.attemptId)) {
          return Promise.reject(new Error('the process died'));
        }
        const left = finaliseFailuresLeft.get(input.attemptId) ?? 0;
        if (left > 0) {
          finaliseFailuresLeft.set(input.attemptId, left - 1);
          return Promise.reject(new Error('database away'));
        }
        return super.finalise(input);
      }
    }
    const repo = repos.build(ModelRepo);
    const approvals = repos.approvals;

    graph.beforeAnswer = async (call, r, ctx) => {
      const id = ctx.clientRequestId ?? '';
      const script = byAttempt.get(id);
      const n = callsMade.get(id) ?? 0;
      const person = script?.calls[n]?.person;
      if (person) {
        graph.set(r, person);
      }
      if (call === 'start') {
        // Invariant (3): the attempt row exists, pending, before Graph receives the start.
        const rows = await q<{ outcome: string }>(
          `SELECT 'pending' AS outcome FROM pending_attempts WHERE id = $1::uuid
           UNION ALL SELECT outcome::text FROM attempts WHERE id = $1::uuid`,
          [id],
        ).catch((error: unknown) => {
          violations.push(`the model's own check failed: ${String(error)}`);
          return [];
        });
        if (rows[0]?.outcome !== 'pending') {
          violations.push(
            `(3) start for ${r.jobId} without a pending attempt row (${rows[0]?.outcome ?? 'none'})`,
          );
        }
        // Invariant (1): the last read of this decision allowed the start under the requesting policy.
        const reads = graph.readLog.filter((x) => x.clientRequestId === id && x.key === graph.key(r));
        const last = reads[reads.length - 1];
        const policy = script?.trigger === 'recovery' ? RECOVERY_POLICY : undefined;
        if (!last) {
          violations.push(`(1) start for ${r.jobId} with no read before it`);
        } else {
          const verdict = startVerdict(
            syncJob(r.jobId, last.job),
            policy,
            script?.trigger === 'recovery' ? undefined : startApprovalWhy,
          );
          if (!verdict.allowed || (script?.trigger === 'api' && script.dryRun)) {
            violations.push(
              `(1) ${script?.trigger ?? '?'} start for ${r.jobId} after a read of ${last.job.status}/${last.job.reason ?? '-'}${script?.trigger === 'api' && script.dryRun ? ' in a dry run' : ''}`,
            );
          }
        }
      }
    };
    graph.nextAnswer = (call, _r, ctx) => {
      const id = ctx.clientRequestId ?? '';
      const n = callsMade.get(id) ?? 0;
      const kind = byAttempt.get(id)?.calls[n]?.answer ?? 'ok';
      return toAnswer(kind, call);
    };
    graph.afterAnswer = (_call, _r, ctx) => {
      const id = ctx.clientRequestId ?? '';
      const n = callsMade.get(id) ?? 0;
      callsMade.set(id, n + 1);
      if (byAttempt.get(id)?.crashAtCall === n) {
        crashed.add(id);
        throw new Crash(`replica died after Graph call ${n}`);
      }
    };

    const guards = guardConfigs.map((config) => {
      const g = new GuardService(repo, graph, metrics, config, approvals);
      g.wait = () => Promise.resolve();
      return g;
    });

    const finalRows = new Map<string, string>();
    const snapshotFinalRows = async (): Promise<void> => {
      const rows = await q<{ id: string; row: string }>(
        `SELECT id::text, row_to_json(a)::text AS row FROM attempts a
         WHERE job_id = ANY($1::text[]) AND outcome <> 'pending'`,
        [jobIds],
      );
      for (const r of rows) {
        const before = finalRows.get(r.id);
        if (before !== undefined && before !== r.row) {
          violations.push(`(5) final row ${r.id} changed`);
        }
        finalRows.set(r.id, r.row);
      }
    };

    const playRound = async (round: RequestScript[], tag: string): Promise<void> => {
      await Promise.all(
        round.map(async (script, i) => {
          const name = `${tag}-${i}`;
          scripts.set(name, script);
          const guard = guards[script.replica] as GuardService;
          try {
            await guard.decide({
              ...ref(script.job),
              trigger: script.trigger,
              actor:
                script.trigger === 'recovery'
                  ? { type: 'scheduler', id: REPLICAS[script.replica] as string, name: 'recovery' }
                  : { type: 'app', id: 'caller', name: null },
              reason: name,
              dryRun: script.trigger === 'api' && script.dryRun,
              requestId: null,
              ...(script.trigger === 'recovery' ? { policy: RECOVERY_POLICY } : {}),
            });
          } catch (error) {
            if (!(error instanceof AuditUnavailableError)) {
              throw error;
            }
          }
        }),
      );
    };

    /** Every replica restarts (a new process, same REPLICA_ID) and settles what its previous run left pending. */
    const restartAll = async (down: Downtime): Promise<void> => {
      crashed.clear();
      for (const [id] of finaliseFailuresLeft) {
        finaliseFailuresLeft.set(id, 0);
      }
      graph.beforeAnswer = () => undefined;
      graph.afterAnswer = () => undefined;
      graph.nextAnswer = () =>
        down.readsFail
          ? { kind: 'error', error: new GraphError('unavailable', '503', { status: 503 }) }
          : { kind: 'ok' };
      if (down.requarantine) {
        // The cause was not fixed: a job started before the crash is back in quarantine.
        s.jobs.forEach((_, i) => {
          if (graph.get(ref(i))?.status === 'active') {
            graph.set(ref(i), { status: 'quarantine', reason: 'EncounteredQuarantineException' });
          }
        });
      }
      for (const config of guardConfigs) {
        const reconciler = new ReconcilerService(
          repo,
          graph,
          new PeriodicWork(new SchedulerRegistry()),
          new SystemClock(),
          config,
        );
        await reconciler.onApplicationBootstrap();
        await reconciler.reconcile(true);
        await reconciler.onApplicationShutdown();
      }
    };

    const hooks = { before: graph.beforeAnswer, next: graph.nextAnswer, after: graph.afterAnswer };
    await playRound(s.rounds[0], 'r1');
    await snapshotFinalRows();
    await restartAll(s.downtime[0]);
    await snapshotFinalRows();
    graph.beforeAnswer = hooks.before;
    graph.nextAnswer = hooks.next;
    graph.afterAnswer = hooks.after;
    await playRound(s.rounds[1], 'r2');
    await snapshotFinalRows();
    await restartAll(s.downtime[1]);
    await snapshotFinalRows();

    // Invariant (2): within the cool-down (the whole scenario), at most one start per job reached Graph.
    for (const id of jobIds) {
      const n = graph.starts.filter((x) => x.jobId === id).length;
      if (n > 1) {
        violations.push(`(2) ${n} starts of ${id} within the cool-down`);
      }
    }
    // Invariant (4): after reconciliation, nothing is pending.
    const pending = await q<{ n: string }>(
      `SELECT count(*)::text AS n FROM pending_attempts WHERE job_id = ANY($1::text[])`,
      [jobIds],
    );
    if (pending[0]?.n !== '0') {
      violations.push(`(4) ${pending[0]?.n ?? '?'} row(s) still pending after reconciliation`);
    }
    // The guard's own bookkeeping: every job's lease is free again.
    const leased = await q<{ n: string }>(
      `SELECT count(*)::text AS n FROM job_guards g JOIN pending_attempts a ON a.id = g.lease_attempt_id
       WHERE g.job_key = ANY($1::text[])`,
      [jobIds.map((j) => jobKey(SP, j))],
    );
    if (leased[0]?.n !== '0') {
      violations.push('(4) a lease is still held by a pending row');
    }
    if (violations.length > 0) {
      throw new Error(violations.join('\n'));
    }
  }

  it('keeps the five invariants over random interleavings', async () => {
    const numRuns = Number(process.env.SJG_MODEL_RUNS ?? 200);
    const seed = process.env.SJG_MODEL_SEED ? Number(process.env.SJG_MODEL_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(scenario, (s) => execute(s)),
      { numRuns, examples: EXAMPLES, ...(seed !== undefined ? { seed } : {}), endOnFailure: false },
    );
  }, 600_000);
});
