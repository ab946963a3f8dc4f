import { type RunningSimulator } from '../../apps/graph-simulator/src';
import { RecoveryService } from '../../apps/api/src/recovery/recovery.service';
import { runRecoveryBench } from '../../bench/recovery.bench';
import { createTestDatabase } from '../support/database';
import { type TestApp, type TestEnv, type TestStack, startStack } from '../support/harness';
import { sql } from '../support/sql';

const SP = '7a1e4c55-0d3b-4f2a-8c6e-5b4a3c2d1e0f';
const JOBS = 10_000;
const QUARANTINED = 100;

describe('scheduled recovery at scale: 10,000 watched jobs', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  let stack: TestStack;
  let app: TestApp;

  beforeAll(async () => {
    stack = await startStack({ REPLICA_ID: 'scale', RECOVERY_ENABLED: 'false', LOG_LEVEL: 'warn' });
    ({ env, sim, app } = stack);
  });

  afterAll(async () => {
    await stack.close();
  });

  it('reads every job in at most ceil(10,000 / 20) = 500 $batch requests and starts the quarantined ones', async () => {
    sim.state.seedJobs(SP, JOBS - QUARANTINED, 'Active', { prefix: 'scim' });
    sim.state.seedJobs(SP, QUARANTINED, 'Quarantine', { prefix: 'quar' });
    await sql(
      env.db.url,
      `INSERT INTO recovery_watches (id, service_principal_id, job_id, created_by)
       SELECT gen_random_uuid(), $1, p.prefix || '.' || lpad(to_hex(i), 32, '0'), 'test'
       FROM (VALUES ('scim', $2::int), ('quar', $3::int)) AS p(prefix, n), generate_series(0, p.n - 1) AS i`,
      [SP, JOBS - QUARANTINED, QUARANTINED],
    );
    sim.state.resetCounters();

    const started = performance.now();
    const summary = await app.app.get(RecoveryService).sweep();
    const durationMs = Math.round(performance.now() - started);
    const counters = sim.state.counters();
    process.stdout.write(
      `recovery sweep of ${JOBS} watched jobs: ${durationMs} ms, ${counters.batchRequests} $batch requests, ` +
        `${summary?.graphRequests} Graph requests in all, ${counters.starts} starts\n`,
    );

    expect(summary).toMatchObject({ jobsRead: JOBS, started: QUARANTINED, errors: 0, message: null });
    expect(counters.batchRequests).toBeLessThanOrEqual(Math.ceil(JOBS / 20));
    expect(counters.batchItems).toBe(JOBS);
    expect(counters.starts).toBe(QUARANTINED);
    expect(counters.harmfulStarts).toBe(0);
    // Every watch was read in this sweep, and every quarantined one is now recovering.
    const states = await sql<{ state: string; n: string }>(
      env.db.url,
      `SELECT state::text AS state, count(*) AS n FROM recovery_watches WHERE last_seen_at IS NOT NULL GROUP BY state ORDER BY state`,
    );
    expect(states).toEqual([
      { state: 'ok', n: String(JOBS - QUARANTINED) },
      { state: 'recovering', n: String(QUARANTINED) },
    ]);
  }, 180_000);

  it('runs the recovery benchmark (smoke size) on its own database', async () => {
    const db = await createTestDatabase();
    try {
      const result = await runRecoveryBench({ databaseUrl: db.url, jobs: JOBS, smoke: true });
      expect(result).toMatchObject({ jobs: 200, batchRequests: 10, starts: 2, jobsRead: 200 });
      expect(result.durationMs).toEqual(expect.any(Number));
    } finally {
      await db.drop();
    }
  }, 60_000);
});
