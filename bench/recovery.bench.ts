import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { startGraphSimulator } from '../apps/graph-simulator/src';
import { startDevIssuer } from '../apps/api/src/dev/dev-issuer';
import { RecoveryService } from '../apps/api/src/recovery/recovery.service';
import { migrate } from '../libs/persistence/src/migrator';
import { startApp } from '../test/support/harness';

export interface RecoveryBenchOptions {
  /** A throwaway database (migrated here if it is not yet): the sweep reads every due watch in it. */
  databaseUrl: string;
  /** Watched jobs; one in a hundred is quarantined (EncounteredQuarantineException), the rest active. */
  jobs: number;
  /** CI smoke run: at most 200 jobs. */
  smoke: boolean;
}

export interface RecoveryBenchResult {
  jobs: number;
  /** One full sweep, from the lease claim to the sweep row. */
  durationMs: number;
  /** `$batch` requests Graph received (at most ceil(jobs / 20)). */
  batchRequests: number;
  /** Starts Graph acted on (the quarantined jobs). */
  starts: number;
  jobsRead: number;
  /** Every HTTP request to Graph in the sweep: batches, plus the guard's status read and start per recovery. */
  graphRequests: number;
}

/**
 * One recovery sweep over `jobs` watched jobs: the real app (createApp) on the given PostgreSQL, the Graph
 * simulator in-process over HTTP. The watches are inserted with one INSERT .. SELECT and removed afterwards.
 */
export async function runRecoveryBench(opts: RecoveryBenchOptions): Promise<RecoveryBenchResult> {
  const jobs = opts.smoke ? Math.min(opts.jobs, 200) : opts.jobs;
  const quarantined = Math.max(1, Math.floor(jobs / 100));
  const sp = randomUUID();
  await migrate(opts.databaseUrl);
  const sim = await startGraphSimulator({ port: 0, seed: 'empty' });
  const issuer = await startDevIssuer();
  const db = new Client({ connectionString: opts.databaseUrl });
  await db.connect();
  try {
    sim.state.seedJobs(sp, jobs - quarantined, 'Active', { prefix: 'scim' });
    sim.state.seedJobs(sp, quarantined, 'Quarantine', { prefix: 'quar' });
    await db.query(
      `INSERT INTO recovery_watches (id, service_principal_id, job_id, created_by)
       SELECT gen_random_uuid(), $1, p.prefix || '.' || lpad(to_hex(i), 32, '0'), 'bench'
       FROM (VALUES ('scim', $2::int), ('quar', $3::int)) AS p(prefix, n),
            generate_series(0, p.n - 1) AS i`,
      [sp, jobs - quarantined, quarantined],
    );
    await db.query('DELETE FROM recovery_leader');
    const app = await startApp({
      databaseUrl: opts.databaseUrl,
      issuer,
      graph: sim,
      env: { REPLICA_ID: 'bench', RECOVERY_ENABLED: 'false', LOG_LEVEL: 'warn' },
    });
    try {
      sim.state.resetCounters();
      const started = performance.now();
      const summary = await app.app.get(RecoveryService).sweep();
      const durationMs = Math.round(performance.now() - started);
      if (summary === null) {
        throw new Error('the bench replica did not get the recovery lease');
      }
      const counters = sim.state.counters();
      return {
        jobs,
        durationMs,
        batchRequests: counters.batchRequests,
        starts: counters.starts,
        jobsRead: summary.jobsRead,
        graphRequests: summary.graphRequests,
      };
    } finally {
      await app.close();
    }
  } finally {
    await db
      .query('DELETE FROM recovery_watches WHERE service_principal_id = $1', [sp])
      .catch(() => undefined);
    await db.end();
    await issuer.close();
    await sim.close();
  }
}
