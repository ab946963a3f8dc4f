import { SchedulerRegistry } from '@nestjs/schedule';
import { Client } from 'pg';
import { SystemClock } from '@app/common';
import { GraphError } from '@app/graph';
import {
  type ClaimInput,
  type FinaliseInput,
  GuardRepository,
  type Repositories,
  openRepositories,
} from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import { ScriptedGraph } from '../../../../test/support/scripted-graph';
import { sql } from '../../../../test/support/sql';
import { claimInput as anyClaim } from '../../../../test/support/claim-input';
import { loadConfig } from '../config/app-config';
import { PeriodicWork } from '../scheduling/periodic-work';
import { RECONCILE_INTERVAL_NAME, ReconcilerService } from './reconciler.service';

const SP = '3a1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

describe('ReconcilerService (real PostgreSQL)', () => {
  let db: TestDatabase;
  let repos: Repositories;
  let repo: GuardRepository;
  let graph: ScriptedGraph;
  const config = loadConfig({ REPLICA_ID: 'replica-r', START_COOLDOWN_SECONDS: '600' });

  beforeAll(async () => {
    db = await createTestDatabase();
    repos = openRepositories({ connectionString: db.url, poolMax: 5 });
    repo = repos.guard;
  });

  afterAll(async () => {
    await repos.close();
    await db.drop();
  });

  beforeEach(async () => {
    graph = new ScriptedGraph();
    // Each test sees only its own rows.
    await sql(db.url, `DELETE FROM pending_attempts`);
  });

  function reconciler(
    guard: GuardRepository = repo,
    periodic = new PeriodicWork(new SchedulerRegistry()),
  ): ReconcilerService {
    return new ReconcilerService(guard, graph, periodic, new SystemClock(), config);
  }

  function claimInput(jobId: string, over: Partial<ClaimInput> = {}): ClaimInput {
    return anyClaim(SP, jobId, { replicaId: 'replica-r', leaseSeconds: config.guard.leaseSeconds, ...over });
  }

  /** A claim whose process "died" before the finalise, `ageSeconds` ago. */
  async function orphan(jobId: string, ageSeconds: number, over: Partial<ClaimInput> = {}): Promise<string> {
    const input = claimInput(jobId, over);
    const c = await repo.claim(input);
    expect(c.claimed).toBe(true);
    await backdate(input.attemptId, ageSeconds);
    return input.attemptId;
  }

  /** Moves a pending row's created_at back (its immutability trigger is bypassed for this test-only session). */
  async function backdate(id: string, ageSeconds: number): Promise<void> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`SET session_replication_role = replica`);
      await client.query(
        `UPDATE pending_attempts SET created_at = now() - make_interval(secs => $2) WHERE id = $1`,
        [id, ageSeconds],
      );
    } finally {
      await client.end();
    }
  }

  const row = async (id: string) =>
    (
      await sql<{ outcome: string; message: string; duration_ms: number }>(
        db.url,
        `SELECT outcome::text, message, duration_ms FROM attempts WHERE id = $1
         UNION ALL SELECT 'pending', NULL, NULL FROM pending_attempts WHERE id = $1`,
        [id],
      )
    )[0];

  it('a settled start starts the cool-down even when the job is back in quarantine', async () => {
    graph.set({ servicePrincipalId: SP, jobId: 'job.requar' }, { status: 'quarantine', reason: 'Unknown' });
    const id = await orphan('job.requar', 600);
    const report = await reconciler().reconcile(false);
    expect(report.settled).toBe(1);
    expect((await row(id))?.outcome).toBe('unknown');
    expect((await row(id))?.message).toMatch(/may or may not have been sent/);
    const next = await repo.claim(claimInput('job.requar'));
    expect(next.claimed).toBe(false);
    expect(!next.claimed && next.refusal.kind).toBe('cooldown');
  });

  it('a settled start starts the cool-down when the re-read fails', async () => {
    graph.set({ servicePrincipalId: SP, jobId: 'job.noread' }, { status: 'paused', reason: null });
    graph.nextAnswer = () => ({
      kind: 'error',
      error: new GraphError('unavailable', '503', { status: 503 }),
    });
    await orphan('job.noread', 600);
    await reconciler().reconcile(false);
    const next = await repo.claim(claimInput('job.noread'));
    expect(next.claimed).toBe(false);
    expect(!next.claimed && next.refusal.kind).toBe('cooldown');
  });

  it('a settled dry run never starts the cool-down', async () => {
    graph.set({ servicePrincipalId: SP, jobId: 'job.dry' }, { status: 'paused', reason: null });
    const id = await orphan('job.dry', 600, { dryRun: true });
    await reconciler().reconcile(false);
    expect((await row(id))?.message).toMatch(/dry run/);
    expect((await repo.claim(claimInput('job.dry'))).claimed).toBe(true);
  });

  it('settles a row pending for 30 days (its duration does not overflow)', async () => {
    graph.set({ servicePrincipalId: SP, jobId: 'job.ancient' }, { status: 'active', reason: null });
    const id = await orphan('job.ancient', 30 * 24 * 3600);
    const report = await reconciler().reconcile(false);
    expect(report).toEqual({ settled: 1, failed: 0 });
    const r = await row(id);
    expect(r?.outcome).toBe('unknown');
    expect(r?.duration_ms).toBe(2_147_483_647);
  });

  it('pages past rows it cannot settle, and reports what it really settled', async () => {
    for (let i = 0; i < 502; i++) {
      graph.set({ servicePrincipalId: SP, jobId: `job.page${i}` }, { status: 'active', reason: null });
    }
    // 502 rows left pending an hour ago by a crashed process, oldest first (written in one statement).
    const ids = (
      await sql<{ id: string; job_id: string }>(
        db.url,
        `INSERT INTO pending_attempts (id, service_principal_id, job_id, trigger, actor_type, actor_id, dry_run,
                                       replica_id, created_at)
         SELECT gen_random_uuid(), $1, 'job.page' || i, 'api', 'app', 'caller', false, 'gone',
                now() - make_interval(secs => 3600 + 502 - i)
         FROM generate_series(0, 501) AS i
         RETURNING id, job_id`,
        [SP],
      )
    )
      .sort((a, b) => Number(a.job_id.slice(8)) - Number(b.job_id.slice(8)))
      .map((r) => r.id);
    const failing = new Set(ids.slice(0, 500));
    // The first page (the 500 oldest rows) cannot be finalised; the rows behind them still are.
    class FailingRepo extends GuardRepository {
      override finalise(input: FinaliseInput) {
        return failing.has(input.attemptId)
          ? Promise.reject(new Error('cannot finalise'))
          : super.finalise(input);
      }
    }
    const report = await reconciler(repos.build(FailingRepo)).reconcile(false);
    expect(report).toEqual({ settled: 2, failed: 500 });
    expect((await row(ids[501] as string))?.outcome).toBe('unknown');
    expect((await row(ids[0] as string))?.outcome).toBe('pending');
  });

  it('at start-up finds a row written in the same millisecond as the start (created_at keeps milliseconds)', async () => {
    const input = claimInput('job.same-ms');
    expect((await repo.claim(input)).claimed).toBe(true);
    // created_at is stored rounded to the millisecond, the start instant read truncated to it: a row written
    // 0.4 ms before the start can carry the same millisecond as the start, or the next one.
    const [stored] = await sql<{ created_at: Date }>(
      db.url,
      `SELECT created_at FROM pending_attempts WHERE id = $1`,
      [input.attemptId],
    );
    const createdAt = (stored as { created_at: Date }).created_at;
    for (const bootedAt of [createdAt, new Date(createdAt.getTime() - 1)]) {
      const rows = await repo.findPendingOfReplica('replica-r', bootedAt);
      expect(rows.map((r) => r.attemptId)).toContain(input.attemptId);
    }
    // Two milliseconds before it, the row is the new process's own.
    const later = await repo.findPendingOfReplica('replica-r', new Date(createdAt.getTime() - 2));
    expect(later.map((r) => r.attemptId)).not.toContain(input.attemptId);
  });

  it('at start-up settles only rows this replica id wrote before this process started', async () => {
    graph.set({ servicePrincipalId: SP, jobId: 'job.before' }, { status: 'active', reason: null });
    graph.set({ servicePrincipalId: SP, jobId: 'job.live' }, { status: 'paused', reason: null });
    const before = await orphan('job.before', 5);
    const periodic = new PeriodicWork(new SchedulerRegistry());
    const service = reconciler(repo, periodic);
    await service.onApplicationBootstrap();
    // The pass every minute is registered in the one scheduler seam, and removed at shutdown.
    expect(periodic.names()).toEqual([RECONCILE_INTERVAL_NAME]);
    await service.reconcile(true);
    expect((await row(before))?.outcome).toBe('unknown');
    // A live request of this process, claimed after it started: never settled under its feet.
    const live = claimInput('job.live');
    expect((await repo.claim(live)).claimed).toBe(true);
    await service.reconcile(true);
    expect((await row(live.attemptId))?.outcome).toBe('pending');
    await service.onModuleDestroy();
    expect(periodic.names()).toEqual([]);
  });
});
