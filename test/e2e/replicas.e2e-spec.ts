import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { jobKey } from '@app/common';
import { openRepositories } from '@app/persistence';
import {
  DEMO_SERVICE_PRINCIPAL_ID,
  type RunningSimulator,
  startGraphSimulator,
} from '../../apps/graph-simulator/src';
import { CLAIM_WORDING } from '../../apps/api/src/jobs/guard-policy';
import { type TestApp, type TestEnv, startApp, startTestEnv } from '../support/harness';
import { eventually, sql } from '../support/sql';

const SP = DEMO_SERVICE_PRINCIPAL_ID;
const startPath = (jobId: string) => `/v1/servicePrincipals/${SP}/synchronization/jobs/${jobId}/start`;

describe('several replicas on one database', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  let apps: TestApp[];
  let token: string;

  beforeAll(async () => {
    env = await startTestEnv();
    sim = await startGraphSimulator({ port: 0, seed: 'empty', latencyMs: 20 });
    apps = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        startApp({
          databaseUrl: env.db.url,
          issuer: env.issuer,
          graph: sim,
          env: {
            REPLICA_ID: `replica-${id}`,
            RATE_LIMIT_PER_JOB: '5',
            DATABASE_POOL_MAX: '5',
            // Every refusal of the burst below is stored (the flood limit is tested in ops.e2e-spec).
            AUDIT_REFUSALS_PER_CALLER: '100000',
          },
        }),
      ),
    );
    token = await env.issuer.sign({ roles: ['JobControl.Start'] });
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await sim.close();
    await env.close();
  });

  it('a burst of 300 concurrent requests for one paused job over three replicas sends exactly one start', async () => {
    const jobId = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const responses = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        request(apps[i % 3]?.url ?? '')
          .post(startPath(jobId))
          .set('Authorization', `Bearer ${token}`)
          .send({ reason: `burst ${i}` }),
      ),
    );
    const byStatus = new Map<number, number>();
    for (const r of responses) {
      byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    }
    expect(byStatus.get(200)).toBe(1);
    expect(byStatus.get(429)).toBe(299);
    expect(responses.every((r) => r.status !== 429 || Number(r.headers['retry-after']) >= 1)).toBe(true);
    expect(sim.state.requests({ operation: 'start', jobId })).toHaveLength(1);
    expect(sim.state.requests({ operation: 'get', jobId }).length).toBeLessThanOrEqual(5);
    expect(sim.state.counters().harmfulStarts).toBe(0);
    const [rows] = await sql<{ n: string; pending: string }>(
      env.db.url,
      `SELECT (SELECT count(*) FROM attempts WHERE job_id = $1)::text AS n,
              (SELECT count(*) FROM pending_attempts WHERE job_id = $1)::text AS pending`,
      [jobId],
    );
    expect(rows).toEqual({ n: '300', pending: '0' });
  }, 60_000);

  it('shares the per-job limit: at most RATE_LIMIT_PER_JOB status reads per window over all replicas', async () => {
    const jobId = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Active' });
    const codes: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await request(apps[i % 3]?.url ?? '')
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`);
      codes.push(r.status);
    }
    expect(codes).toEqual([409, 409, 409, 409, 409, 429, 429, 429, 429]);
    expect(sim.state.requests({ operation: 'get', jobId })).toHaveLength(5);
  });

  it('100 distinct paused jobs at once: 100 starts, jobs do not wait on each other', async () => {
    const ids = Array.from({ length: 100 }, () => `scim.${randomUUID().replace(/-/g, '')}`);
    for (const id of ids) {
      sim.state.putJob({ servicePrincipalId: SP, id, status: 'Paused' });
    }
    const responses = await Promise.all(
      ids.map((id, i) =>
        request(apps[i % 3]?.url ?? '')
          .post(startPath(id))
          .set('Authorization', `Bearer ${token}`),
      ),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(100);
    expect(ids.reduce((n, id) => n + sim.state.requests({ operation: 'start', jobId: id }).length, 0)).toBe(
      100,
    );
  }, 60_000);

  it('database away: 503 and nothing sent to Graph; back again: the service recovers by itself', async () => {
    const jobId = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    await sql(
      env.db.url.replace(/\/[^/]+$/, '/postgres'),
      `ALTER DATABASE "${env.db.name}" ALLOW_CONNECTIONS false`,
    );
    await sql(
      env.db.url.replace(/\/[^/]+$/, '/postgres'),
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`,
      [env.db.name],
    );
    try {
      const down = await request(apps[0]?.url ?? '')
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`)
        .expect(503);
      expect(down.body).toMatchObject({ statusCode: 503, code: 'AUDIT_UNAVAILABLE' });
      expect(down.body.message).toMatch(/nothing was sent to Graph/);
      expect(sim.state.requests({ jobId })).toHaveLength(0);
      const ready = await request(apps[0]?.url ?? '').get('/health/ready');
      expect(ready.status).toBe(503);
      // Unauthenticated: never the driver's text (database names, hosts, ports); that goes to the log.
      expect(ready.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(JSON.stringify(ready.body)).not.toContain(env.db.name);
      expect(JSON.stringify(ready.body)).not.toMatch(/connection|ECONN|127\.0\.0\.1/i);
    } finally {
      await sql(
        env.db.url.replace(/\/[^/]+$/, '/postgres'),
        `ALTER DATABASE "${env.db.name}" ALLOW_CONNECTIONS true`,
      );
    }
    const up = await eventually(async () => {
      const r = await request(apps[0]?.url ?? '')
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`);
      return r.status === 200 ? r : undefined;
    });
    expect(up.body.outcome).toBe('started');
    await request(apps[0]?.url ?? '')
      .get('/health/ready')
      .expect(200);
  }, 30_000);

  it('settles an attempt left pending by a process that died between its row and the Graph call', async () => {
    const jobId = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    // What a crashed replica leaves behind: its claim (pending row + lease), and nothing else.
    const repos = openRepositories({ connectionString: env.db.url });
    const attemptId = randomUUID();
    await repos.guard.claim({
      attemptId,
      jobKey: jobKey(SP, jobId),
      servicePrincipalId: SP,
      jobId,
      trigger: 'api',
      actor: { type: 'app', id: 'crashed-caller', name: null },
      reason: null,
      dryRun: false,
      requestId: null,
      replicaId: 'replica-crashed',
      limit: 5,
      windowSeconds: 300,
      leaseSeconds: 600,
      cooldownSeconds: 600,
      grantPrincipalId: null,
      requireGrants: false,
      wording: CLAIM_WORDING,
    });
    await repos.close();
    // While the lease stands, no other request may start the job.
    await request(apps[1]?.url ?? '')
      .post(startPath(jobId))
      .set('Authorization', `Bearer ${token}`)
      .expect(429);

    const restarted = await startApp({
      databaseUrl: env.db.url,
      issuer: env.issuer,
      graph: sim,
      env: { REPLICA_ID: 'replica-crashed' },
    });
    try {
      const row = await eventually(async () => {
        const [r] = await sql<{ outcome: string; message: string; observed_status: string }>(
          env.db.url,
          'SELECT outcome, message, observed_status FROM attempts WHERE id = $1',
          [attemptId],
        );
        return r && r.outcome !== 'pending' ? r : undefined;
      });
      expect(row.outcome).toBe('unknown');
      expect(row.observed_status).toBe('paused');
      expect(row.message).toMatch(
        /stopped before recording its outcome; a start may or may not have been sent, so the cool-down applies; the job now reads paused/,
      );
      // The lease was released with it, and the cool-down started: nobody knows how far the dead process got.
      const res = await request(apps[1]?.url ?? '')
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`)
        .expect(429);
      expect(res.body.outcome).toBe('rate_limited');
      expect(res.body.message).toMatch(/cool-down/);
      expect(sim.state.requests({ operation: 'start', jobId })).toHaveLength(0);
    } finally {
      await restarted.close();
    }
  }, 30_000);
});
