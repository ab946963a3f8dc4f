import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { type RunningSimulator, startGraphSimulator } from '../../apps/graph-simulator/src';
import { type TestApp, type TestEnv, startApp, startTestEnv } from '../support/harness';
import { sql } from '../support/sql';

const SP_A = '0a0a0a0a-1111-4111-8111-aaaaaaaaaaaa';
const SP_B = '0b0b0b0b-2222-4222-8222-bbbbbbbbbbbb';
const NARROWED = 'cccccccc-3333-4333-8333-cccccccccccc';
const UNGRANTED = 'dddddddd-4444-4444-8444-dddddddddddd';

describe('grants over HTTP (DESIGN section 2)', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  let app: TestApp;
  let strict: TestApp;
  let admin: string;
  let startOnly: string;
  let readOnly: string;
  let narrowed: string;
  let ungranted: string;

  beforeAll(async () => {
    env = await startTestEnv();
    sim = await startGraphSimulator({ port: 0, seed: 'empty' });
    const graphEnv = { RATE_LIMIT_PER_JOB: '50', START_COOLDOWN_SECONDS: '0' };
    app = await startApp({ databaseUrl: env.db.url, issuer: env.issuer, graph: sim, env: graphEnv });
    strict = await startApp({
      databaseUrl: env.db.url,
      issuer: env.issuer,
      graph: sim,
      env: { ...graphEnv, REQUIRE_GRANTS: 'true', REPLICA_ID: 'strict' },
    });
    admin = await env.issuer.sign({ roles: ['JobControl.Admin'], oid: randomUUID(), name: 'Admin' });
    startOnly = await env.issuer.sign({ roles: ['JobControl.Start'], oid: randomUUID() });
    readOnly = await env.issuer.sign({ roles: ['JobControl.Read'], oid: randomUUID() });
    narrowed = await env.issuer.sign({ roles: ['JobControl.Start'], oid: NARROWED, name: 'Narrowed' });
    ungranted = await env.issuer.sign({ roles: ['JobControl.Start'], oid: UNGRANTED, name: 'Ungranted' });
  });

  afterAll(async () => {
    await strict.close();
    await app.close();
    await sim.close();
    await env.close();
  });

  const grantsApi = (token: string) => ({
    create: (body: unknown) =>
      request(app.url)
        .post('/v1/grants')
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    list: (query = '') => request(app.url).get(`/v1/grants${query}`).set('Authorization', `Bearer ${token}`),
    remove: (id: string) =>
      request(app.url).delete(`/v1/grants/${id}`).set('Authorization', `Bearer ${token}`),
  });
  const start = (base: string, token: string, sp: string, jobId: string, body: object = {}) =>
    request(base)
      .post(`/v1/servicePrincipals/${sp}/synchronization/jobs/${jobId}/start`)
      .set('Authorization', `Bearer ${token}`)
      .send(body);
  const newPausedJob = (sp: string) => {
    const id = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: sp, id, status: 'Paused' });
    return id;
  };
  const graphCallsFor = (jobId: string) =>
    sim.state.requests({ jobId }).filter((r) => r.operation === 'get' || r.operation === 'start').length;

  it('creates a grant (201), answers 200 with the same grant when it exists, stores ids lower-case', async () => {
    const first = await grantsApi(admin)
      .create({ principalId: NARROWED.toUpperCase(), servicePrincipalId: SP_A.toUpperCase() })
      .expect(201);
    expect(first.body).toMatchObject({ principalId: NARROWED, servicePrincipalId: SP_A });
    expect(first.body.grantId).toMatch(/^[0-9a-f-]{36}$/);
    const again = await grantsApi(admin)
      .create({ principalId: NARROWED, servicePrincipalId: SP_A })
      .expect(200);
    expect(again.body.grantId).toBe(first.body.grantId);
    const events = await sql<{ action: string; actor_name: string | null }>(
      env.db.url,
      'SELECT action, actor_name FROM admin_events WHERE subject_id = $1',
      [first.body.grantId],
    );
    expect(events).toEqual([{ action: 'grant.create', actor_name: 'Admin' }]);
  });

  it('lists grants with filters; unknown parameters and malformed ids are 400 naming the field', async () => {
    const all = await grantsApi(admin).list().expect(200);
    expect(all.body.items.map((g: { principalId: string }) => g.principalId)).toContain(NARROWED);
    const bySp = await grantsApi(admin).list(`?servicePrincipalId=${SP_B}`).expect(200);
    expect(bySp.body.items).toEqual([]);
    const byPrincipal = await grantsApi(admin).list(`?principalId=${NARROWED.toUpperCase()}`).expect(200);
    expect(byPrincipal.body.items).toHaveLength(1);
    expect((await grantsApi(admin).list('?limit=5').expect(400)).body.message).toMatch(/"limit"/);
    expect((await grantsApi(admin).list('?principalId=bob').expect(400)).body.message).toMatch(/principalId/);
  });

  it.each([
    [{ principalId: NARROWED }, /servicePrincipalId must be a GUID/],
    [{ principalId: 'ada@contoso.com', servicePrincipalId: SP_A }, /principalId must be a GUID/],
    [{ principalId: NARROWED, servicePrincipalId: SP_A, admin: true }, /"admin" is not allowed/],
    [[NARROWED, SP_A], /JSON object/],
  ])('refuses the body %j with 400', async (body, message) => {
    const res = await grantsApi(admin).create(body).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_INPUT' });
    expect(res.body.message).toMatch(message);
  });

  it('only an Admin manages grants: Start-only and Read-only callers get 403, no token 401', async () => {
    const body = { principalId: UNGRANTED, servicePrincipalId: SP_A };
    expect((await grantsApi(startOnly).create(body).expect(403)).body.message).toMatch(/JobControl.Admin/);
    await grantsApi(startOnly).list().expect(403);
    await grantsApi(readOnly).list().expect(403);
    await grantsApi(startOnly).remove(randomUUID()).expect(403);
    const anonymous = await request(app.url).get('/v1/grants').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(await grantsApi(admin).list(`?principalId=${UNGRANTED}`).expect(200)).toHaveProperty(
      'body.items',
      [],
    );
  });

  it('a caller with a grant for SP A starts on A and is denied on B, with an attempt row and no Graph call', async () => {
    const onA = newPausedJob(SP_A);
    const okRes = await start(app.url, narrowed, SP_A, onA).expect(200);
    expect(okRes.body.outcome).toBe('started');
    expect(sim.state.requests({ operation: 'start', jobId: onA })).toHaveLength(1);

    const onB = newPausedJob(SP_B);
    const denied = await start(app.url, narrowed, SP_B, onB).expect(403);
    expect(denied.body).toMatchObject({ outcome: 'denied', servicePrincipalId: SP_B, jobId: onB });
    expect(denied.body.message).toMatch(/grant/);
    expect(graphCallsFor(onB)).toBe(0);
    const rows = await sql<{ outcome: string; actor_id: string }>(
      env.db.url,
      'SELECT outcome, actor_id FROM attempts WHERE job_id = $1',
      [onB],
    );
    expect(rows).toEqual([{ outcome: 'denied', actor_id: NARROWED }]);
  });

  it('without REQUIRE_GRANTS a caller with no grant is not narrowed', async () => {
    const job = newPausedJob(SP_B);
    expect((await start(app.url, ungranted, SP_B, job).expect(200)).body.outcome).toBe('started');
  });

  it('REQUIRE_GRANTS=true refuses a caller without a grant (403 denied, no Graph call); a granted caller proceeds', async () => {
    const job = newPausedJob(SP_A);
    const res = await start(strict.url, ungranted, SP_A, job, { dryRun: true }).expect(403);
    expect(res.body.outcome).toBe('denied');
    expect(res.body.message).toMatch(/REQUIRE_GRANTS/);
    expect(graphCallsFor(job)).toBe(0);
    const granted = await start(strict.url, narrowed, SP_A, job, { dryRun: true }).expect(200);
    expect(granted.body.outcome).toBe('dry_run');
  });

  it('a removed grant stops narrowing: 204, then 404 for the same id; malformed ids are 400', async () => {
    const created = await grantsApi(admin)
      .create({ principalId: NARROWED, servicePrincipalId: SP_B })
      .expect(201);
    await grantsApi(admin).remove(created.body.grantId).expect(204);
    const gone = await grantsApi(admin).remove(created.body.grantId).expect(404);
    expect(gone.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'GRANT_NOT_FOUND' });
    expect((await grantsApi(admin).remove('not-a-uuid').expect(400)).body.message).toBe(
      'grantId must be a UUID',
    );
    const events = await sql<{ action: string; details: Record<string, string> }>(
      env.db.url,
      'SELECT action, details FROM admin_events WHERE subject_id = $1 ORDER BY created_at',
      [created.body.grantId],
    );
    expect(events.map((e) => e.action)).toEqual(['grant.create', 'grant.delete']);
    expect(events[1]?.details).toMatchObject({ principalId: NARROWED, servicePrincipalId: SP_B });
    // Still narrowed to SP A only.
    const job = newPausedJob(SP_B);
    await start(app.url, narrowed, SP_B, job).expect(403);
  });

  it('lists grant changes as admin events, newest first (Admin only, strict query)', async () => {
    const res = await request(app.url)
      .get('/v1/grants/events?limit=500')
      .set('Authorization', `Bearer ${admin}`)
      .expect(200);
    const actions = res.body.items.map((e: { action: string }) => e.action);
    expect(actions[0]).toBe('grant.delete');
    expect(actions).toContain('grant.create');
    expect(res.body.items[0]).toMatchObject({
      actor: { name: 'Admin' },
      details: { principalId: NARROWED, servicePrincipalId: SP_B },
    });
    const at = res.body.items.map((e: { at: string }) => e.at);
    expect([...at].sort().reverse()).toEqual(at);
    await request(app.url)
      .get('/v1/grants/events?limit=0')
      .set('Authorization', `Bearer ${admin}`)
      .expect(400);
    await request(app.url)
      .get('/v1/grants/events?since=x')
      .set('Authorization', `Bearer ${admin}`)
      .expect(400);
    await request(app.url).get('/v1/grants/events').set('Authorization', `Bearer ${startOnly}`).expect(403);
  });
});
