import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { type RunningSimulator, startGraphSimulator } from '../../apps/graph-simulator/src';
import { RecoveryService, type SweepSummary } from '../../apps/api/src/recovery/recovery.service';
import { type TestApp, type TestEnv, startApp, startTestEnv } from '../support/harness';
import { eventually, sql } from '../support/sql';

const SP = '0b6f7f3e-2c1d-4e5f-9a0b-abcdefabcdef';

interface Replica {
  id: string;
  app: TestApp;
  recovery: RecoveryService;
  closed: boolean;
}

describe('scheduled recovery on several replicas (one PostgreSQL)', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  const replicas: Replica[] = [];

  const startReplica = async (id: string, extra: Record<string, string> = {}): Promise<Replica> => {
    const app = await startApp({
      databaseUrl: env.db.url,
      issuer: env.issuer,
      graph: sim,
      env: {
        REPLICA_ID: id,
        RECOVERY_ENABLED: 'false',
        RATE_LIMIT_PER_JOB: '1000',
        START_COOLDOWN_SECONDS: '0',
        ...extra,
      },
    });
    const replica = { id, app, recovery: app.app.get(RecoveryService), closed: false };
    replicas.push(replica);
    return replica;
  };
  const close = async (r: Replica): Promise<void> => {
    if (!r.closed) {
      r.closed = true;
      await r.app.close();
    }
  };
  const leaderRow = async () =>
    (await sql<{ holder: string }>(env.db.url, 'SELECT holder FROM recovery_leader'))[0]?.holder ?? null;
  const watchAll = async (ids: string[]): Promise<void> => {
    await sql(
      env.db.url,
      `INSERT INTO recovery_watches (id, service_principal_id, job_id, created_by)
       SELECT gen_random_uuid(), $1, unnest($2::text[]), 'test'`,
      [SP, ids],
    );
  };

  beforeAll(async () => {
    env = await startTestEnv();
    sim = await startGraphSimulator({ port: 0, seed: 'empty' });
  });

  afterAll(async () => {
    for (const r of replicas) {
      await close(r);
    }
    await sim.close();
    await env.close();
  });

  beforeEach(async () => {
    sim.state.reset();
    await sql(env.db.url, 'DELETE FROM recovery_watches');
    await sql(env.db.url, 'DELETE FROM recovery_leader');
  });

  it('lets exactly one of three replicas sweep at a time; another takes over when the leader stops or dies', async () => {
    const [a, b, c] = [await startReplica('a'), await startReplica('b'), await startReplica('c')];
    const ids = sim.state.seedJobs(SP, 30, 'Quarantine', { prefix: 'rep' });
    await watchAll(ids);

    const round = async (rs: Replica[]): Promise<{ leader: Replica; summary: SweepSummary }> => {
      const results = await Promise.all(rs.map((r) => r.recovery.sweep()));
      const leading = results.flatMap((s, i) =>
        s !== null ? [{ leader: rs[i] as Replica, summary: s }] : [],
      );
      expect(leading).toHaveLength(1);
      return leading[0] as { leader: Replica; summary: SweepSummary };
    };

    const first = await round([a, b, c]);
    expect(first.summary).toMatchObject({ leader: first.leader.id, jobsRead: 30, started: 30 });
    // Every job started exactly once across the three replicas.
    expect(sim.state.counters().starts).toBe(30);
    expect(Object.values(sim.state.counters().startsByJob).every((n) => n === 1)).toBe(true);

    // The leader keeps the lease from tick to tick (it renews it); the others get null again.
    const second = await round([a, b, c]);
    expect(second.leader.id).toBe(first.leader.id);
    expect(second.summary).toMatchObject({ jobsRead: 30, started: 0 });

    // The leader shuts down: it gives the lease up, and another replica leads at its next tick.
    await close(first.leader);
    expect(await leaderRow()).toBeNull();
    const rest = [a, b, c].filter((r) => r !== first.leader);
    const third = await round(rest);
    expect(third.leader.id).not.toBe(first.leader.id);

    // The new leader dies without releasing (simulated: its lease runs out); the last replica takes over.
    await sql(env.db.url, "UPDATE recovery_leader SET expires_at = now() - interval '1 second'");
    const survivor = rest.find((r) => r !== third.leader) as Replica;
    expect(await survivor.recovery.sweep()).toMatchObject({ leader: survivor.id });
    expect(await third.leader.recovery.sweep()).toBeNull();
    expect(await leaderRow()).toBe(survivor.id);

    const leaders = await sql<{ leader: string }>(
      env.db.url,
      'SELECT leader FROM recovery_sweeps ORDER BY started_at',
    );
    expect(leaders.map((l) => l.leader)).toEqual([
      first.leader.id,
      first.leader.id,
      third.leader.id,
      survivor.id,
    ]);
    for (const r of [a, b, c]) {
      await close(r);
    }
  });

  it('finishes the current job and gives the lease up when the leader shuts down mid-sweep', async () => {
    const r = await startReplica('graceful');
    const ids = sim.state.seedJobs(SP, 80, 'Quarantine', { prefix: 'grc' });
    await watchAll(ids);
    sim.state.latencyMs = 40;
    const sweeping = r.recovery.sweep();
    await eventually(() =>
      Promise.resolve(sim.state.requests({ operation: 'start' }).length > 0 ? true : undefined),
    );
    await close(r);
    const summary = await sweeping;
    sim.state.latencyMs = 0;
    expect(summary).not.toBeNull();
    expect(summary?.message).toMatch(/shutting down/);
    expect(summary?.started).toBeGreaterThan(0);
    expect(summary?.started).toBeLessThan(80);
    expect(sim.state.counters().starts).toBe(summary?.started);
    // Every decision it began was finished and recorded; the watches say what happened; the lease is free.
    const [pending] = await sql<{ n: string }>(env.db.url, 'SELECT count(*) AS n FROM pending_attempts');
    expect(pending?.n).toBe('0');
    const [recovering] = await sql<{ n: string }>(
      env.db.url,
      "SELECT count(*) AS n FROM recovery_watches WHERE state = 'recovering'",
    );
    expect(Number(recovering?.n)).toBe(summary?.started);
    const [row] = await sql<{ finished_at: Date | null }>(
      env.db.url,
      'SELECT finished_at FROM recovery_sweeps WHERE id = $1',
      [summary?.sweepId],
    );
    expect(row?.finished_at).not.toBeNull();
    expect(await leaderRow()).toBeNull();
  });

  it('sweeps on its own every RECOVERY_INTERVAL_SECONDS, on one replica at a time', async () => {
    const jobId = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({
      servicePrincipalId: SP,
      id: jobId,
      status: 'Quarantine',
      quarantine: { reason: 'EncounteredQuarantineException' },
    });
    await watchAll([jobId]);
    const timed = { RECOVERY_ENABLED: 'true', RECOVERY_INTERVAL_SECONDS: '1' };
    const t1 = await startReplica('timer-1', timed);
    const t2 = await startReplica('timer-2', timed);

    await eventually(
      async () => {
        const rows = await sql(
          env.db.url,
          'SELECT 1 FROM recovery_sweeps WHERE leader LIKE $1 AND finished_at IS NOT NULL',
          ['timer-%'],
        );
        return rows.length >= 3 ? true : undefined;
      },
      15_000,
      100,
    );
    expect(sim.state.requests({ operation: 'start', jobId })).toHaveLength(1);
    const [w] = await sql<{ state: string }>(
      env.db.url,
      'SELECT state::text AS state FROM recovery_watches WHERE job_id = $1',
      [jobId],
    );
    expect(w?.state).toBe('ok');

    await close(t1);
    await close(t2);
    // No two sweeps overlapped in time, whoever led them.
    const sweeps = await sql<{ started_at: Date; finished_at: Date }>(
      env.db.url,
      'SELECT started_at, finished_at FROM recovery_sweeps WHERE leader LIKE $1 ORDER BY started_at',
      ['timer-%'],
    );
    for (let i = 1; i < sweeps.length; i++) {
      expect((sweeps[i]?.started_at.getTime() ?? 0) >= (sweeps[i - 1]?.finished_at.getTime() ?? 0)).toBe(
        true,
      );
    }
    expect(await leaderRow()).toBeNull();
  });

  it('POST /v1/recovery/sweeps sweeps now on the leader, never two at once, 409 elsewhere (Admin only)', async () => {
    // The timer is on but far away: only the requests sweep.
    const on = { RECOVERY_ENABLED: 'true', RECOVERY_INTERVAL_SECONDS: '3600' };
    const [a, b] = [await startReplica('now-a', on), await startReplica('now-b', on)];
    const ids = sim.state.seedJobs(SP, 12, 'Quarantine', { prefix: 'now' });
    await watchAll(ids);
    const admin = await env.issuer.sign({ roles: ['JobControl.Admin'] });
    const reader = await env.issuer.sign({ roles: ['JobControl.Read'] });
    const sweepNow = (r: Replica, token = admin) =>
      request(r.app.url).post('/v1/recovery/sweeps').set('Authorization', `Bearer ${token}`);

    await sweepNow(a, reader).expect(403);
    const answers = await Promise.all([sweepNow(a), sweepNow(b), sweepNow(a), sweepNow(b)]);
    const accepted = answers.filter((r) => r.status === 202);
    const refused = answers.filter((r) => r.status === 409);
    expect(accepted.length + refused.length).toBe(4);
    // One replica led: every accepted sweep names the same leader, the other replica was told who leads.
    const leaders = new Set(accepted.map((r) => (r.body as SweepSummary).leader));
    expect(leaders.size).toBe(1);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    for (const r of refused) {
      expect(r.body.message).toMatch(/Another replica leads recovery/);
      expect(r.headers['retry-after']).toEqual(expect.stringMatching(/^\d+$/));
    }
    // Every job started exactly once, whatever the interleaving.
    expect(sim.state.counters().starts).toBe(12);
    const swept = accepted.map((r) => r.body as SweepSummary);
    expect(swept.reduce((n, x) => n + x.started, 0)).toBeGreaterThanOrEqual(12);
    // Never two at once: the recorded sweeps do not overlap in time.
    const rows = await sql<{ started_at: Date; finished_at: Date }>(
      env.db.url,
      "SELECT started_at, finished_at FROM recovery_sweeps WHERE leader LIKE 'now-%' ORDER BY started_at",
    );
    for (let i = 1; i < rows.length; i += 1) {
      expect((rows[i] as { started_at: Date }).started_at.getTime()).toBeGreaterThanOrEqual(
        (rows[i - 1] as { finished_at: Date }).finished_at.getTime(),
      );
    }

    // The leader's lease runs out (it died): the other replica now leads and sweeps on request.
    const leader = [a, b].find((r) => leaders.has(r.id)) as Replica;
    const other = leader === a ? b : a;
    await sweepNow(other).expect(409);
    await sql(env.db.url, "UPDATE recovery_leader SET expires_at = now() - interval '1 second'");
    const taken = await sweepNow(other).expect(202);
    expect(taken.body).toMatchObject({ leader: other.id, jobsRead: 12, started: 0 });
    await sweepNow(leader).expect(409);
  });
});
