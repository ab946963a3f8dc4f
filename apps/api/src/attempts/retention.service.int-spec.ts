import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ManualClock } from '@app/common';
import { type Repositories, openRepositories } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import type { AppConfig } from '../config/app-config';
import { PeriodicWork } from '../scheduling/periodic-work';
import { RetentionService } from './retention.service';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const NOW = new Date('2026-11-28T12:00:00.000Z');
const DAY = 86_400_000;

describe('RetentionService (AUDIT_RETENTION_DAYS, real PostgreSQL)', () => {
  let db: TestDatabase;
  let repos: Repositories;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    repos = openRepositories({ connectionString: db.url });
    client = new Client({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
    await repos.close();
    await db.drop();
  });

  function service(days: number | null): {
    svc: RetentionService;
    scheduler: SchedulerRegistry;
    periodic: PeriodicWork;
    clock: ManualClock;
  } {
    const scheduler = new SchedulerRegistry();
    const periodic = new PeriodicWork(scheduler);
    const clock = new ManualClock(NOW);
    const config = { auditRetentionDays: days } as AppConfig;
    const svc = new RetentionService(repos.retention, periodic, clock, config);
    return { svc, scheduler, periodic, clock };
  }

  async function insert(ageDays: number, outcome = 'started', job = 'job.r'): Promise<string> {
    const id = randomUUID();
    const createdAt = new Date(NOW.getTime() - ageDays * DAY).toISOString();
    if (outcome === 'pending') {
      await client.query(
        `INSERT INTO pending_attempts (id, created_at, service_principal_id, job_id, trigger, actor_type, actor_id,
           replica_id)
         VALUES ($1, $2, $3, $4, 'api', 'user', 'u1', 'r1')`,
        [id, createdAt, SP, job],
      );
      return id;
    }
    await client.query(
      `INSERT INTO attempts (id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type, actor_id,
         outcome, replica_id)
       VALUES ($1, $2, $2::timestamptz, $4, $5, 'api', 'user', 'u1', $3::"AttemptOutcome", 'r1')`,
      [id, createdAt, outcome, SP, job],
    );
    return id;
  }

  async function remaining(job: string): Promise<string[]> {
    const r = await client.query<{ id: string }>(
      'SELECT id FROM attempts WHERE job_id = $1 UNION ALL SELECT id FROM pending_attempts WHERE job_id = $1 ORDER BY id',
      [job],
    );
    return r.rows.map((x) => x.id);
  }

  it('removes attempts older than N days, keeps newer ones and never removes pending ones', async () => {
    const old = [await insert(31), await insert(45, 'denied'), await insert(400, 'skipped')];
    const kept = [await insert(29), await insert(0.5), await insert(90, 'pending')];
    const { svc } = service(30);
    const run = await svc.run(NOW);
    expect(run).toEqual({
      cutoff: new Date(NOW.getTime() - 30 * DAY),
      deleted: 3,
      skipped: false,
      incomplete: false,
    });
    expect(await remaining('job.r')).toEqual([...kept].sort());
    for (const id of old) {
      expect(await remaining('job.r')).not.toContain(id);
    }
    // Idempotent.
    expect((await svc.run(NOW)).deleted).toBe(0);
  });

  it('works through a large backlog in bounded batches and stops at the per-run budget', async () => {
    for (let i = 0; i < 7; i++) {
      await insert(60 + i, 'started', 'job.backlog');
    }
    const { svc } = service(30);
    svc.batchSize = 2;
    svc.maxBatches = 2;
    expect(await svc.run(NOW)).toMatchObject({ deleted: 4, incomplete: true });
    expect(await remaining('job.backlog')).toHaveLength(3);
    svc.maxBatches = 10;
    expect(await svc.run(NOW)).toMatchObject({ deleted: 3, incomplete: false });
    expect(await remaining('job.backlog')).toEqual([]);
  });

  it('keeps everything when AUDIT_RETENTION_DAYS is not set, and schedules nothing', async () => {
    const id = await insert(10_000, 'started', 'job.forever');
    const { svc, scheduler } = service(null);
    svc.onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual([]);
    expect(await svc.run(NOW)).toEqual({ cutoff: null, deleted: 0, skipped: false, incomplete: false });
    expect(await remaining('job.forever')).toEqual([id]);
  });

  it('registers an hourly job when retention is configured, and removes it on shutdown', async () => {
    const { svc, scheduler } = service(30);
    svc.onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual(['audit-retention']);
    expect(scheduler.getTimeouts()).toEqual(['audit-retention-first']);
    await svc.onModuleDestroy();
    expect(scheduler.getIntervals()).toEqual([]);
    expect(scheduler.getTimeouts()).toEqual([]);
  });

  it('a scheduled run removes what is older than N days as of the clock; shutdown waits for it', async () => {
    const young = await insert(20, 'started', 'job.clock');
    await insert(40, 'started', 'job.clock');
    const { svc, periodic } = service(30);
    svc.onApplicationBootstrap();
    expect(periodic.runNow('audit-retention')).toBe(true);
    await svc.onModuleDestroy();
    expect(await remaining('job.clock')).toEqual([young]);
  });

  it('moves with the clock: eleven days on, a 20-day-old attempt is past 30 days', async () => {
    await insert(20, 'started', 'job.later');
    const { svc, clock } = service(30);
    await svc.run();
    expect(await remaining('job.later')).toHaveLength(1);
    clock.advance(11 * DAY);
    expect((await svc.run()).cutoff).toEqual(new Date(NOW.getTime() - 19 * DAY));
    expect(await remaining('job.later')).toEqual([]);
  });
});
