import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Client, GraphError as SdkGraphError } from '@microsoft/microsoft-graph-client';
import { DEMO_SERVICE_PRINCIPAL_ID, type RunningSimulator } from '../../apps/graph-simulator/src';
import { type TestApp, type TestEnv, type TestStack, startStack } from '../support/harness';
import { sql } from '../support/sql';
import { type TlsDoor, serveOverTls } from '../support/tls-door';
import { DOOR_ERRORS } from '../../apps/api/src/graph-door/door-answers';

const SP = DEMO_SERVICE_PRINCIPAL_ID;
const GUARD_AUDIENCE = 'https://guard.example';

/**
 * The Graph-compatible door (DESIGN section 2b) driven by Microsoft's own Graph JavaScript client, unchanged,
 * pointed at the guard over TLS (the client sends its token only to https hosts), with real PostgreSQL and the
 * Graph simulator behind the guard.
 */
describe('Graph-compatible door (/v1.0, /beta) with real Graph clients', () => {
  let stack: TestStack;
  let env: TestEnv;
  let sim: RunningSimulator;
  let app: TestApp;
  let door: TlsDoor;
  let origin: string;
  let token: string;
  let readOnlyToken: string;
  let client: Client;
  /** Every request the door received over TLS: method and path. */
  let received: string[];

  beforeAll(async () => {
    stack = await startStack({
      RATE_LIMIT_PER_JOB: '50',
      START_COOLDOWN_SECONDS: '600',
      AUTH_AUDIENCE: `api://sync-job-guard,${GUARD_AUDIENCE}`,
    });
    ({ env, sim, app } = stack);
    door = await serveOverTls(app);
    ({ origin, received } = door);
    // The token PowerShell's Add-MgEnvironment -GraphEndpoint https://guard.example would get: aud = that URL.
    token = await env.issuer.sign({
      roles: ['JobControl.Read', 'JobControl.Start'],
      name: 'Script Runner',
      oid: 'bbbbbbbb-2222-4222-8222-222222222222',
      audience: GUARD_AUDIENCE,
    });
    readOnlyToken = await env.issuer.sign({ roles: ['JobControl.Read'], oid: randomUUID() });
    client = Client.init({
      baseUrl: `${origin}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set(['127.0.0.1']),
      authProvider: (done) => done(null, token),
      // Trust the test's self-signed certificate (production: a real certificate; nothing to configure).
      fetchOptions: { dispatcher: door.dispatcher } as RequestInit,
    });
  });

  afterAll(async () => {
    await door.close();
    await stack.close();
  });

  let jobId: string;
  beforeEach(() => {
    sim.state.clearFaults();
    received.length = 0;
    jobId = `scim.${randomUUID().replace(/-/g, '')}`;
  });

  const jobs = `/servicePrincipals/${SP}/synchronization/jobs`;
  const starts = (id: string) => sim.state.requests({ operation: 'start', jobId: id }).length;
  const attempts = (id: string) =>
    sql<{ outcome: string; request_id: string | null }>(
      env.db.url,
      'SELECT outcome, request_id FROM attempts WHERE job_id = $1 ORDER BY created_at',
      [id],
    );
  async function sdkError(call: Promise<unknown>): Promise<SdkGraphError> {
    try {
      await call;
    } catch (error) {
      if (error instanceof SdkGraphError) {
        return error;
      }
      throw error;
    }
    throw new Error('expected the Graph client to throw');
  }

  it('lists jobs: Graph JSON with @odata.context at our origin', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const res = (await client.api(jobs).get()) as { '@odata.context': string; value: { id: string }[] };
    expect(res['@odata.context']).toBe(
      `${origin}/v1.0/$metadata#servicePrincipals('${SP}')/synchronization/jobs`,
    );
    const job = res.value.find((j) => j.id === jobId);
    expect(job).toMatchObject({ id: jobId, status: { code: 'Paused' }, schedule: expect.any(Object) });
    expect(job).not.toHaveProperty('observedStatus');
  });

  it('gets a job exactly as Graph wrote it (beta too)', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused', statusCasing: 'camelCase' });
    const job = (await client.api(`${jobs}/${jobId}`).get()) as Record<string, unknown>;
    expect(job).toMatchObject({ id: jobId, status: { code: 'paused' } });
    expect(job['@odata.context']).toBe(
      `${origin}/v1.0/$metadata#servicePrincipals('${SP}')/synchronization/jobs/$entity`,
    );
    const beta = (await client.api(`${jobs}/${jobId}`).version('beta').get()) as Record<string, unknown>;
    expect(beta['@odata.context']).toContain(`${origin}/beta/$metadata#`);
  });

  it('starts a paused job: 204, exactly one Graph start, one attempt, the attempt id in a header', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const raw = (await client
      .api(`${jobs}/${jobId}/start`)
      .responseType('raw' as never)
      .post({})) as Response;
    expect(raw.status).toBe(204);
    expect(await raw.text()).toBe('');
    expect(raw.headers.get('request-id')).toEqual(expect.any(String));
    expect(raw.headers.get('date')).toEqual(expect.any(String));
    expect(starts(jobId)).toBe(1);
    const rows = await attempts(jobId);
    expect(rows.map((r) => r.outcome)).toEqual(['started']);
    const attemptId = raw.headers.get('sjg-attempt-id');
    expect(attemptId).toMatch(/^[0-9a-f-]{36}$/);
    const [row] = await sql<{ id: string; actor_id: string }>(
      env.db.url,
      'SELECT id, actor_id FROM attempts WHERE job_id = $1',
      [jobId],
    );
    expect(row).toEqual({ id: attemptId, actor_id: 'bbbbbbbb-2222-4222-8222-222222222222' });
  });

  it('refuses to start an active job: Graph-shaped JobNotStartable naming the status, no Graph start', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Active' });
    const error = await sdkError(client.api(`${jobs}/${jobId}/start`).post({}));
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('JobNotStartable');
    expect(error.message).toBe('Job is active; start is only allowed when paused or in quarantine');
    expect(starts(jobId)).toBe(0);
    expect((await attempts(jobId)).map((r) => r.outcome)).toEqual(['skipped']);
  });

  it('answers a start within the cool-down at once: JobInCooldown, one request, no SDK retry', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    await client.api(`${jobs}/${jobId}/start`).post({});
    received.length = 0;
    const error = await sdkError(client.api(`${jobs}/${jobId}/start`).post({}));
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('JobInCooldown');
    expect(error.message).toMatch(/cool-down/);
    // The SDK's retry handler retries 429/503/504: one request reached the door, no sleep through Retry-After.
    expect(received).toEqual([`POST /v1.0${jobs}/${jobId}/start`]);
    expect(error.headers?.get('Retry-After')).toMatch(/^\d+$/);
    expect(starts(jobId)).toBe(1);
  });

  it('runs a $batch with a mix, each item through the guard, dependsOn honoured', async () => {
    const paused = jobId;
    const active = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: SP, id: paused, status: 'Paused' });
    sim.state.putJob({ servicePrincipalId: SP, id: active, status: 'Active' });
    const body = {
      requests: [
        { id: 'get', method: 'GET', url: `${jobs}/${paused}` },
        { id: 'start', method: 'POST', url: `${jobs}/${paused}/start`, dependsOn: ['get'] },
        { id: 'again', method: 'POST', url: `${jobs}/${paused}/start`, dependsOn: ['start'] },
        { id: 'active', method: 'POST', url: `${jobs}/${active}/start` },
        { id: 'afterActive', method: 'GET', url: `${jobs}/${active}`, dependsOn: ['active'] },
        { id: 'missing', method: 'GET', url: `${jobs}/scim.doesnotexist` },
        { id: 'other', method: 'DELETE', url: `${jobs}/${paused}` },
      ],
    };
    const res = (await client.api('/$batch').post(body)) as {
      responses: { id: string; status: number; headers: Record<string, string>; body?: unknown }[];
    };
    const by = Object.fromEntries(res.responses.map((r) => [r.id, r]));
    expect(by.get).toMatchObject({ status: 200, body: { id: paused } });
    expect(by.start).toMatchObject({ status: 204 });
    expect(by.start?.headers['sjg-attempt-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(by.again).toMatchObject({ status: 409, body: { error: { code: 'JobInCooldown' } } });
    expect(by.active).toMatchObject({ status: 409, body: { error: { code: 'JobNotStartable' } } });
    expect(by.afterActive).toMatchObject({ status: 424, body: { error: { code: 'FailedDependency' } } });
    expect(by.missing).toMatchObject({ status: 404, body: { error: { code: 'Request_ResourceNotFound' } } });
    expect(by.other).toMatchObject({ status: 400, body: { error: { code: 'NotSupportedByGuard' } } });
    expect(starts(paused)).toBe(1);
    expect(starts(active)).toBe(0);
    expect((await attempts(paused)).map((r) => r.outcome).sort()).toEqual(['rate_limited', 'started']);
  });

  it('pauses through the guarded pause (204, one Graph pause, a paused attempt)', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Active' });
    const raw = (await client
      .api(`${jobs}/${jobId}/pause`)
      .responseType('raw' as never)
      .post({})) as Response;
    expect(raw.status).toBe(204);
    expect(raw.headers.get('sjg-attempt-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.state.requests({ operation: 'pause', jobId })).toHaveLength(1);
    expect((await attempts(jobId)).map((r) => r.outcome)).toEqual(['paused']);
  });

  describe("restart with Graph's body through the guarded restart", () => {
    const restartRows = (id: string) =>
      sql<{ id: string; outcome: string; operation: string; reset_scope: string[]; reason: string | null }>(
        env.db.url,
        'SELECT id, outcome, operation::text AS operation, reset_scope, reason FROM attempts WHERE job_id = $1 ORDER BY created_at',
        [id],
      );
    const restarts = (id: string) => sim.state.requests({ operation: 'restart', jobId: id }).length;
    const quarantined = (id: string) =>
      sim.state.putJob({
        servicePrincipalId: SP,
        id,
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException', seriesCount: 1 },
      });

    it('restarts a quarantined job with Escrows: 204, one Graph restart, the scope and the sjg-reason recorded', async () => {
      quarantined(jobId);
      const raw = (await client
        .api(`${jobs}/${jobId}/restart`)
        .header('sjg-reason', 'escrows stuck after the credential fix (CHG-4711)')
        .responseType('raw' as never)
        .post({ criteria: { resetScope: 'Escrows' } })) as Response;
      expect(raw.status).toBe(204);
      expect(await raw.text()).toBe('');
      expect(restarts(jobId)).toBe(1);
      expect(sim.state.getJob(SP, jobId)?.lastRestartScope).toEqual(['Escrows']);
      const rows = await restartRows(jobId);
      expect(rows).toEqual([
        {
          id: raw.headers.get('sjg-attempt-id'),
          outcome: 'restarted',
          operation: 'restart',
          reset_scope: ['Escrows'],
          reason: 'escrows stuck after the credential fix (CHG-4711)',
        },
      ]);
    });

    it("records the fixed reason without a header; maps Graph's ForceDeletes to ForceDeletion (approval, no Graph call)", async () => {
      quarantined(jobId);
      const raw = (await client
        .api(`${jobs}/${jobId}/restart`)
        .responseType('raw' as never)
        .post({ criteria: { resetScope: 'QuarantineState, Escrows' } })) as Response;
      expect(raw.status).toBe(204);
      const other = `scim.${randomUUID().replace(/-/g, '')}`;
      quarantined(other);
      const error = await sdkError(
        client.api(`${jobs}/${other}/restart`).post({ criteria: { resetScope: 'ForceDeletes' } }),
      );
      expect(error.statusCode).toBe(409);
      expect(error.code).toBe('ApprovalRequired');
      expect(restarts(other)).toBe(0);
      expect(await restartRows(jobId)).toEqual([
        expect.objectContaining({
          outcome: 'restarted',
          reset_scope: ['QuarantineState', 'Escrows'],
          reason: 'Restart through the Graph-compatible door (no reason given)',
        }),
      ]);
      expect(await restartRows(other)).toEqual([
        expect.objectContaining({ outcome: 'awaiting_approval', reset_scope: ['ForceDeletion'] }),
      ]);
    });

    it('answers a restart with Full as ApprovalRequired (409) saying how to approve; no Graph call, no SDK retry', async () => {
      quarantined(jobId);
      const error = await sdkError(
        client
          .api(`${jobs}/${jobId}/restart`)
          .header('sjg-reason', 'mapping changed')
          .post({ criteria: { resetScope: 'Full' } }),
      );
      expect(error.statusCode).toBe(409);
      expect(error.code).toBe('ApprovalRequired');
      const [row] = await restartRows(jobId);
      expect(row).toMatchObject({
        outcome: 'awaiting_approval',
        reset_scope: ['Full'],
        reason: 'mapping changed',
      });
      const [approval] = await sql<{ id: string }>(env.db.url, 'SELECT id FROM approvals WHERE job_id = $1', [
        jobId,
      ]);
      expect(error.message).toContain('needs a second person');
      expect(error.message).toContain(`POST /v1/approvals/${approval?.id}/approve`);
      expect(restarts(jobId)).toBe(0);
      expect(sim.state.requests({ jobId })).toHaveLength(0);
      expect(received.filter((r) => r.includes('/restart'))).toHaveLength(1);
    });

    it.each([
      ['None', { criteria: { resetScope: 'None' } }, /Microsoft says not to use it/],
      [
        'ConnectorDataStore',
        { criteria: { resetScope: 'Escrows, ConnectorDataStore' } },
        /Microsoft says not to use it/,
      ],
      ['an unknown scope', { criteria: { resetScope: 'Everything' } }, /not a scope/],
      ['no scope', {}, /at least one scope/],
      ['a property Graph does not have', { criteria: { resetScope: 'Escrows' }, reason: 'x' }, /not allowed/],
    ])('refuses %s with a Graph-shaped 400 BadRequest and no Graph call', async (_what, body, message) => {
      quarantined(jobId);
      const error = await sdkError(client.api(`${jobs}/${jobId}/restart`).post(body));
      expect(error.statusCode).toBe(400);
      expect(error.code).toBe('BadRequest');
      expect(error.message).toMatch(message);
      expect(restarts(jobId)).toBe(0);
    });

    it('refuses an sjg-reason header by the same rules as /v1 (too long, empty): 400, a rejected attempt', async () => {
      quarantined(jobId);
      for (const reason of ['x'.repeat(501), ' ']) {
        const res = await request(app.url)
          .post(`/v1.0${jobs}/${jobId}/restart`)
          .set('Authorization', `Bearer ${token}`)
          .set('sjg-reason', reason)
          .send({ criteria: { resetScope: 'Escrows' } })
          .expect(400);
        expect(res.body.error.code).toBe('BadRequest');
        expect(res.body.error.message).toMatch(/reason must/);
      }
      expect(restarts(jobId)).toBe(0);
      expect((await restartRows(jobId)).map((r) => r.outcome)).toEqual(['rejected', 'rejected']);
    });

    it('answers a held job with JobOnHold (423) and no Graph restart', async () => {
      quarantined(jobId);
      const admin = await env.issuer.sign({ roles: ['JobControl.Admin'], oid: randomUUID() });
      await request(app.url)
        .post('/v1/holds')
        .set('Authorization', `Bearer ${admin}`)
        .send({ servicePrincipalId: SP, jobId, reason: 'migration weekend' })
        .expect(201);
      const error = await sdkError(
        client.api(`${jobs}/${jobId}/restart`).post({ criteria: { resetScope: 'Escrows' } }),
      );
      expect(error.statusCode).toBe(423);
      expect(error.code).toBe('JobOnHold');
      expect(restarts(jobId)).toBe(0);
      expect((await restartRows(jobId)).map((r) => r.outcome)).toEqual(['held']);
    });

    it("restarts inside a $batch with the item's sjg-reason", async () => {
      quarantined(jobId);
      const res = (await client.api('/$batch').post({
        requests: [
          {
            id: 'r',
            method: 'POST',
            url: `${jobs}/${jobId}/restart`,
            headers: { 'Content-Type': 'application/json', 'sjg-reason': 'batch restart' },
            body: { criteria: { resetScope: 'Escrows' } },
          },
        ],
      })) as { responses: { id: string; status: number }[] };
      expect(res.responses).toEqual([expect.objectContaining({ id: 'r', status: 204 })]);
      expect(restarts(jobId)).toBe(1);
      expect(await restartRows(jobId)).toEqual([
        expect.objectContaining({ outcome: 'restarted', reason: 'batch restart' }),
      ]);
    });
  });

  it('answers a caller without the Start role with Forbidden (a denied attempt) and no Graph call', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const res = await request(app.url)
      .post(`/v1.0${jobs}/${jobId}/start`)
      .set('Authorization', `Bearer ${readOnlyToken}`)
      .set('client-request-id', 'my-script-run-42')
      .expect(403);
    expect(res.body).toMatchObject({
      error: {
        code: 'Forbidden',
        message: 'Caller lacks the JobControl.Start role',
        innerError: { 'client-request-id': 'my-script-run-42', 'request-id': res.headers['request-id'] },
      },
    });
    expect(res.headers['client-request-id']).toBe('my-script-run-42');
    expect(res.headers['sjg-attempt-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(starts(jobId)).toBe(0);
    expect((await attempts(jobId)).map((r) => r.outcome)).toEqual(['denied']);
  });

  it('answers no token and a wrong audience with Graph-shaped 401s', async () => {
    const none = await request(app.url).get(`/v1.0${jobs}`).expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
    const wrong = await env.issuer.sign({ audience: 'https://elsewhere.example' });
    const res = await request(app.url)
      .get(`/v1.0${jobs}`)
      .set('Authorization', `Bearer ${wrong}`)
      .expect(401);
    expect(res.body).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
  });

  it("passes Graph's own throttling through with its status and Retry-After", async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    sim.state.addFault({ operation: 'get', jobId, status: 429, code: 'TooManyRequests', retryAfter: 30 });
    const res = await request(app.url)
      .get(`/v1.0${jobs}/${jobId}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(429);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.body).toMatchObject({ error: { code: 'TooManyRequests' } });
  });

  it('refuses bad input clearly: bad ids, query options, an oversized or cyclic $batch, unknown paths', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const badId = await request(app.url)
      .get('/v1.0/servicePrincipals/not-a-guid/synchronization/jobs')
      .set(auth);
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatchObject({
      code: 'BadRequest',
      message: 'servicePrincipalId must be a GUID',
    });
    const select = await request(app.url).get(`/v1.0${jobs}?$select=id`).set(auth);
    expect(select.status).toBe(400);
    expect(select.body.error.message).toMatch(/\$select/);
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: jobs }));
    const big = await request(app.url).post('/v1.0/$batch').set(auth).send({ requests: many });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toMatch(/maximum of 20/);
    const cyclic = await request(app.url)
      .post('/v1.0/$batch')
      .set(auth)
      .send({
        requests: [
          { id: 'a', method: 'GET', url: jobs, dependsOn: ['b'] },
          { id: 'b', method: 'GET', url: jobs, dependsOn: ['a'] },
        ],
      });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error.message).toMatch(/cycle/);
    const users = await request(app.url).get('/v1.0/users').set(auth);
    expect(users.status).toBe(400);
    expect(users.body.error.code).toBe('NotSupportedByGuard');
    const dry = await request(app.url).post(`/v1.0${jobs}/${jobId}/start`).set(auth).send({ dryRun: true });
    expect(dry.status).toBe(400);
    expect(starts(jobId)).toBe(0);
  });

  it("answers unreadable bodies in Graph's envelope too (malformed JSON, not JSON), with no attempt", async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const malformed = await request(app.url)
      .post('/v1.0/$batch')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{"requests": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { code: 'BadRequest', innerError: { 'request-id': expect.any(String) } },
    });
    const text = await request(app.url)
      .post(`/beta${jobs}/${jobId}/start`)
      .set(auth)
      .set('Content-Type', 'text/plain')
      .send('start please');
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ error: { code: 'BadRequest' } });
    expect(await attempts(jobId)).toEqual([]);
    // /v1 keeps its own problem shape.
    const v1 = await request(app.url)
      .post(`/v1${jobs}/${jobId}/start`)
      .set(auth)
      .set('Content-Type', 'text/plain')
      .send('x');
    expect(v1.body).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('is in the OpenAPI document: every door path under both prefixes, every refusal code', async () => {
    const doc = (await request(app.url).get('/docs-json').expect(200)).body as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
    };
    for (const prefix of ['/v1.0', '/beta']) {
      for (const suffix of [
        '/$batch',
        '',
        '/{jobId}',
        '/{jobId}/start',
        '/{jobId}/pause',
        '/{jobId}/restart',
      ]) {
        const path =
          suffix === '/$batch'
            ? `${prefix}/$batch`
            : `${prefix}/servicePrincipals/{spId}/synchronization/jobs${suffix}`;
        expect(doc.paths).toHaveProperty([path]);
      }
    }
    const codes = doc.components.schemas.GraphErrorBodyDto?.properties?.code?.enum ?? [];
    expect(codes).toEqual(expect.arrayContaining(Object.keys(DOOR_ERRORS)));
    expect(codes).toEqual(
      expect.arrayContaining([
        'JobNotStartable',
        'JobInCooldown',
        'JobStartInProgress',
        'JobRateLimited',
        'JobOnHold',
        'ApprovalRequired',
        'Forbidden',
      ]),
    );
  });
});
