import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { DEMO_SERVICE_PRINCIPAL_ID, type RunningSimulator } from '../../apps/graph-simulator/src';
import { ApprovalsService } from '../../apps/api/src/approvals/approvals.service';
import { RecoveryService } from '../../apps/api/src/recovery/recovery.service';
import { type TestApp, type TestEnv, type TestStack, startApp, startStack } from '../support/harness';
import { eventually, sql } from '../support/sql';

/**
 * DESIGN 2c end to end: holds, guarded pause and restart, the two-person rule, the quarantine clock in job
 * views and held watches in recovery. Two replicas on one database, Graph replaced by the simulator over HTTP.
 */
const SP = DEMO_SERVICE_PRINCIPAL_ID;
const jobBase = (jobId: string, sp = SP) =>
  `/v1/servicePrincipals/${sp}/synchronization/jobs/${encodeURIComponent(jobId)}`;

const PEOPLE = {
  starter: {
    oid: 'aaaaaaaa-0000-4000-8000-000000000001',
    name: 'Sam Starter',
    roles: ['JobControl.Start', 'JobControl.Read'],
  },
  other: { oid: 'aaaaaaaa-0000-4000-8000-000000000002', name: 'Olu Other', roles: ['JobControl.Start'] },
  admin1: { oid: 'aaaaaaaa-0000-4000-8000-000000000003', name: 'Ada Admin', roles: ['JobControl.Admin'] },
  admin2: { oid: 'aaaaaaaa-0000-4000-8000-000000000004', name: 'Bo Admin', roles: ['JobControl.Admin'] },
  admin3: { oid: 'aaaaaaaa-0000-4000-8000-000000000005', name: 'Cy Admin', roles: ['JobControl.Admin'] },
} as const;
type Person = keyof typeof PEOPLE;

