import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { DEMO_JOBS, DEMO_SERVICE_PRINCIPAL_ID, type RunningSimulator } from '../../apps/graph-simulator/src';
import { type TestApp, type TestEnv, type TestStack, startStack } from '../support/harness';
import { sql } from '../support/sql';

const SP = DEMO_SERVICE_PRINCIPAL_ID;
const startPath = (jobId: string, sp = SP) =>
  `/v1/servicePrincipals/${sp}/synchronization/jobs/${encodeURIComponent(jobId)}/start`;

describe('guarded start over HTTP (real PostgreSQL, Graph simulator)', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  let stack: TestStack;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    stack = await startStack({
      RATE_LIMIT_PER_JOB: '50',
      START_COOLDOWN_SECONDS: '600',
      GRAPH_BUDGET_MS: '6000',
      GRAPH_TIMEOUT_MS: '1500',
    });
    ({ env, sim, app } = stack);
    token = await env.issuer.sign({
      roles: ['JobControl.Start'],
      name: 'Ada Admin',
      oid: 'aaaaaaaa-1111-4111-8111-111111111111',
      scp: 'access_as_user',
    });
  });

  afterAll(async () => {
    await stack.close();
  });

  let jobId: string;
  beforeEach(() => {
    sim.state.clearFaults();
    jobId = `scim.${randomUUID().replace(/-/g, '')}`;
  });

  const post = (id: string, body?: object, auth = token) => {
    const r = request(app.url).post(startPath(id)).set('Authorization', `Bearer ${auth}`);
    return body === undefined ? r : r.send(body);
  };
  const starts = (id: string) => sim.state.requests({ operation: 'start', jobId: id }).length;
  const rows = (id: string) =>
    sql<{ outcome: string; actor_id: string; actor_type: string; reason: string | null }>(
      env.db.url,
      'SELECT outcome, actor_id, actor_type, reason FROM attempts WHERE job_id = $1 ORDER BY created_at',
      [id],
    );

  it.each([
    ['Paused', 'PascalCase'],
    ['Paused', 'camelCase'],
    ['Quarantine', 'PascalCase'],
    ['Quarantine', 'camelCase'],
  ] as const)(
    'starts a %s job (%s on the wire) with exactly one POST and records who did it',
    async (status, casing) => {
      sim.state.putJob({
        servicePrincipalId: SP,
        id: jobId,
        status,
        statusCasing: casing === 'camelCase' ? 'camelCase' : undefined,
        quarantine: status === 'Quarantine' ? { reason: 'EncounteredQuarantineException' } : null,
      });
      const res = await post(jobId, { reason: 'ticket CHG-1' }).expect(200);
      expect(res.body).toMatchObject({
        outcome: 'started',
        jobId,
        servicePrincipalId: SP,
        trigger: 'api',
        actor: { type: 'user', id: 'aaaaaaaa-1111-4111-8111-111111111111', name: 'Ada Admin' },
        observedStatus: status === 'Paused' ? 'paused' : 'quarantine',
        quarantineReason: status === 'Quarantine' ? 'EncounteredQuarantineException' : null,
        reason: 'ticket CHG-1',
      });
      expect(res.body.graphRequestIds.length).toBe(2);
      expect(res.body.finishedAt).not.toBeNull();
      expect(starts(jobId)).toBe(1);
      expect(sim.state.getJob(SP, jobId)?.status).toBe('Active');
      expect(await rows(jobId)).toEqual([
        {
          outcome: 'started',
          actor_id: 'aaaaaaaa-1111-4111-8111-111111111111',
          actor_type: 'user',
          reason: 'ticket CHG-1',
        },
      ]);
    },
  );

  it.each([
    ['Active', 'active'],
    ['NotRun', 'notRun'],
    ['NotConfigured', 'notConfigured'],
  ] as const)('skips a %s job with 409, says why, and sends no start', async (status, observed) => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status });
    const res = await post(jobId).expect(409);
    expect(res.body.outcome).toBe('skipped');
    expect(res.body.observedStatus).toBe(observed);
    expect(res.body.message).toMatch(/start is only allowed when paused or in quarantine/);
    expect(starts(jobId)).toBe(0);
  });

  it('treats an unknown status code as unknown and does not start', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused', rawStatusCode: 'Suspended' });
    const res = await post(jobId).expect(409);
    expect(res.body).toMatchObject({ outcome: 'skipped', observedStatus: 'unknown' });
    expect(res.body.message).toMatch(/Suspended/);
    expect(starts(jobId)).toBe(0);
  });

  it('answers a dry run with what would happen and sends no start', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const res = await post(jobId, { dryRun: true }).expect(200);
    expect(res.body).toMatchObject({ outcome: 'dry_run', dryRun: true, observedStatus: 'paused' });
    expect(res.body.message).toMatch(/a start would be sent/);
    expect(starts(jobId)).toBe(0);
  });

  it.each([
    ['Paused', 'paused', true],
    ['Quarantine', 'quarantine', true],
    ['Active', 'active', false],
    ['NotRun', 'notRun', false],
  ] as const)(
    'answers a dry run of a %s job with 200 dry_run and wouldStart, recorded on the row',
    async (status, observed, would) => {
      sim.state.putJob({
        servicePrincipalId: SP,
        id: jobId,
        status,
        quarantine: status === 'Quarantine' ? { reason: 'EncounteredQuarantineException' } : null,
      });
      const res = await post(jobId, { dryRun: true }).expect(200);
      expect(res.body).toMatchObject({ outcome: 'dry_run', observedStatus: observed, wouldStart: would });
      expect(res.body.message).toMatch(would ? /a start would be sent/ : /no start would be sent/);
      const [row] = await sql<{ would_start: boolean | null }>(
        env.db.url,
        'SELECT would_start FROM attempts WHERE job_id = $1',
        [jobId],
      );
      expect(row?.would_start).toBe(would);
      const listed = await request(app.url)
        .get(`/v1/attempts/${String(res.body.attemptId)}`)
        .set('Authorization', `Bearer ${await env.issuer.sign({ roles: ['JobControl.Read'] })}`)
        .expect(200);
      expect(listed.body.wouldStart).toBe(would);
      expect(starts(jobId)).toBe(0);
    },
  );

  it('answers 404 not_found for a job Graph does not know', async () => {
    const res = await post('scim.doesnotexist').expect(404);
    expect(res.body.outcome).toBe('not_found');
  });

  it('rejects malformed ids and bodies with 400 attempt rows, before Graph', async () => {
    const before = sim.state.counters().requests;
    const badSp = await request(app.url)
      .post(startPath(jobId, 'not-a-guid'))
      .set('Authorization', `Bearer ${token}`)
      .expect(400);
    expect(badSp.body).toMatchObject({ outcome: 'rejected', message: 'servicePrincipalId must be a GUID' });
    const badJob = await post('..%2F..%2Fetc').expect(400);
    expect(badJob.body.outcome).toBe('rejected');
    const unknownProp = await post(jobId, { reason: 'x', force: true }).expect(400);
    expect(unknownProp.body.message).toMatch(/"force" is not allowed/);
    const wrongType = await post(jobId, { dryRun: 'yes' }).expect(400);
    expect(wrongType.body.message).toBe('dryRun must be a boolean');
    const longReason = await post(jobId, { reason: 'x'.repeat(501) }).expect(400);
    expect(longReason.body.message).toMatch(/at most 500/);
    expect(sim.state.counters().requests).toBe(before);
    const stored = await sql<{ job_id: string }>(
      env.db.url,
      `SELECT job_id FROM attempts WHERE outcome = 'rejected' AND service_principal_id = 'not-a-guid'`,
    );
    expect(stored).toHaveLength(1);
  });

  it('refuses query parameters on the start: a stray ?dryRun=true never starts a job', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const res = await request(app.url)
      .post(`${startPath(jobId)}?dryRun=true`)
      .set('Authorization', `Bearer ${token}`)
      .expect(400);
    expect(res.body.outcome).toBe('rejected');
    expect(res.body.message).toMatch(/query parameter "dryRun" is not allowed/);
    expect(sim.state.requests({ jobId })).toHaveLength(0);
  });

  it('stores a rejected id escaped (no NUL) and cut to 200 characters', async () => {
    const nasty = `a\u0000${'b'.repeat(300)}`;
    await post(encodeURIComponent(nasty)).expect(400);
    const [row] = await sql<{ job_id: string }>(
      env.db.url,
      `SELECT job_id FROM attempts WHERE outcome = 'rejected' AND job_id LIKE 'a%bbbbbbbbbb%'`,
    );
    expect(row?.job_id.length).toBe(200);
    expect(row?.job_id).not.toContain('\u0000');
    expect(row?.job_id.startsWith('a')).toBe(true);
  });

  it('keeps a reason with a NUL byte and newlines, NUL escaped', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Active' });
    const res = await post(jobId, { reason: 'line1\nline2\u0000end' }).expect(409);
    expect(res.body.reason).toBe('line1\nline2\\u0000end');
  });

  it('refuses a caller without the Start role: 403 denied, recorded, nothing sent', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const reader = await env.issuer.sign({
      roles: ['JobControl.Read'],
      oid: 'bbbbbbbb-2222-4222-8222-222222222222',
    });
    const res = await post(jobId, {}, reader).expect(403);
    expect(res.body).toMatchObject({
      outcome: 'denied',
      actor: { type: 'app', id: 'bbbbbbbb-2222-4222-8222-222222222222' },
    });
    expect(starts(jobId)).toBe(0);
    expect((await rows(jobId)).map((r) => r.outcome)).toEqual(['denied']);
  });

  it('answers 401 without a token and writes no row', async () => {
    await request(app.url).post(startPath(jobId)).expect(401);
    expect(await rows(jobId)).toEqual([]);
  });

  it('holds the cool-down after a start: the next request is 429 with Retry-After', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    await post(jobId).expect(200);
    sim.state.updateJob(SP, jobId, { status: 'Paused' });
    const res = await post(jobId).expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(590);
    expect(res.body.outcome).toBe('rate_limited');
    expect(res.body.message).toMatch(/cool-down/);
    expect(starts(jobId)).toBe(1);
  });

  describe('Graph faults on the status read', () => {
    it('429 beyond the retry budget → 429 rate_limited with Graph’s Retry-After', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'get', jobId, status: 429, code: 'TooManyRequests', retryAfter: 30 });
      const res = await post(jobId).expect(429);
      expect(res.body.outcome).toBe('rate_limited');
      expect(res.headers['retry-after']).toBe('30');
      expect(starts(jobId)).toBe(0);
    });

    it('a 429 that clears within the budget is retried and the start goes through', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'get', jobId, status: 429, retryAfter: 1, times: 1 });
      const res = await post(jobId).expect(200);
      expect(res.body.outcome).toBe('started');
      expect(res.body.graphRequestIds.length).toBe(3);
    });

    it('503 → 503 upstream_error; 500 → 502 upstream_error; no start', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'get', jobId, status: 503 });
      const a = await post(jobId).expect(503);
      expect(a.body.outcome).toBe('upstream_error');
      sim.state.clearFaults();
      const other = `${jobId}b`;
      sim.state.putJob({ servicePrincipalId: SP, id: other, status: 'Paused' });
      sim.state.addFault({ operation: 'get', jobId: other, status: 500 });
      const b = await post(other).expect(502);
      expect(b.body.outcome).toBe('upstream_error');
      expect(starts(jobId) + starts(other)).toBe(0);
    });

    it('a read that never answers ends as 504 within the budget', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'get', jobId, action: 'hang' });
      const res = await post(jobId);
      expect([502, 504]).toContain(res.status);
      expect(res.body.outcome).toBe('upstream_error');
      expect(starts(jobId)).toBe(0);
    }, 20_000);

    it('Graph refusing our identity → 502 forbidden naming the permission', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'get', jobId, status: 401, code: 'UnknownError', message: '' });
      const res = await post(jobId).expect(502);
      expect(res.body.outcome).toBe('forbidden');
      expect(res.body.message).toMatch(/Synchronization\.Read(Write)?\.All/);
    });
  });

  describe('Graph faults on the start', () => {
    it('429 with Retry-After on the start: re-reads, then sends once more, and starts', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'start', jobId, status: 429, retryAfter: 1, times: 1 });
      const res = await post(jobId).expect(200);
      expect(res.body.outcome).toBe('started');
      expect(starts(jobId)).toBe(2);
      expect(sim.state.requests({ operation: 'get', jobId }).length).toBe(2);
      expect(sim.state.counters().harmfulStarts).toBe(0);
    });

    it('503 without Retry-After on the start: not re-sent; the re-read shows it still paused → upstream_error', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'start', jobId, status: 503 });
      const res = await post(jobId).expect(503);
      expect(res.body.outcome).toBe('upstream_error');
      expect(starts(jobId)).toBe(1);
    });

    it('answer lost after Graph acted: re-read shows it active → started, never posted twice', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'start', jobId, action: 'dropAfter', times: 1 });
      const res = await post(jobId).expect(200);
      expect(res.body.outcome).toBe('started');
      expect(res.body.message).toMatch(/took effect/);
      expect(starts(jobId)).toBe(1);
    });

    it('answer lost and the job still paused → 502 unknown, not re-sent, cool-down applied', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'start', jobId, action: 'dropBefore', times: 1 });
      const res = await post(jobId).expect(502);
      expect(res.body.outcome).toBe('unknown');
      expect(starts(jobId)).toBe(1);
      const again = await post(jobId).expect(429);
      expect(again.body.message).toMatch(/cool-down/);
    });

    it('Graph refusing the start → 502 forbidden naming Synchronization.ReadWrite.All', async () => {
      sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
      sim.state.addFault({ operation: 'start', jobId, status: 403, code: 'Authorization_RequestDenied' });
      const res = await post(jobId).expect(502);
      expect(res.body).toMatchObject({ outcome: 'forbidden' });
      expect(res.body.message).toMatch(/Synchronization\.ReadWrite\.All/);
    });
  });

  it('the demo tenant works end to end', async () => {
    sim.reset('demo');
    const res = await post(DEMO_JOBS.paused, { reason: 'demo' }).expect(200);
    expect(res.body.outcome).toBe('started');
    const list = await request(app.url)
      .get(`/v1/servicePrincipals/${SP}/synchronization/jobs`)
      .set('Authorization', `Bearer ${await env.issuer.sign({ roles: ['JobControl.Read'] })}`)
      .expect(200);
    const paused = list.body.items.find((j: { id: string }) => j.id === DEMO_JOBS.paused);
    expect(paused.observedStatus).toBe('active');
    sim.reset('empty');
  });
});
