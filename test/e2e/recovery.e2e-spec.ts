import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { type RunningSimulator } from '../../apps/graph-simulator/src';
import { RecoveryService } from '../../apps/api/src/recovery/recovery.service';
import { type TestApp, type TestEnv, type TestStack, startStack } from '../support/harness';
import { sql } from '../support/sql';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const ADMIN_OID = 'aaaaaaaa-1111-4111-8111-111111111111';

interface WatchRow extends Record<string, unknown> {
  job_id: string;
  state: string;
  failed_attempts: number;
  next_try_at: Date | null;
  last_seen_status: string | null;
  last_quarantine_reason: string | null;
  last_attempt_id: string | null;
  last_message: string | null;
}

const newJobId = (): string => `scim.${randomUUID().replace(/-/g, '')}`;
const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);

describe('scheduled recovery (real PostgreSQL, Graph simulator over HTTP)', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  let stack: TestStack;
  let app: TestApp;
  let recovery: RecoveryService;
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    stack = await startStack({
      REPLICA_ID: 'replica-a',
      RECOVERY_ENABLED: 'false',
      RECOVERY_MAX_ATTEMPTS: '3',
      RATE_LIMIT_PER_JOB: '1000',
      START_COOLDOWN_SECONDS: '0',
    });
    ({ env, sim, app } = stack);
    recovery = app.app.get(RecoveryService);
    admin = await env.issuer.sign({ roles: ['JobControl.Admin'], oid: ADMIN_OID, name: 'Ada Admin' });
    reader = await env.issuer.sign({ roles: ['JobControl.Read'], oid: randomUUID(), name: 'Rita Reader' });
  });

  afterAll(async () => {
    await stack.close();
  });

  beforeEach(async () => {
    sim.state.reset();
    await sql(env.db.url, 'DELETE FROM recovery_watches');
  });

  const watch = (body: object, token = admin) =>
    request(app.url).post('/v1/recovery/watches').set('Authorization', `Bearer ${token}`).send(body);
  /** A job Graph has (a watch is accepted only for one). */
  const existingJob = (jobId = newJobId()): string => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Active' });
    return jobId;
  };
  const watchJobs = async (ids: string[]): Promise<void> => {
    for (const jobId of ids) {
      await watch({ servicePrincipalId: SP, jobId }).expect(201);
    }
  };
  const watchOf = async (jobId: string): Promise<WatchRow> => {
    const [row] = await sql<WatchRow>(
      env.db.url,
      `SELECT job_id, state::text AS state, failed_attempts, next_try_at, last_seen_status, last_quarantine_reason,
              last_attempt_id, last_message
       FROM recovery_watches WHERE job_id = $1`,
      [jobId],
    );
    if (!row) {
      throw new Error(`no watch for ${jobId}`);
    }
    return row;
  };
  const startRequests = (jobId: string) => sim.state.requests({ operation: 'start', jobId }).length;
  const get = (path: string, token = reader) =>
    request(app.url).get(path).set('Authorization', `Bearer ${token}`);

  describe('watch API', () => {
    it('creates a watch (201), answers 200 with the same watch when already watched, and records admin events', async () => {
      const jobId = existingJob();
      const first = await watch({ servicePrincipalId: SP, jobId }).expect(201);
      expect(first.body).toMatchObject({
        servicePrincipalId: SP,
        jobId,
        state: 'ok',
        failedAttempts: 0,
        nextTryAt: null,
        lastSeenStatus: null,
        lastAttemptId: null,
        createdBy: ADMIN_OID,
      });
      const again = await watch({ servicePrincipalId: SP.toUpperCase(), jobId }).expect(200);
      expect(again.body.watchId).toBe(first.body.watchId);
      const events = await sql<{ action: string; actor_id: string; details: { jobId: string } }>(
        env.db.url,
        'SELECT action, actor_id, details FROM admin_events WHERE subject_id = $1',
        [first.body.watchId],
      );
      expect(events).toEqual([
        { action: 'watch.create', actor_id: ADMIN_OID, details: { servicePrincipalId: SP, jobId } },
      ]);

      await request(app.url)
        .delete(`/v1/recovery/watches/${first.body.watchId as string}`)
        .set('Authorization', `Bearer ${admin}`)
        .expect(204);
      await request(app.url)
        .delete(`/v1/recovery/watches/${first.body.watchId as string}`)
        .set('Authorization', `Bearer ${admin}`)
        .expect(404);
      const deleted = await sql(
        env.db.url,
        "SELECT 1 FROM admin_events WHERE action = 'watch.delete' AND subject_id = $1",
        [first.body.watchId],
      );
      expect(deleted).toHaveLength(1);
    });

    it('refuses to watch a job Graph does not have: 404 not_found at creation, nothing stored', async () => {
      const jobId = newJobId();
      const res = await watch({ servicePrincipalId: SP, jobId }).expect(404);
      expect(res.body).toMatchObject({
        statusCode: 404,
        code: 'JOB_NOT_FOUND',
        message: expect.stringMatching(/Graph has no such job/),
      });
      const rows = await sql(env.db.url, 'SELECT 1 FROM recovery_watches WHERE job_id = $1', [jobId]);
      expect(rows).toEqual([]);
      const events = await sql(
        env.db.url,
        "SELECT 1 FROM admin_events WHERE action = 'watch.create' AND details->>'jobId' = $1",
        [jobId],
      );
      expect(events).toEqual([]);
      // The same job, once Graph has it, can be watched.
      existingJob(jobId);
      await watch({ servicePrincipalId: SP, jobId }).expect(201);
    });

    it('POST /v1/recovery/sweeps answers 409 when scheduled recovery is disabled', async () => {
      const res = await request(app.url)
        .post('/v1/recovery/sweeps')
        .set('Authorization', `Bearer ${admin}`)
        .expect(409);
      expect(res.body.message).toMatch(/RECOVERY_ENABLED=false/);
    });

    it('needs the Admin role to change watches and Read to list them', async () => {
      await watch({ servicePrincipalId: SP, jobId: newJobId() }, reader).expect(403);
      await request(app.url)
        .delete(`/v1/recovery/watches/${randomUUID()}`)
        .set('Authorization', `Bearer ${reader}`)
        .expect(403);
      const starter = await env.issuer.sign({ roles: ['JobControl.Start'] });
      await get('/v1/recovery/watches', starter).expect(403);
      await get('/v1/recovery/sweeps', starter).expect(403);
      await request(app.url).get('/v1/recovery/watches').expect(401);
      await get('/v1/recovery/watches', admin).expect(200);
    });

    it.each([
      [{ servicePrincipalId: 'not-a-guid', jobId: 'scim.1' }, /servicePrincipalId/],
      [{ servicePrincipalId: SP, jobId: '../start' }, /jobId/],
      [{ servicePrincipalId: SP }, /jobId/],
      [{ servicePrincipalId: SP, jobId: 'scim.1', extra: 1 }, /"extra" is not allowed/],
      [{ servicePrincipalId: SP, allJobs: 'yes' }, /allJobs must be a boolean/],
      [{ servicePrincipalId: SP, jobId: 'scim.1', allJobs: true }, /jobId must not be given/],
      [[SP], /JSON object/],
    ])('refuses a malformed body %j with 400 naming the field', async (body, message) => {
      const res = await watch(body as object).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_INPUT' });
      expect(res.body.message).toMatch(message);
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts/);
    });

    it('documents the recovery endpoints in OpenAPI under the recovery tag', async () => {
      const res = await request(app.url).get('/docs-json').expect(200);
      const paths = res.body.paths as Record<string, Record<string, { tags?: string[] }>>;
      expect(Object.keys(paths)).toEqual(
        expect.arrayContaining([
          '/v1/recovery/watches',
          '/v1/recovery/watches/{watchId}',
          '/v1/recovery/sweeps',
        ]),
      );
      expect(paths['/v1/recovery/sweeps']?.get?.tags).toEqual(['recovery']);
      expect(Object.keys(res.body.components.schemas as object)).toEqual(
        expect.arrayContaining(['RecoveryWatchDto', 'RecoverySweepPageDto', 'CreateWatchDto']),
      );
    });

    it('refuses a malformed watch id with 400', async () => {
      const res = await request(app.url)
        .delete('/v1/recovery/watches/not-a-uuid')
        .set('Authorization', `Bearer ${admin}`)
        .expect(400);
      expect(res.body.message).toMatch(/watchId must be a UUID/);
    });

    it('watches every job of a service principal with allJobs: true (listed from Graph)', async () => {
      const sp = randomUUID();
      const ids = sim.state.seedJobs(sp, 3, 'Active');
      const res = await watch({ servicePrincipalId: sp, allJobs: true }).expect(201);
      expect(res.body.created).toBe(3);
      expect(res.body.items.map((w: { jobId: string }) => w.jobId).sort()).toEqual([...ids].sort());
      sim.state.seedJobs(sp, 4, 'Active');
      const again = await watch({ servicePrincipalId: sp, allJobs: true }).expect(201);
      expect(again.body.created).toBe(1);
      expect(again.body.items).toHaveLength(4);
      await watch({ servicePrincipalId: sp, allJobs: true }).expect(200);
      const unknownSp = await watch({ servicePrincipalId: randomUUID(), allJobs: true });
      expect(unknownSp.status).toBe(404);
    });

    it('lists watches with last seen status and state, paginated by keyset cursor', async () => {
      const ids = [existingJob(), existingJob(), existingJob()];
      await watchJobs(ids);
      const page1 = await get('/v1/recovery/watches?limit=2').expect(200);
      expect(page1.body.items).toHaveLength(2);
      expect(page1.body.nextCursor).toEqual(expect.any(String));
      const page2 = await get(
        `/v1/recovery/watches?limit=2&cursor=${page1.body.nextCursor as string}`,
      ).expect(200);
      expect(page2.body.items).toHaveLength(1);
      expect(page2.body.nextCursor).toBeNull();
      const all = [...page1.body.items, ...page2.body.items].map((w: { jobId: string }) => w.jobId);
      expect(all).toEqual(ids);
      expect(page1.body.items[0]).toEqual(
        expect.objectContaining({
          watchId: expect.any(String),
          state: 'ok',
          lastSeenStatus: null,
          lastQuarantineReason: null,
          failedAttempts: 0,
          nextTryAt: null,
          lastAttemptId: null,
        }),
      );
      const filtered = await get(
        `/v1/recovery/watches?state=needs_attention&servicePrincipalId=${SP}`,
      ).expect(200);
      expect(filtered.body.items).toEqual([]);
    });

    it.each([
      ['limit=0', /limit/],
      ['limit=501', /limit/],
      ['limit=abc', /limit/],
      ['limit=1&limit=2', /limit/],
      ['cursor=bogus', /cursor/],
      ['cursor=eyJ0IjoieCJ9', /cursor/],
      ['state=broken', /state/],
      ['servicePrincipalId=nope', /servicePrincipalId/],
      ['foo=1', /"foo" is not allowed/],
    ])('refuses the watch list query %s with 400', async (query, message) => {
      const res = await get(`/v1/recovery/watches?${query}`).expect(400);
      expect(res.body.message).toMatch(message);
    });

    it.each([
      ['limit=0', /limit/],
      ['cursor=%%%', /cursor/],
      ['state=ok', /"state" is not allowed/],
    ])('refuses the sweep list query %s with 400', async (query, message) => {
      const res = await get(`/v1/recovery/sweeps?${query}`).expect(400);
      expect(res.body.message).toMatch(message);
    });
  });

  describe('the sweep', () => {
    it('starts only quarantine a start can fix; leaves TooManyDeletes and QuarantinedOnDemand for a person; paused and active untouched', async () => {
      const jobs = {
        recoverable: newJobId(),
        tooManyDeletes: newJobId(),
        onDemand: newJobId(),
        paused: newJobId(),
        active: newJobId(),
      };
      sim.state.putJob({
        servicePrincipalId: SP,
        id: jobs.recoverable,
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException' },
      });
      sim.state.putJob({
        servicePrincipalId: SP,
        id: jobs.tooManyDeletes,
        status: 'Quarantine',
        quarantine: { reason: 'TooManyDeletes' },
      });
      sim.state.putJob({
        servicePrincipalId: SP,
        id: jobs.onDemand,
        status: 'Quarantine',
        quarantine: { reason: 'QuarantinedOnDemand' },
      });
      sim.state.putJob({ servicePrincipalId: SP, id: jobs.paused, status: 'Paused' });
      sim.state.putJob({ servicePrincipalId: SP, id: jobs.active, status: 'Active' });
      await watchJobs(Object.values(jobs));

      const summary = await recovery.sweep();
      expect(summary).toMatchObject({
        leader: 'replica-a',
        jobsRead: 5,
        started: 1,
        needsAttention: 2,
        errors: 0,
        message: null,
      });
      expect(summary?.graphRequests).toBe(3); // one $batch, one status read and one start by the guard
      expect(sim.state.counters().batchRequests).toBe(1);
      expect(startRequests(jobs.recoverable)).toBe(1);
      for (const id of [jobs.tooManyDeletes, jobs.onDemand, jobs.paused, jobs.active]) {
        expect(startRequests(id)).toBe(0);
      }
      expect(sim.state.counters().harmfulStarts).toBe(0);

      const recovered = await watchOf(jobs.recoverable);
      expect(recovered).toMatchObject({
        state: 'recovering',
        last_seen_status: 'quarantine',
        last_quarantine_reason: 'EncounteredQuarantineException',
      });
      const [attempt] = await sql<{
        outcome: string;
        trigger: string;
        actor_type: string;
        actor_id: string;
        actor_name: string;
        reason: string;
      }>(
        env.db.url,
        'SELECT outcome, trigger, actor_type, actor_id, actor_name, reason FROM attempts WHERE id = $1',
        [recovered.last_attempt_id],
      );
      expect(attempt).toEqual({
        outcome: 'started',
        trigger: 'recovery',
        actor_type: 'scheduler',
        actor_id: 'replica-a',
        actor_name: 'recovery',
        reason: 'scheduled recovery of a quarantined job',
      });
      expect(await watchOf(jobs.tooManyDeletes)).toMatchObject({
        state: 'needs_attention',
        last_quarantine_reason: 'TooManyDeletes',
        last_attempt_id: null,
      });
      expect(await watchOf(jobs.onDemand)).toMatchObject({
        state: 'needs_attention',
        last_quarantine_reason: 'QuarantinedOnDemand',
      });
      expect(await watchOf(jobs.paused)).toMatchObject({
        state: 'ok',
        last_seen_status: 'paused',
        last_attempt_id: null,
      });
      expect(await watchOf(jobs.active)).toMatchObject({
        state: 'ok',
        last_seen_status: 'active',
        last_attempt_id: null,
      });

      const metrics = await request(app.url).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/^sjg_recovery_jobs_needing_attention 2$/m);
      expect(metrics.text).toMatch(/^sjg_recovery_sweeps_total\{result="ok"\} 1$/m);

      // The next sweep sees the recovered job active: ok. The person-reasons stay with a person.
      const second = await recovery.sweep();
      expect(second).toMatchObject({ jobsRead: 5, started: 0, needsAttention: 2 });
      expect(await watchOf(jobs.recoverable)).toMatchObject({
        state: 'ok',
        failed_attempts: 0,
        last_seen_status: 'active',
      });
      expect(startRequests(jobs.tooManyDeletes) + startRequests(jobs.onDemand)).toBe(0);

      // A job that comes back by itself resets to ok.
      sim.state.updateJob(SP, jobs.tooManyDeletes, { status: 'Active' });
      await recovery.sweep();
      expect(await watchOf(jobs.tooManyDeletes)).toMatchObject({
        state: 'ok',
        last_seen_status: 'active',
        last_quarantine_reason: null,
      });

      const listed = await get('/v1/recovery/watches?state=needs_attention').expect(200);
      expect(listed.body.items.map((w: { jobId: string }) => w.jobId)).toEqual([jobs.onDemand]);
      expect(listed.body.items[0]).toMatchObject({
        state: 'needs_attention',
        lastSeenStatus: 'quarantine',
        lastQuarantineReason: 'QuarantinedOnDemand',
      });

      const sweeps = await get('/v1/recovery/sweeps?limit=2').expect(200);
      expect(sweeps.body.items).toHaveLength(2);
      expect(sweeps.body.nextCursor).toEqual(expect.any(String));
      expect(Date.parse(sweeps.body.items[0].startedAt)).toBeGreaterThanOrEqual(
        Date.parse(sweeps.body.items[1].startedAt),
      );
      expect(sweeps.body.items[0]).toMatchObject({
        leader: 'replica-a',
        finishedAt: expect.any(String),
        jobsRead: 5,
      });
      const older = await get(
        `/v1/recovery/sweeps?limit=2&cursor=${sweeps.body.nextCursor as string}`,
      ).expect(200);
      expect(older.body.items.length).toBeGreaterThanOrEqual(1);
      expect(older.body.items[0].sweepId).not.toBe(sweeps.body.items[1].sweepId);
    });

    it('backs off failed recoveries (5 min, 15 min, ...) and escalates to needs_attention after RECOVERY_MAX_ATTEMPTS', async () => {
      const jobId = newJobId();
      sim.state.putJob({
        servicePrincipalId: SP,
        id: jobId,
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException' },
      });
      await watchJobs([jobId]);
      sim.state.addFault({ operation: 'start', status: 500, code: 'InternalServerError' });

      const t0 = new Date();
      const first = await recovery.sweep(t0);
      expect(first).toMatchObject({ jobsRead: 1, started: 0, errors: 1 });
      let w = await watchOf(jobId);
      expect(w).toMatchObject({ state: 'backing_off', failed_attempts: 1 });
      expect(w.next_try_at?.getTime()).toBe(addSeconds(t0, 300).getTime());
      expect(w.last_message).toMatch(/upstream_error/);
      expect(startRequests(jobId)).toBe(1);

      // Not due yet: not even read.
      const early = await recovery.sweep(addSeconds(t0, 299));
      expect(early).toMatchObject({ jobsRead: 0, started: 0, graphRequests: 0 });
      expect(startRequests(jobId)).toBe(1);

      const t1 = addSeconds(t0, 300);
      await recovery.sweep(t1);
      w = await watchOf(jobId);
      expect(w).toMatchObject({ state: 'backing_off', failed_attempts: 2 });
      expect(w.next_try_at?.getTime()).toBe(addSeconds(t1, 900).getTime());
      expect(startRequests(jobId)).toBe(2);

      const t2 = addSeconds(t1, 900);
      const third = await recovery.sweep(t2);
      expect(third).toMatchObject({ needsAttention: 1 });
      w = await watchOf(jobId);
      expect(w).toMatchObject({ state: 'needs_attention', failed_attempts: 3, next_try_at: null });
      expect(w.last_message).toMatch(/RECOVERY_MAX_ATTEMPTS=3/);
      expect(startRequests(jobId)).toBe(3);

      // Escalated: read, but never started again while it stays quarantined.
      const later = await recovery.sweep(addSeconds(t2, 86_400));
      expect(later).toMatchObject({ jobsRead: 1, started: 0, needsAttention: 1 });
      expect(startRequests(jobId)).toBe(3);
      const outcomes = await sql<{ outcome: string }>(
        env.db.url,
        'SELECT outcome FROM attempts WHERE job_id = $1',
        [jobId],
      );
      expect(outcomes.map((o) => o.outcome)).toEqual(['upstream_error', 'upstream_error', 'upstream_error']);

      // A person fixes it: the job leaves quarantine and the watch resets.
      sim.state.clearFaults();
      sim.state.updateJob(SP, jobId, { status: 'Active' });
      await recovery.sweep(addSeconds(t2, 86_400));
      expect(await watchOf(jobId)).toMatchObject({ state: 'ok', failed_attempts: 0, next_try_at: null });
    });

    it('counts a relapse (back in quarantine right after the start) as a failed recovery', async () => {
      const jobId = newJobId();
      sim.state.putJob({
        servicePrincipalId: SP,
        id: jobId,
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException' },
        relapse: { reason: 'EncounteredQuarantineException', afterMs: 0 },
      });
      await watchJobs([jobId]);
      const t0 = new Date();
      expect(await recovery.sweep(t0)).toMatchObject({ started: 1 });
      expect(await watchOf(jobId)).toMatchObject({ state: 'recovering', failed_attempts: 0 });

      const relapsed = await recovery.sweep(t0);
      expect(relapsed).toMatchObject({ jobsRead: 1, started: 0, errors: 1 });
      const w = await watchOf(jobId);
      expect(w).toMatchObject({ state: 'backing_off', failed_attempts: 1, last_seen_status: 'quarantine' });
      expect(w.last_message).toMatch(/Back in quarantine/);
      expect(w.next_try_at?.getTime()).toBe(addSeconds(t0, 300).getTime());
      expect(startRequests(jobId)).toBe(1);

      // Once due, it is tried again.
      expect(await recovery.sweep(addSeconds(t0, 300))).toMatchObject({ started: 1 });
      expect(await watchOf(jobId)).toMatchObject({ state: 'recovering', failed_attempts: 1 });
    });

    it('stops reading when Graph throttles the $batch, records it, and does not loop', async () => {
      const ids = sim.state.seedJobs(SP, 45, 'Active', { prefix: 'thr' });
      await sql(
        env.db.url,
        `INSERT INTO recovery_watches (id, service_principal_id, job_id, created_by)
         SELECT gen_random_uuid(), $1, unnest($2::text[]), 'test'`,
        [SP.toLowerCase(), ids],
      );
      sim.state.addFault({ operation: 'batch', status: 429, code: 'TooManyRequests', retryAfter: '0.05' });
      const summary = await recovery.sweep();
      expect(summary).toMatchObject({ jobsRead: 0, started: 0 });
      expect(summary?.message).toMatch(/throttled the \$batch read \(Retry-After 0.05 s\); stopped reading/);
      // The client's own bounded retries of the one envelope, then nothing more in this sweep.
      const envelopes = sim.state.requests({ operation: 'batch' }).length;
      expect(envelopes).toBeGreaterThanOrEqual(1);
      expect(envelopes).toBeLessThanOrEqual(5);
      expect(summary?.graphRequests).toBe(envelopes);
      expect(sim.state.requests({ operation: 'get' })).toHaveLength(0);
      const [row] = await sql<{ message: string; finished_at: Date | null }>(
        env.db.url,
        'SELECT message, finished_at FROM recovery_sweeps WHERE id = $1',
        [summary?.sweepId],
      );
      expect(row?.message).toMatch(/throttled/);
      expect(row?.finished_at).not.toBeNull();

      // Graph allows it again: the next sweep reads everything, 20 at a time.
      sim.state.clearFaults();
      sim.state.resetCounters();
      const next = await recovery.sweep();
      expect(next).toMatchObject({ jobsRead: 45, message: null });
      expect(sim.state.counters().batchRequests).toBe(3);
    });

    it('stops reading after a batch in which one item was throttled (429 inside the $batch)', async () => {
      const ids = sim.state.seedJobs(SP, 60, 'Active', { prefix: 'thi' });
      await sql(
        env.db.url,
        `INSERT INTO recovery_watches (id, service_principal_id, job_id, created_by)
         SELECT gen_random_uuid(), $1, unnest($2::text[]), 'test'`,
        [SP.toLowerCase(), ids],
      );
      // The job read first (watches are swept in watch id order) is throttled: the first batch is the last.
      const [first] = await sql<{ job_id: string }>(
        env.db.url,
        'SELECT job_id FROM recovery_watches ORDER BY id LIMIT 1',
      );
      sim.state.addFault({
        operation: 'get',
        jobId: first?.job_id,
        status: 429,
        code: 'TooManyRequests',
        retryAfter: 3,
      });
      const summary = await recovery.sweep();
      expect(summary).toMatchObject({ jobsRead: 19, graphRequests: 1 });
      expect(summary?.message).toMatch(/throttled part of a \$batch read \(Retry-After 3 s\)/);
      expect(sim.state.counters().batchRequests).toBe(1);
      expect(await watchOf(first?.job_id ?? '')).toMatchObject({ last_seen_status: null });
    });
  });
});