describe('job control beyond start (DESIGN 2c) over HTTP, two replicas', () => {
  let stack: TestStack;
  let env: TestEnv;
  let sim: RunningSimulator;
  let app: TestApp;
  let app2: TestApp;
  const tokens = {} as Record<Person, string>;
  const appEnv = { RATE_LIMIT_PER_JOB: '50', START_COOLDOWN_SECONDS: '600', GRAPH_BUDGET_MS: '6000' };

  beforeAll(async () => {
    stack = await startStack(appEnv);
    ({ env, sim, app } = stack);
    app2 = await startApp({ databaseUrl: env.db.url, issuer: env.issuer, graph: sim, env: appEnv });
    for (const [key, p] of Object.entries(PEOPLE)) {
      tokens[key as Person] = await env.issuer.sign({
        roles: [...p.roles],
        name: p.name,
        oid: p.oid,
        scp: 'access_as_user',
      });
    }
    // Two apps, a simulator and a database: more than jest's default 5 s on a loaded machine.
  }, 60_000);

  afterAll(async () => {
    await app2.close();
    await stack.close();
  }, 60_000);

  let jobId: string;
  beforeEach(() => {
    sim.state.clearFaults();
    jobId = `scim.${randomUUID().replace(/-/g, '')}`;
  });

  const as = (who: Person, on: TestApp = app) => ({
    post: (path: string, body?: object | string | unknown[]) => {
      const r = request(on.url).post(path).set('Authorization', `Bearer ${tokens[who]}`);
      return body === undefined ? r : r.send(body as object);
    },
    get: (path: string) => request(on.url).get(path).set('Authorization', `Bearer ${tokens[who]}`),
    del: (path: string) => request(on.url).delete(path).set('Authorization', `Bearer ${tokens[who]}`),
  });
  const seed = (status: 'Paused' | 'Active' | 'Quarantine', extra: Record<string, unknown> = {}) =>
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status, ...extra });
  const graphCalls = (op: 'start' | 'restart' | 'pause' | 'get', id = jobId) =>
    sim.state.requests({ operation: op, jobId: id }).length;
  const placeHold = (body: Record<string, unknown>, who: Person = 'starter') =>
    as(who).post('/v1/holds', { servicePrincipalId: SP, ...body });

  describe('holds', () => {
    it('refuses a start with 423 held (reason, who, until) without calling Graph; released, the start goes', async () => {
      seed('Paused');
      const hold = await placeHold({ jobId, reason: 'SuccessFactors auth switch CHG-7' }).expect(201);
      expect(hold.body).toMatchObject({
        jobId,
        servicePrincipalId: SP,
        active: true,
        until: null,
        placedBy: { id: PEOPLE.starter.oid, name: 'Sam Starter' },
      });
      const refused = await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(423);
      expect(refused.body).toMatchObject({ outcome: 'held', operation: 'start', holdId: hold.body.holdId });
      expect(refused.body.message).toMatch(/SuccessFactors auth switch CHG-7/);
      expect(refused.body.message).toMatch(/Sam Starter/);
      expect(refused.body.message).toMatch(/until released/);
      // One GET checked that Graph has the job when the hold was placed; the start sent nothing.
      expect(graphCalls('get')).toBe(1);
      expect(graphCalls('start')).toBe(0);

      const released = await as('starter')
        .del(`/v1/holds/${hold.body.holdId as string}`)
        .expect(200);
      expect(released.body).toMatchObject({ active: false, releasedBy: { id: PEOPLE.starter.oid } });
      await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(200);
      expect(graphCalls('start')).toBe(1);
      const events = await sql<{ action: string; actor_id: string }>(
        env.db.url,
        `SELECT action, actor_id FROM admin_events WHERE subject_id = $1 ORDER BY created_at`,
        [hold.body.holdId],
      );
      expect(events).toEqual([
        { action: 'hold.placed', actor_id: PEOPLE.starter.oid },
        { action: 'hold.released', actor_id: PEOPLE.starter.oid },
      ]);
    });

    it('a hold on the service principal holds every job: restarts held, a pause still goes', async () => {
      const sp = randomUUID();
      sim.state.putJob({ servicePrincipalId: sp, id: jobId, status: 'Active' });
      const hold = await placeHold({ servicePrincipalId: sp, reason: 'object connection repair' }).expect(
        201,
      );
      expect(hold.body.jobId).toBeNull();
      const restart = await as('starter')
        .post(`${jobBase(jobId, sp)}/restart`, { resetScope: ['Escrows'], reason: 'clean up' })
        .expect(423);
      expect(restart.body).toMatchObject({ outcome: 'held', operation: 'restart', resetScope: ['Escrows'] });
      const pause = await as('starter')
        .post(`${jobBase(jobId, sp)}/pause`)
        .expect(200);
      expect(pause.body).toMatchObject({ outcome: 'paused', operation: 'pause' });
      expect(graphCalls('restart')).toBe(0);
      expect(sim.state.getJob(sp, jobId)?.status).toBe('Paused');
      const listed = await as('starter').get(`/v1/holds?servicePrincipalId=${sp}&jobId=${jobId}`).expect(200);
      expect(listed.body.items.map((h: { holdId: string }) => h.holdId)).toEqual([hold.body.holdId]);
      await as('admin1')
        .del(`/v1/holds/${hold.body.holdId as string}`)
        .expect(200);
    });

    it('an expired hold stops applying by itself', async () => {
      seed('Paused');
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const hold = await placeHold({ jobId, reason: 'until the window', until }).expect(201);
      expect(hold.body.until).toBe(until);
      await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(423);
      // Time passes (the database's clock decides): move the hold's end into the past.
      await sql(env.db.url, `UPDATE holds SET until = now() - interval '1 second' WHERE id = $1`, [
        hold.body.holdId,
      ]);
      await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(200);
      const active = await as('starter').get(`/v1/holds?jobId=${jobId}`).expect(200);
      expect(active.body.items).toEqual([]);
      const all = await as('starter').get(`/v1/holds?jobId=${jobId}&state=all`).expect(200);
      expect(all.body.items[0]).toMatchObject({ holdId: hold.body.holdId, active: false, releasedAt: null });
    });

    it('refuses until in the past (400 HOLD_UNTIL_IN_PAST)', async () => {
      seed('Paused');
      const res = await placeHold({ jobId, reason: 'x', until: '2020-01-01T00:00:00Z' }).expect(400);
      expect(res.body).toMatchObject({ code: 'HOLD_UNTIL_IN_PAST' });
      expect(res.body.message).toMatch(/until must be in the future/);
    });

    it('refuses a hold on a job Graph does not have (404 JOB_NOT_FOUND)', async () => {
      const res = await placeHold({ jobId, reason: 'x' }).expect(404);
      expect(res.body).toMatchObject({ code: 'JOB_NOT_FOUND' });
      expect(await sql(env.db.url, 'SELECT 1 FROM holds WHERE job_id = $1', [jobId])).toEqual([]);
    });

    it("refuses releasing another person's hold without Admin (403 HOLD_NOT_YOURS); an Admin may", async () => {
      seed('Paused');
      const hold = await placeHold({ jobId, reason: 'mine' }).expect(201);
      const res = await as('other')
        .del(`/v1/holds/${hold.body.holdId as string}`)
        .expect(403);
      expect(res.body).toMatchObject({ code: 'HOLD_NOT_YOURS' });
      await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(423);
      await as('admin1')
        .del(`/v1/holds/${hold.body.holdId as string}`)
        .expect(200);
      const again = await as('admin1')
        .del(`/v1/holds/${hold.body.holdId as string}`)
        .expect(409);
      expect(again.body).toMatchObject({ code: 'HOLD_ALREADY_RELEASED' });
    });

    it('refuses a hold without a reason, with unknown properties or a bad id (400 INVALID_INPUT)', async () => {
      seed('Paused');
      for (const body of [{ jobId }, { jobId, reason: 'x', extra: 1 }, { jobId: '../x', reason: 'x' }]) {
        const res = await placeHold(body).expect(400);
        expect(res.body).toMatchObject({ code: 'INVALID_INPUT' });
      }
      await as('starter').post('/v1/holds', { jobId, reason: 'x' }).expect(400);
    });

    it('a hold placed while a start is between claim and Graph: that start finishes, every later one is held', async () => {
      seed('Paused');
      sim.state.addFault({ operation: 'get', jobId, action: 'delay', latencyMs: 1_500, times: 1 });
      const inFlight = as('starter')
        .post(`${jobBase(jobId)}/start`)
        .then((r) => r);
      await eventually(async () => {
        const rows = await sql(env.db.url, `SELECT 1 FROM pending_attempts WHERE job_id = $1`, [jobId]);
        return rows.length === 1 ? true : undefined;
      });
      // On the other replica, while the first start waits for Graph.
      await placeHold({ jobId, reason: 'stop now' }, 'starter').expect(201);
      const first = await inFlight;
      expect(first.status).toBe(200);
      expect(first.body.outcome).toBe('started');
      const later = await as('starter', app2)
        .post(`${jobBase(jobId)}/start`)
        .expect(423);
      expect(later.body.outcome).toBe('held');
      const restart = await as('starter').post(`${jobBase(jobId)}/restart`, {
        resetScope: ['QuarantineState'],
        reason: 'x',
      });
      expect(restart.status).toBe(423);
      expect(graphCalls('start')).toBe(1);
      expect(graphCalls('restart')).toBe(0);
    });
  });

  describe('guarded pause', () => {
    it('pauses a running job, recorded as operation pause, and is not held back by the cool-down', async () => {
      seed('Paused');
      await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(200);
      const res = await as('starter')
        .post(`${jobBase(jobId)}/pause`, { reason: 'maintenance' })
        .expect(200);
      expect(res.body).toMatchObject({
        outcome: 'paused',
        operation: 'pause',
        observedStatus: 'active',
        reason: 'maintenance',
        holdId: null,
      });
      expect(sim.state.getJob(SP, jobId)?.status).toBe('Paused');
      // The start's cool-down still refuses a start.
      await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(429);
    });

    it('pause with hold: the hold is placed in the same step, and a later start is held', async () => {
      seed('Active');
      const res = await as('starter', app2)
        .post(`${jobBase(jobId)}/pause`, { hold: { reason: 'auth switch' } })
        .expect(200);
      expect(res.body.holdId).toEqual(expect.any(String));
      const holds = await as('starter').get(`/v1/holds?jobId=${jobId}`).expect(200);
      expect(holds.body.items).toEqual([
        expect.objectContaining({ holdId: res.body.holdId, reason: 'auth switch' }),
      ]);
      const start = await as('starter')
        .post(`${jobBase(jobId)}/start`)
        .expect(423);
      expect(start.body.holdId).toBe(res.body.holdId);
    });

    it('refuses a pause body with an unknown property or a hold without reason (400 rejected, recorded)', async () => {
      seed('Active');
      for (const body of [
        { nope: 1 },
        { hold: {} },
        { hold: { reason: 'x', until: '2000-01-01T00:00:00Z' } },
      ]) {
        const res = await as('starter')
          .post(`${jobBase(jobId)}/pause`, body)
          .expect(400);
        expect(res.body).toMatchObject({ outcome: 'rejected', operation: 'pause' });
      }
      expect(graphCalls('pause')).toBe(0);
    });

    it('a pause with hold of a job Graph does not have: 404 not_found, and no hold is left behind', async () => {
      const res = await as('starter')
        .post(`${jobBase(jobId)}/pause`, { hold: { reason: 'typo in the job id' } })
        .expect(404);
      expect(res.body).toMatchObject({ outcome: 'not_found', operation: 'pause' });
      const holds = await as('starter').get(`/v1/holds?jobId=${jobId}`).expect(200);
      expect(holds.body.items).toEqual([]);
    });

    it('needs JobControl.Start (denied, recorded)', async () => {
      seed('Active');
      const reader = await env.issuer.sign({ roles: ['JobControl.Read'], oid: randomUUID(), scp: 'x' });
      const res = await request(app.url)
        .post(`${jobBase(jobId)}/pause`)
        .set('Authorization', `Bearer ${reader}`)
        .expect(403);
      expect(res.body).toMatchObject({ outcome: 'denied', operation: 'pause' });
    });
  });

  describe('guarded restart', () => {
    const restart = (body: unknown, who: Person = 'starter') =>
      as(who).post(`${jobBase(jobId)}/restart`, body as object);

    it("sends Graph's resetScope body, records the scope, and starts the cool-down", async () => {
      seed('Paused', { escrowsPruned: true, escrowCount: 7 });
      const res = await restart({
        resetScope: ['Escrows', 'QuarantineState'],
        reason: 'errors fixed',
      }).expect(200);
      expect(res.body).toMatchObject({
        outcome: 'restarted',
        operation: 'restart',
        resetScope: ['Escrows', 'QuarantineState'],
        reason: 'errors fixed',
      });
      expect(sim.state.getJob(SP, jobId)).toMatchObject({
        status: 'Active',
        escrowsPruned: false,
        lastRestartScope: ['Escrows', 'QuarantineState'],
      });
      const again = await restart({ resetScope: ['Escrows'], reason: 'again' }).expect(429);
      expect(again.body.message).toMatch(/cool-down/);
      expect(graphCalls('restart')).toBe(1);
    });

    it.each([
      ['an unknown scope', { resetScope: ['Everything'], reason: 'x' }, /not a scope/],
      ['an empty scope list', { resetScope: [], reason: 'x' }, /at least one scope/],
      [
        'a scope as a string instead of a list',
        { resetScope: 'Escrows', reason: 'x' },
        /list of scopes, not a string/,
      ],
      ['None', { resetScope: ['None'], reason: 'x' }, /Microsoft says not to use it/],
      [
        'ConnectorDataStore',
        { resetScope: ['ConnectorDataStore'], reason: 'x' },
        /Microsoft says not to use it/,
      ],
      ['a missing reason', { resetScope: ['Escrows'] }, /reason is required/],
      ['a repeated scope', { resetScope: ['Escrows', 'escrows'], reason: 'x' }, /twice/],
    ])('refuses %s with 400 rejected, recorded, nothing sent', async (_what, body, message) => {
      seed('Paused');
      const res = await restart(body).expect(400);
      expect(res.body).toMatchObject({ outcome: 'rejected', operation: 'restart' });
      expect(res.body.message).toMatch(message);
      expect(graphCalls('get') + graphCalls('restart')).toBe(0);
    });

    it('skips a restart of a job that is not configured (409)', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'NotConfigured' });
      const res = await restart({ resetScope: ['Escrows'], reason: 'x' }).expect(409);
      expect(res.body.outcome).toBe('skipped');
      expect(graphCalls('restart')).toBe(0);
    });

    it('a throttled restart is not re-sent: 429 with Retry-After, one POST', async () => {
      seed('Paused');
      sim.state.addFault({ operation: 'restart', jobId, status: 429, retryAfter: 7, times: 1 });
      const res = await restart({ resetScope: ['QuarantineState'], reason: 'x' }).expect(429);
      expect(res.headers['retry-after']).toBe('7');
      expect(sim.state.requests({ operation: 'restart', jobId })).toHaveLength(1);
    });
  });

  describe('two-person rule', () => {
    const approvalOf = (body: { approvalId: string | null }) => body.approvalId as string;

    it('Full waits for another Admin (202, no Graph call); the requester cannot approve it; another Admin runs it once', async () => {
      seed('Paused');
      const asked = await as('admin1')
        .post(`${jobBase(jobId)}/restart`, {
          resetScope: ['Full'],
          reason: 'full re-sync after mapping change',
        })
        .expect(202);
      expect(asked.body).toMatchObject({
        outcome: 'awaiting_approval',
        operation: 'restart',
        resetScope: ['Full'],
      });
      const id = approvalOf(asked.body);
      expect(sim.state.requests({ jobId })).toHaveLength(0);

      const pending = await as('starter').get('/v1/approvals?state=pending').expect(200);
      expect(pending.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            approvalId: id,
            state: 'pending',
            requestedBy: { type: 'user', id: PEOPLE.admin1.oid, name: 'Ada Admin' },
            requestAttemptId: asked.body.attemptId,
          }),
        ]),
      );

      const own = await as('admin1').post(`/v1/approvals/${id}/approve`).expect(403);
      expect(own.body).toMatchObject({ code: 'APPROVAL_OWN_REQUEST' });
      expect(sim.state.requests({ jobId })).toHaveLength(0);

      const ran = await as('admin2').post(`/v1/approvals/${id}/approve`, { reason: 'checked' }).expect(200);
      expect(ran.body).toMatchObject({
        outcome: 'restarted',
        trigger: 'approval',
        operation: 'restart',
        resetScope: ['Full'],
        approvalId: id,
        actor: { id: PEOPLE.admin2.oid, name: 'Bo Admin' },
        requestedBy: { id: PEOPLE.admin1.oid, name: 'Ada Admin' },
      });
      expect(sim.state.getJob(SP, jobId)?.lastRestartScope).toEqual(['Full']);
      const approved = await as('starter').get('/v1/approvals?state=approved').expect(200);
      expect(approved.body.items.map((a: { approvalId: string }) => a.approvalId)).toContain(id);
      const stillPending = await as('starter').get('/v1/approvals?state=pending').expect(200);
      expect(stillPending.body.items.map((a: { approvalId: string }) => a.approvalId)).not.toContain(id);
      await as('starter').get('/v1/approvals?state=open').expect(400);
      const approval = await as('starter').get(`/v1/approvals/${id}`).expect(200);
      expect(approval.body).toMatchObject({
        state: 'approved',
        decidedBy: { id: PEOPLE.admin2.oid },
        attemptId: ran.body.attemptId,
      });
    });

    it('an approval is used once: approving it again is 409 APPROVAL_ALREADY_DECIDED', async () => {
      seed('Paused');
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['Watermark'], reason: 'x' })
        .expect(202);
      await as('admin1')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(200);
      const again = await as('admin2')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(409);
      expect(again.body).toMatchObject({ code: 'APPROVAL_ALREADY_DECIDED' });
      expect(again.body.message).toMatch(/already approved/);
      expect(graphCalls('restart')).toBe(1);
    });

    it('a rejected approval cannot be approved (409)', async () => {
      seed('Paused');
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['Full'], reason: 'x' })
        .expect(202);
      const rejected = await as('admin1')
        .post(`/v1/approvals/${approvalOf(asked.body)}/reject`, { reason: 'not now' })
        .expect(200);
      expect(rejected.body).toMatchObject({ state: 'rejected', decisionReason: 'not now' });
      const res = await as('admin2')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(409);
      expect(res.body).toMatchObject({ code: 'APPROVAL_ALREADY_DECIDED' });
      expect(res.body.message).toMatch(/rejected/);
      expect(graphCalls('restart')).toBe(0);
    });

    it('an expired approval cannot be approved (409 APPROVAL_EXPIRED), and the scheduler closes expired ones', async () => {
      seed('Paused');
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['Full'], reason: 'x' })
        .expect(202);
      const other = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['Watermark'], reason: 'y' })
        .expect(202);
      await sql(
        env.db.url,
        `UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`,
        [[approvalOf(asked.body), approvalOf(other.body)]],
      );
      // The scheduler's statement (any replica) closes both; approving a closed one is refused all the same.
      expect(await app2.app.get(ApprovalsService).expireDue()).toBeGreaterThanOrEqual(2);
      const res = await as('admin1')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(409);
      expect(res.body).toMatchObject({ code: 'APPROVAL_EXPIRED' });
      const rows = await sql<{ state: string }>(
        env.db.url,
        'SELECT state::text AS state FROM approvals WHERE id = $1',
        [approvalOf(other.body)],
      );
      expect(rows).toEqual([{ state: 'expired' }]);
      expect(graphCalls('restart')).toBe(0);
    });

    it('two replicas approving at once: one operation', async () => {
      seed('Paused');
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['Full'], reason: 'race' })
        .expect(202);
      const id = approvalOf(asked.body);
      const [a, b] = await Promise.all([
        as('admin2', app).post(`/v1/approvals/${id}/approve`),
        as('admin3', app2).post(`/v1/approvals/${id}/approve`),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      expect(sim.state.requests({ operation: 'restart', jobId })).toHaveLength(1);
      const attempts = await sql(
        env.db.url,
        `SELECT 1 FROM attempts WHERE approval_id = $1 AND trigger = 'approval'`,
        [id],
      );
      expect(attempts).toHaveLength(1);
    });

    it('ForceDeletion is sent to Graph as ForceDeletes, after approval, and lifts a TooManyDeletes quarantine', async () => {
      seed('Quarantine', { quarantine: { reason: 'TooManyDeletes' }, stagedDeletes: 900 });
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['ForceDeletion'], reason: 'leavers are real' })
        .expect(202);
      await as('admin1')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(200);
      expect(sim.state.getJob(SP, jobId)).toMatchObject({
        status: 'Active',
        stagedDeletes: 0,
        lastRestartScope: ['ForceDeletes'],
      });
    });

    it('a start of a job quarantined for TooManyDeletes waits for approval (202, no start sent), then starts', async () => {
      seed('Quarantine', { quarantine: { reason: 'TooManyDeletes' } });
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/start`, { reason: 'scope fixed' })
        .expect(202);
      expect(asked.body).toMatchObject({
        outcome: 'awaiting_approval',
        operation: 'start',
        quarantineReason: 'TooManyDeletes',
      });
      expect(asked.body.message).toMatch(/TooManyDeletes/);
      expect(graphCalls('start')).toBe(0);
      const ran = await as('admin1')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(200);
      expect(ran.body).toMatchObject({
        outcome: 'started',
        trigger: 'approval',
        requestedBy: { id: PEOPLE.starter.oid },
      });
      expect(graphCalls('start')).toBe(1);
    });

    it('an approved operation still meets a hold placed since (423 held)', async () => {
      seed('Paused');
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['Full'], reason: 'x' })
        .expect(202);
      await placeHold({ jobId, reason: 'freeze' }).expect(201);
      const res = await as('admin1')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(423);
      expect(res.body).toMatchObject({ outcome: 'held', trigger: 'approval' });
      expect(graphCalls('restart')).toBe(0);
    });

    it('needs JobControl.Admin to approve; a Start caller gets 403', async () => {
      seed('Paused');
      const asked = await as('starter')
        .post(`${jobBase(jobId)}/restart`, { resetScope: ['Full'], reason: 'x' })
        .expect(202);
      await as('other')
        .post(`/v1/approvals/${approvalOf(asked.body)}/approve`)
        .expect(403);
      await as('admin1').post(`/v1/approvals/${randomUUID()}/approve`).expect(404);
      await as('admin1').post('/v1/approvals/not-a-guid/approve').expect(400);
    });
  });

  describe('views, audit and recovery', () => {
    it('job views carry the quarantine clock, escrowsPruned, escrowPause and the hold that applies', async () => {
      const began = '2026-11-20T10:00:00.0000000Z';
      seed('Quarantine', {
        quarantine: { reason: 'EncounteredQuarantineException', seriesBegan: began, seriesCount: 4 },
      });
      const hold = await placeHold({ jobId, reason: 'look first' }).expect(201);
      const res = await as('starter').get(jobBase(jobId)).expect(200);
      expect(res.body).toMatchObject({
        quarantineClock: {
          since: '2026-11-20T10:00:00.000Z',
          nextEntraRetry: '2026-11-22T10:00:00.000Z',
          autoDisableAt: '2026-12-18T10:00:00.000Z',
        },
        escrowsPruned: false,
        escrowPause: false,
        hold: { holdId: hold.body.holdId, reason: 'look first' },
      });
      const other = `scim.${randomUUID().replace(/-/g, '')}`;
      sim.state.putJob({ servicePrincipalId: SP, id: other, status: 'Paused', escrowsPruned: true });
      const list = await as('starter').get(`/v1/servicePrincipals/${SP}/synchronization/jobs`).expect(200);
      const escrow = list.body.items.find((j: { id: string }) => j.id === other);
      expect(escrow).toMatchObject({ escrowPause: true, escrowsPruned: true, hold: null });
    });

    it('the audit filters and exports by operation; old rows read as start', async () => {
      seed('Active');
      await as('starter')
        .post(`${jobBase(jobId)}/pause`)
        .expect(200);
      const list = await as('starter').get(`/v1/attempts?jobId=${jobId}&operation=pause`).expect(200);
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).toMatchObject({ operation: 'pause', outcome: 'paused' });
      const none = await as('starter').get(`/v1/attempts?jobId=${jobId}&operation=restart`).expect(200);
      expect(none.body.items).toHaveLength(0);
      const stats = await as('starter').get(`/v1/attempts/stats?jobId=${jobId}&operation=pause`).expect(200);
      expect(stats.body.byOutcome).toMatchObject({ paused: 1 });
      await as('starter').get('/v1/attempts?operation=resume').expect(400);
      const csv = await as('starter').get(`/v1/attempts/export?format=csv&jobId=${jobId}`).expect(200);
      expect(csv.text.split('\r\n')[0]).toMatch(/,operation,approvalId,holdId,resetScope,requestedById$/);
      expect(csv.text.split('\r\n')[1]).toMatch(/,pause,,,,$/);
    });

    it('recovery shows a held watch as held, counts no failure, and starts it once the hold is released', async () => {
      seed('Quarantine', { quarantine: { reason: 'EncounteredQuarantineException' } });
      const admin = as('admin1');
      await admin.post('/v1/recovery/watches', { servicePrincipalId: SP, jobId }).expect(201);
      const hold = await placeHold({ jobId, reason: 'vendor outage' }).expect(201);
      const recovery = app.app.get(RecoveryService);
      const sweep = await recovery.sweep(new Date());
      expect(sweep).toMatchObject({ errors: 0, started: 0 });
      const watches = await admin.get('/v1/recovery/watches').expect(200);
      const watch = watches.body.items.find((w: { jobId: string }) => w.jobId === jobId);
      expect(watch).toMatchObject({ state: 'held', failedAttempts: 0, hold: { holdId: hold.body.holdId } });
      expect(watch.lastMessage).toMatch(/vendor outage/);
      expect(graphCalls('start')).toBe(0);
      await admin.del(`/v1/holds/${hold.body.holdId as string}`).expect(200);
      const next = await recovery.sweep(new Date());
      expect(next?.started).toBe(1);
      expect(graphCalls('start')).toBe(1);
    });
  });
});
