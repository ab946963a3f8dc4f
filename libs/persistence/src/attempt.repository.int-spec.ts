import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { AttemptView } from '@app/common';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { PrismaService } from './prisma.service';
import {
  type AttemptFilter,
  type AttemptKey,
  AttemptRepository,
  EXPORT_BATCH_ROWS,
  getQuery,
  listQuery,
  statsByActorQuery,
  statsByJobQuery,
  statsQuery,
  type StoredOutcome,
} from './attempt.repository';
import { RETENTION_LOCK_KEY, RetentionRepository } from './retention.repository';
import { type Sql, sql } from './sql';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const SP2 = '0b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e';
const BASE = '2026-03-01T00:00:00.000Z';
const DAY = 86_400_000;

/**
 * `count` attempts, one every `stepSeconds` going back from `newest`, spread over `jobs` jobs, `actors` actors
 * and a realistic mix of outcomes; job j belongs to SP2 when j % 10 = 0, else SP. One statement.
 */
async function seedSeries(
  client: Client,
  opts: {
    count: number;
    newest: string;
    stepSeconds: number;
    jobs: number;
    actors: number;
    jobPrefix: string;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO attempts (id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type, actor_id,
       actor_name, outcome, observed_status, reason, message, graph_request_ids, duration_ms, replica_id)
     SELECT gen_random_uuid(), t.ts, t.ts + interval '150 milliseconds',
       CASE WHEN (g % $4) % 10 = 0 THEN $7 ELSE $6 END,
       $8 || (g % $4),
       CASE WHEN g % 20 = 0 THEN 'recovery' ELSE 'api' END::"AttemptTrigger",
       CASE WHEN g % 20 = 0 THEN 'scheduler' ELSE 'user' END::"ActorType",
       CASE WHEN g % 20 = 0 THEN 'replica-1' ELSE 'actor-' || (g % $5) END,
       'Actor ' || (g % $5),
       (CASE
          WHEN h < 50 THEN 'skipped' WHEN h < 70 THEN 'started' WHEN h < 80 THEN 'rate_limited'
          WHEN h < 85 THEN 'dry_run' WHEN h < 90 THEN 'denied' WHEN h < 93 THEN 'upstream_error'
          WHEN h < 96 THEN 'not_found' WHEN h < 98 THEN 'rejected' WHEN h < 99 THEN 'forbidden' ELSE 'unknown'
        END)::"AttemptOutcome",
       'paused', NULL, 'seeded', ARRAY['req-' || g], 120, 'seed'
     FROM generate_series(1, $1::int) AS g,
       LATERAL (SELECT $2::timestamptz - make_interval(secs => g * $3::float8) AS ts, (g * 7919) % 100 AS h) AS t`,
    [opts.count, opts.newest, opts.stepSeconds, opts.jobs, opts.actors, SP, SP2, opts.jobPrefix],
  );
}

describe('AttemptRepository and the attempts table (real PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let repo: AttemptRepository;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolMax: 5 });
    repo = new AttemptRepository(prisma, { connectionString: db.url });
    client = new Client({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
    await repo.onModuleDestroy();
    await prisma.$disconnect();
    await db.drop();
  });

  async function insert(row: {
    id?: string;
    createdAt: string;
    job: string;
    outcome?: string;
  }): Promise<string> {
    const id = row.id ?? randomUUID();
    if (row.outcome === 'pending') {
      // A decision in flight lives in pending_attempts until its finalise moves it into attempts.
      await client.query(
        `INSERT INTO pending_attempts (id, created_at, service_principal_id, job_id, trigger, actor_type, actor_id,
           actor_name, reason, replica_id)
         VALUES ($1, $2, $4, $3, 'api', 'user', 'user-1', 'Ada', 'why', 'r1')`,
        [id, row.createdAt, row.job, SP],
      );
      return id;
    }
    await client.query(
      `INSERT INTO attempts (id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type, actor_id,
         actor_name, outcome, reason, message, replica_id)
       VALUES ($1, $2, $2::timestamptz, $5, $3, 'api', 'user', 'user-1', 'Ada', $4::"AttemptOutcome", 'why', 'msg', 'r1')`,
      [id, row.createdAt, row.job, row.outcome ?? 'started', SP],
    );
    return id;
  }

  async function collect(filter: AttemptFilter, limit: number): Promise<AttemptView[]> {
    const out: AttemptView[] = [];
    let after: AttemptKey | null = null;
    for (;;) {
      const page = await repo.list(filter, limit, after);
      out.push(...page.items);
      if (page.next === null) {
        return out;
      }
      after = page.next;
    }
  }

  describe('queries', () => {
    const ids: string[] = [];

    beforeAll(async () => {
      // 12 rows in 4 groups of 3 sharing one created_at: ties are ordered by id, descending.
      for (let i = 0; i < 12; i++) {
        ids.push(
          await insert({
            createdAt: new Date(Date.parse(BASE) + Math.floor(i / 3) * 1000).toISOString(),
            job: 'job.q',
            outcome: i === 11 ? 'pending' : i % 2 === 0 ? 'started' : 'skipped',
          }),
        );
      }
    });

    it('pages newest first through ties on created_at, exactly once each', async () => {
      const expected = [...ids]
        .map((id, i) => ({ id, t: Math.floor(i / 3) }))
        .sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : -1))
        .map((r) => r.id);
      for (const limit of [1, 2, 3, 5, 12, 50]) {
        const got = await collect({ jobId: 'job.q' }, limit);
        expect(got.map((a) => a.attemptId)).toEqual(expected);
      }
      const page = await repo.list({ jobId: 'job.q' }, 12, null);
      expect(page.next).toBeNull();
    });

    it('filters by outcome over final and pending rows alike', async () => {
      const outcomesOf = async (outcomes: StoredOutcome[]) =>
        (await collect({ jobId: 'job.q', outcomes }, 5)).map((a) => a.outcome);
      expect(await outcomesOf(['pending'])).toEqual(['pending']);
      expect(await outcomesOf(['started'])).toEqual(Array(6).fill('started'));
      // Pages of both tables merge in the one order (created_at, then id, descending).
      const all = await collect({ jobId: 'job.q' }, 50);
      const mixed = await collect({ jobId: 'job.q', outcomes: ['pending', 'skipped'] }, 4);
      expect(mixed.map((a) => a.attemptId)).toEqual(
        all.filter((a) => a.outcome === 'pending' || a.outcome === 'skipped').map((a) => a.attemptId),
      );
      expect(mixed.map((a) => a.outcome).sort()).toEqual(['pending', ...Array(5).fill('skipped')]);
      expect((await repo.stats({ jobId: 'job.q', outcomes: ['pending'] })).byOutcome).toMatchObject({
        pending: 1,
        started: 0,
      });
      expect((await repo.stats({ jobId: 'job.q', outcomes: ['pending', 'started'] })).total).toBe(7);
    });

    it('reads one attempt by id, null for unknown or malformed ids', async () => {
      const a = await repo.get(ids[0] ?? '');
      expect(a).toMatchObject({ attemptId: ids[0], jobId: 'job.q', outcome: 'started', reason: 'why' });
      expect(await repo.get(randomUUID())).toBeNull();
      expect(await repo.get('nope')).toBeNull();
    });

    it('counts by outcome, by job and by actor', async () => {
      const s = await repo.stats({ jobId: 'job.q' });
      expect(s.total).toBe(12);
      expect(s.byOutcome).toMatchObject({ started: 6, skipped: 5, pending: 1, denied: 0 });
      const jobs = await repo.statsByJob({ servicePrincipalId: SP, outcomes: ['started'] }, 10);
      expect(jobs).toEqual([
        {
          servicePrincipalId: SP,
          jobId: 'job.q',
          total: 6,
          byOutcome: expect.objectContaining({ started: 6 }),
        },
      ]);
      const actors = await repo.statsByActor({ jobId: 'job.q' }, 10);
      expect(actors).toEqual([
        {
          actorId: 'user-1',
          actorName: 'Ada',
          total: 12,
          byOutcome: expect.objectContaining({ started: 6, skipped: 5, pending: 1 }),
        },
      ]);
    });

    it('exports every matching row in keyset batches, in page order', async () => {
      const exp = await repo.openExport({ jobId: 'job.q' }, 5);
      const rows: AttemptView[] = [];
      for await (const row of exp.rows) {
        rows.push(row as AttemptView);
      }
      expect(rows.map((r) => r.attemptId)).toEqual(
        (await collect({ jobId: 'job.q' }, 50)).map((a) => a.attemptId),
      );
      const empty = await repo.openExport({ jobId: 'job.none' }, 5);
      const none: unknown[] = [];
      for await (const row of empty.rows) {
        none.push(row);
      }
      expect(none).toEqual([]);
    });

    it('stops an export that is closed early without holding a connection', async () => {
      // More closed exports than the export pool has connections: a leak would make the last ones time out.
      for (let i = 0; i < 8; i++) {
        const exp = await repo.openExport({ jobId: 'job.q' }, 2);
        const first: unknown = await new Promise((resolve) => exp.rows.once('data', resolve));
        expect(first).toMatchObject({ jobId: 'job.q' });
        exp.close();
      }
      const exp = await repo.openExport({ jobId: 'job.q' }, 100);
      expect(exp.rows.readableLength).toBe(12);
      exp.close();
    });
  });

  describe('a connection lost mid-transaction', () => {
    /** Ends, from another session, the backend that sits idle in an open transaction (waits for one). */
    async function terminateIdleInTransaction(): Promise<number> {
      for (let i = 0; i < 50; i++) {
        const { rows } = await client.query<{ terminated: boolean }>(
          `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'`,
        );
        if (rows.length > 0) {
          return rows.filter((r) => r.terminated).length;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return 0;
    }

    it('ends a stalled export with an error instead of ending the process', async () => {
      for (let i = 0; i < 5; i++) {
        await insert({ createdAt: new Date(Date.parse(BASE) + i * 1000).toISOString(), job: 'job.lost' });
      }
      const exp = await repo.openExport({ jobId: 'job.lost' }, 2);
      // The consumer stalls after the first batch: the connection sits idle in its transaction.
      const failed = new Promise<Error>((resolve) => exp.rows.once('error', resolve));
      expect(await terminateIdleInTransaction()).toBe(1);
      const error = await failed;
      expect(error.message).toMatch(/terminat/i);
      // The pool still serves the next export.
      const again = await repo.openExport({ jobId: 'job.lost' }, 10);
      const rows: unknown[] = [];
      for await (const row of again.rows) {
        rows.push(row);
      }
      expect(rows).toHaveLength(5);
    });

    it('rejects a transaction whose connection is lost, and the pool goes on', async () => {
      const run = prisma.transaction(async (tx) => {
        await tx.query(sql`SELECT 1`);
        expect(await terminateIdleInTransaction()).toBe(1);
        // Give the client time to see the connection end before it sends again.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.query(sql`SELECT 1`);
      });
      await expect(run).rejects.toThrow();
      expect(await prisma.query<{ one: number }>(sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    });
  });

  describe('export snapshot', () => {
    it('exports the rows as they were when it began, whatever is written while it streams', async () => {
      const base = Date.parse('2026-04-01T00:00:00.000Z');
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push(
          await insert({
            createdAt: new Date(base + i * 1000).toISOString(),
            job: 'job.snap',
            outcome: i === 0 ? 'pending' : 'started',
          }),
        );
      }
      const exp = await repo.openExport({ jobId: 'job.snap' }, 2);
      // While the first batches are out: an older row commits late, and the pending row is finalised (moved).
      const late = await insert({ createdAt: new Date(base - 1000).toISOString(), job: 'job.snap' });
      await client.query(
        `WITH p AS (DELETE FROM pending_attempts WHERE id = $1 RETURNING *)
         INSERT INTO attempts (id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type,
           actor_id, actor_name, outcome, reason, message, replica_id)
         SELECT id, created_at, now(), service_principal_id, job_id, trigger, actor_type, actor_id, actor_name,
           'started', reason, 'finalised', replica_id FROM p`,
        [ids[0]],
      );
      const rows: AttemptView[] = [];
      for await (const row of exp.rows) {
        rows.push(row as AttemptView);
      }
      expect(rows.map((r) => r.attemptId)).toEqual([...ids].reverse());
      expect(rows.map((r) => r.attemptId)).not.toContain(late);
      expect(rows[rows.length - 1]).toMatchObject({ attemptId: ids[0], outcome: 'pending' });
      // A new export sees both changes.
      const after = await repo.openExport({ jobId: 'job.snap' }, 2);
      const now: AttemptView[] = [];
      for await (const row of after.rows) {
        now.push(row as AttemptView);
      }
      expect(now).toHaveLength(7);
      expect(now.find((r) => r.attemptId === ids[0])?.outcome).toBe('started');
    });
  });

  describe('integrity (append-only trigger)', () => {
    it('refuses to change or delete a final attempt, and to truncate the table', async () => {
      const id = await insert({ createdAt: BASE, job: 'job.final', outcome: 'started' });
      await expect(
        client.query(`UPDATE attempts SET outcome = 'skipped' WHERE id = $1`, [id]),
      ).rejects.toThrow(/append-only: attempt .* is already final/);
      await expect(
        client.query(`UPDATE attempts SET reason = 'rewritten' WHERE id = $1`, [id]),
      ).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM attempts WHERE id = $1`, [id])).rejects.toThrow(
        /append-only: delete refused/,
      );
      await expect(client.query('TRUNCATE attempts')).rejects.toThrow(/truncate refused/);
      // Outside the retention transaction the flag cannot be set for a later statement by accident.
      await client.query('BEGIN');
      await client.query(`SET LOCAL sync_job_guard.retention = 'on'`);
      await client.query('ROLLBACK');
      await expect(client.query(`DELETE FROM attempts WHERE id = $1`, [id])).rejects.toThrow(
        /delete refused/,
      );
      const rows = await client.query(`SELECT outcome, reason FROM attempts WHERE id = $1`, [id]);
      expect(rows.rows).toEqual([{ outcome: 'started', reason: 'why' }]);
    });

    it('reads a pending attempt as an attempt until it is moved, final, into attempts', async () => {
      const id = await insert({ createdAt: BASE, job: 'job.pending', outcome: 'pending' });
      expect(await repo.get(id)).toMatchObject({ outcome: 'pending', finishedAt: null, graphRequestIds: [] });
      expect((await client.query(`SELECT 1 FROM attempts WHERE id = $1`, [id])).rowCount).toBe(0);
      const moved = await client.query(
        `WITH p AS (DELETE FROM pending_attempts WHERE id = $1 RETURNING *)
         INSERT INTO attempts (id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type,
           actor_id, actor_name, outcome, observed_status, message, replica_id)
         SELECT id, created_at, now(), service_principal_id, job_id, trigger, actor_type, actor_id, actor_name,
           'skipped', 'active', 'job is active', replica_id FROM p`,
        [id],
      );
      expect(moved.rowCount).toBe(1);
      await expect(
        client.query(`UPDATE attempts SET outcome = 'started' WHERE id = $1`, [id]),
      ).rejects.toThrow(/already final/);
      expect(await repo.get(id)).toMatchObject({ outcome: 'skipped', observedStatus: 'active' });
    });
  });

  describe('retention deletes', () => {
    let retention: RetentionRepository;

    beforeAll(() => {
      retention = new RetentionRepository(prisma);
    });

    it('deletes final rows older than the cutoff in bounded batches, never pending ones', async () => {
      const old = Date.parse('2020-01-01T00:00:00.000Z');
      for (let i = 0; i < 7; i++) {
        await insert({ createdAt: new Date(old + i * 1000).toISOString(), job: 'job.old' });
      }
      const pending = await insert({
        createdAt: new Date(old).toISOString(),
        job: 'job.old',
        outcome: 'pending',
      });
      const recent = await insert({ createdAt: '2020-02-01T00:00:00.000Z', job: 'job.old' });
      const cutoff = new Date('2020-01-15T00:00:00.000Z');

      expect(await retention.deleteBatch(cutoff, 3)).toEqual({ locked: true, deleted: 3 });
      expect(await retention.deleteBatch(cutoff, 3)).toEqual({ locked: true, deleted: 3 });
      expect(await retention.deleteBatch(cutoff, 3)).toEqual({ locked: true, deleted: 1 });
      expect(await retention.deleteBatch(cutoff, 3)).toEqual({ locked: true, deleted: 0 });
      const left = await client.query<{ id: string }>(
        `SELECT id FROM attempts WHERE job_id = 'job.old'
         UNION ALL SELECT id FROM pending_attempts WHERE job_id = 'job.old'`,
      );
      expect(left.rows.map((r) => r.id).sort()).toEqual([pending, recent].sort());
    });

    it('does nothing while another replica holds the retention lock', async () => {
      await insert({ createdAt: '2019-01-01T00:00:00.000Z', job: 'job.locked' });
      const other = new Client({ connectionString: db.url });
      await other.connect();
      try {
        await other.query('SELECT pg_advisory_lock($1::bigint)', [RETENTION_LOCK_KEY.toString()]);
        expect(await retention.deleteBatch(new Date('2020-01-01T00:00:00Z'), 100)).toEqual({
          locked: false,
          deleted: 0,
        });
      } finally {
        await other.end();
      }
      expect(await retention.deleteBatch(new Date('2020-01-01T00:00:00Z'), 100)).toEqual({
        locked: true,
        deleted: 1,
      });
    });
  });

  describe('query plans at scale', () => {
    const newest = '2026-06-01T00:00:00.000Z';

    beforeAll(async () => {
      // 100,000 rows over ~58 days, 1,000 jobs, 50 actors.
      await seedSeries(client, {
        count: 100_000,
        newest,
        stepSeconds: 50,
        jobs: 1000,
        actors: 50,
        jobPrefix: 'scim.plan',
      });
      await client.query('ANALYZE attempts');
    }, 120_000);

    function seqScans(node: Record<string, unknown>): string[] {
      const found: string[] = [];
      if (node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'attempts') {
        found.push('Seq Scan on attempts');
      }
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) {
        found.push(...seqScans(child));
      }
      return found;
    }

    async function plan(q: Sql): Promise<Record<string, unknown>> {
      const { text, values } = q.toQuery();
      const res = await client.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(
        `EXPLAIN (FORMAT JSON) ${text}`,
        values,
      );
      return res.rows[0]?.['QUERY PLAN'][0].Plan ?? {};
    }

    const day = (from: string, days: number) => ({
      from: new Date(from),
      to: new Date(Date.parse(from) + days * DAY),
    });
    const within = day('2026-05-10T00:00:00.000Z', 1);
    const cursor: AttemptKey = { createdAt: new Date('2026-05-20T12:00:00.000Z'), id: randomUUID() };
    const filters: [string, AttemptFilter][] = [
      ['no filter', {}],
      ['servicePrincipalId + jobId', { servicePrincipalId: SP, jobId: 'scim.plan7' }],
      ['servicePrincipalId', { servicePrincipalId: SP2 }],
      ['jobId', { jobId: 'scim.plan7' }],
      ['actor', { actorId: 'actor-7' }],
      ['outcome (common)', { outcomes: ['skipped'] }],
      ['outcome (rare)', { outcomes: ['forbidden'] }],
      ['outcomes (two rare)', { outcomes: ['forbidden', 'unknown'] }],
      ['outcomes (two common)', { outcomes: ['skipped', 'started'] }],
      ['trigger', { trigger: 'recovery' }],
      ['from/to', within],
      ['outcome + from/to', { outcomes: ['denied'], ...within }],
      ['outcomes + from/to', { outcomes: ['denied', 'rate_limited'], ...within }],
      ['actor + from/to', { actorId: 'actor-7', ...within }],
      ['job + outcome', { servicePrincipalId: SP, jobId: 'scim.plan7', outcomes: ['started'] }],
      ['sp + from/to', { servicePrincipalId: SP, ...within }],
    ];

    it.each(filters)(
      'a page filtered by %s uses an index, no Seq Scan on attempts',
      async (_name, filter) => {
        for (const after of [null, cursor]) {
          const p = await plan(listQuery(filter, 50, after));
          expect(seqScans(p)).toEqual([]);
        }
        // An export batch is a page of EXPORT_BATCH_ROWS.
        expect(seqScans(await plan(listQuery(filter, EXPORT_BATCH_ROWS, cursor)))).toEqual([]);
      },
    );

    it.each(filters.filter(([name]) => name !== 'no filter' && !name.startsWith('outcome')))(
      'statistics filtered by %s use an index',
      async (_name, filter) => {
        expect(seqScans(await plan(statsQuery(filter)))).toEqual([]);
        expect(seqScans(await plan(statsByJobQuery(filter, 20)))).toEqual([]);
        expect(seqScans(await plan(statsByActorQuery(filter, 20)))).toEqual([]);
      },
    );

    it('statistics of a day by outcome and by job use an index', async () => {
      for (const f of [within, { outcomes: ['denied' as const, 'rate_limited' as const], ...within }]) {
        expect(seqScans(await plan(statsQuery(f)))).toEqual([]);
        expect(seqScans(await plan(statsByJobQuery(f, 20)))).toEqual([]);
      }
    });

    it('(control) the plan check does see a Seq Scan when there is one', async () => {
      const p = await plan(sql`SELECT count(*) FROM attempts WHERE reason IS NULL`);
      expect(seqScans(p)).toEqual(['Seq Scan on attempts']);
    });

    it('reading one attempt uses the primary keys (final and pending rows)', async () => {
      const p = await plan(getQuery(randomUUID()));
      expect(p['Node Type']).toBe('Append');
      const children = (p['Plans'] ?? []) as Record<string, unknown>[];
      expect(children.map((c) => [c['Node Type'], c['Index Name']])).toEqual([
        ['Index Scan', 'attempts_pkey'],
        ['Index Scan', 'pending_attempts_pkey'],
      ]);
    });

    it('the pages of one job use its index', async () => {
      const p = JSON.stringify(
        await plan(listQuery({ servicePrincipalId: SP, jobId: 'scim.plan7' }, 50, cursor)),
      );
      expect(p).toMatch(/attempts_job_created_idx|attempts_jobid_created_idx/);
      const q = JSON.stringify(await plan(listQuery({ jobId: 'scim.plan7' }, 50, null)));
      expect(q).toMatch(/attempts_jobid_created_idx/);
    });
  });
});
