import * as http from 'node:http';
import * as https from 'node:https';
import { DEMO_JOBS, DEMO_SERVICE_PRINCIPAL_ID } from './demo';
import { startGraphSimulator, type RunningSimulator } from './simulator';

const SP = DEMO_SERVICE_PRINCIPAL_ID;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  text: string;
}

describe('Graph simulator over HTTP', () => {
  let sim: RunningSimulator;
  let token = '';
  const agent = new http.Agent({ keepAlive: true });

  function call(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      form?: string;
      auth?: string | null;
      tls?: boolean;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Reply> {
    const base = opts.tls ? sim.authorityHost : sim.origin;
    const url = new URL(path, base);
    const payload =
      opts.form !== undefined ? opts.form : opts.body !== undefined ? JSON.stringify(opts.body) : undefined;
    const headers: Record<string, string> = { ...opts.headers };
    if (payload !== undefined) {
      headers['Content-Type'] =
        opts.form !== undefined ? 'application/x-www-form-urlencoded' : 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const auth = opts.auth === undefined ? token : opts.auth;
    if (auth) {
      headers.Authorization = `Bearer ${auth}`;
    }
    return new Promise((resolve, reject) => {
      const req = (opts.tls ? https : http).request(
        url,
        { method, headers, ...(opts.tls ? { ca: sim.tlsCaCertificate } : { agent }) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              body = text;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const tokenForm = (secret: string, tenant?: string) =>
    new URLSearchParams({
      client_id: sim.clientId,
      client_secret: secret,
      scope: `${sim.origin}/.default`,
      grant_type: 'client_credentials',
      ...(tenant ? {} : {}),
    }).toString();

  beforeAll(async () => {
    sim = await startGraphSimulator();
    const res = await call('POST', `/${sim.tenantId}/oauth2/v2.0/token`, {
      tls: true,
      form: tokenForm(sim.clientSecret),
    });
    token = (res.body as { access_token: string }).access_token;
  });
  afterAll(async () => {
    agent.destroy();
    await sim.close();
  });
  beforeEach(() => sim.reset('demo'));

  const jobPath = (job: string, sp = SP) => `/v1.0/servicePrincipals/${sp}/synchronization/jobs/${job}`;

  describe('token endpoint and discovery (HTTPS on the same port)', () => {
    it('serves the OpenID configuration over HTTPS', async () => {
      const res = await call('GET', `/${sim.tenantId}/v2.0/.well-known/openid-configuration`, { tls: true });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        token_endpoint: `${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`,
      });
    });

    it('issues tokens for the right client and refuses the rest, Entra-style', async () => {
      const ok = await call('POST', `/${sim.tenantId}/oauth2/v2.0/token`, {
        tls: true,
        form: tokenForm(sim.clientSecret),
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      const bad = await call('POST', `/${sim.tenantId}/oauth2/v2.0/token`, {
        tls: true,
        form: tokenForm('nope'),
      });
      expect(bad.status).toBe(401);
      expect(bad.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
      const tenant = await call('POST', `/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token`, {
        tls: true,
        form: tokenForm(sim.clientSecret),
      });
      expect(tenant.status).toBe(400);
      expect(sim.state.counters().tokenRequests).toBe(3);
    });
  });

  describe('Graph', () => {
    it('requires a token it issued: 401 InvalidAuthenticationToken with Graph error body', async () => {
      for (const auth of [null, 'forged']) {
        const res = await call('GET', jobPath(DEMO_JOBS.paused), { auth });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
        expect(res.headers['www-authenticate']).toContain('Bearer');
      }
      expect(sim.state.counters().unauthorized).toBe(2);
    });

    it('answers a job in Graph shape with request-id and echoed client-request-id', async () => {
      const res = await call('GET', jobPath(DEMO_JOBS.quarantined), {
        headers: { 'client-request-id': 'abc' },
      });
      expect(res.status).toBe(200);
      expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['client-request-id']).toBe('abc');
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.body).toMatchObject({
        '@odata.context': expect.stringContaining('/$entity'),
        id: DEMO_JOBS.quarantined,
        templateId: 'scim',
        schedule: { interval: 'PT40M', state: 'Active' },
        status: {
          code: 'Quarantine',
          steadyStateFirstAchievedTime: '0001-01-01T00:00:00Z',
          quarantine: { reason: 'EncounteredQuarantineException', seriesCount: 1 },
        },
      });
    });

    it('writes the empty-string quarantine object on the paused demo job, and camelCase where asked', async () => {
      const paused = await call('GET', jobPath(DEMO_JOBS.paused));
      expect(paused.body).toMatchObject({
        status: { code: 'Paused', quarantine: { reason: '', currentBegan: '' } },
      });
      const camel = await call('GET', jobPath(DEMO_JOBS.pausedCamelCase));
      expect(camel.body).toMatchObject({ status: { code: 'paused', quarantine: null } });
    });

    it('lists jobs with @odata.context', async () => {
      const res = await call('GET', `/v1.0/servicePrincipals/${SP}/synchronization/jobs`);
      const body = res.body as { '@odata.context': string; value: unknown[] };
      expect(body['@odata.context']).toContain(`servicePrincipals('${SP}')/synchronization/jobs`);
      expect(body.value).toHaveLength(Object.keys(DEMO_JOBS).length);
    });

    it('answers 404 for unknown jobs and service principals, 400 for bad ids and unknown segments', async () => {
      expect((await call('GET', jobPath('scim.nope'))).status).toBe(404);
      const sp = await call('GET', jobPath('x', '11111111-2222-3333-4444-555555555555'));
      expect(sp.status).toBe(404);
      expect(sp.body).toMatchObject({
        error: { code: 'Request_ResourceNotFound', innerError: { 'request-id': expect.any(String) } },
      });
      expect((await call('GET', jobPath('x', 'not-a-guid'))).status).toBe(400);
      expect((await call('GET', `/v1.0/servicePrincipals/${SP}/owners`)).status).toBe(400);
      expect((await call('GET', `${jobPath(DEMO_JOBS.paused)}/start`)).status).toBe(405);
    });

    it('models start and pause: Paused/Quarantine → Active; others count as harmful starts', async () => {
      expect((await call('POST', `${jobPath(DEMO_JOBS.paused)}/start`)).status).toBe(204);
      expect(sim.state.getJob(SP, DEMO_JOBS.paused)?.status).toBe('Active');
      expect((await call('POST', `${jobPath(DEMO_JOBS.quarantined)}/start`)).status).toBe(204);
      expect(sim.state.getJob(SP, DEMO_JOBS.quarantined)?.quarantine).toBeNull();
      expect((await call('POST', `${jobPath(DEMO_JOBS.active)}/start`)).status).toBe(204);
      expect((await call('POST', `${jobPath(DEMO_JOBS.notRun)}/start`)).status).toBe(204);
      expect((await call('POST', `${jobPath(DEMO_JOBS.active)}/pause`)).status).toBe(204);
      expect(sim.state.getJob(SP, DEMO_JOBS.active)?.status).toBe('Paused');
      const c = sim.state.counters();
      expect(c).toMatchObject({ starts: 4, harmfulStarts: 2, pauses: 1, startRequests: 4 });
      expect(sim.state.startsFor(SP, DEMO_JOBS.paused)).toBe(1);
      expect(c.harmfulStartsByJob[`${SP}/${DEMO_JOBS.active}`]).toBe(1);
    });

    it('relapses into quarantine after a start when configured, continuing the series', async () => {
      sim.state.updateJob(SP, DEMO_JOBS.quarantined, {
        relapse: { reason: 'EncounteredQuarantineException', afterMs: 0 },
      });
      await call('POST', `${jobPath(DEMO_JOBS.quarantined)}/start`);
      const res = await call('GET', jobPath(DEMO_JOBS.quarantined));
      expect(res.body).toMatchObject({ status: { code: 'Quarantine', quarantine: { seriesCount: 2 } } });
    });

    it('quarantines a job through the admin API', async () => {
      const res = await call('POST', `/__sim/jobs/${SP}/${DEMO_JOBS.active}/quarantine`, {
        body: { reason: 'TooManyDeletes' },
        auth: null,
      });
      expect(res.status).toBe(200);
      const job = await call('GET', jobPath(DEMO_JOBS.active));
      expect(job.body).toMatchObject({
        status: { code: 'Quarantine', quarantine: { reason: 'TooManyDeletes' } },
      });
    });
  });

  describe('$batch', () => {
    it('answers each request with its own status, out of order allowed', async () => {
      sim.state.batchOrder = 'reverse';
      const res = await call('POST', '/v1.0/$batch', {
        body: {
          requests: [
            {
              id: 'a',
              method: 'GET',
              url: `/servicePrincipals/${SP}/synchronization/jobs/${DEMO_JOBS.paused}`,
            },
            { id: 'b', method: 'GET', url: `servicePrincipals/${SP}/synchronization/jobs/scim.missing` },
            {
              id: 'c',
              method: 'POST',
              url: `/servicePrincipals/${SP}/synchronization/jobs/${DEMO_JOBS.paused}/start`,
            },
          ],
        },
      });
      expect(res.status).toBe(200);
      const responses = (res.body as { responses: { id: string; status: number }[] }).responses;
      expect(responses.map((r) => [r.id, r.status])).toEqual([
        ['c', 204],
        ['b', 404],
        ['a', 200],
      ]);
      expect(sim.state.counters()).toMatchObject({ batchRequests: 1, batchItems: 3, starts: 1, requests: 1 });
      sim.state.batchOrder = 'shuffle';
    });

    it('refuses more than 20 requests and duplicate ids (400)', async () => {
      const item = (id: string) => ({
        id,
        method: 'GET',
        url: `/servicePrincipals/${SP}/synchronization/jobs`,
      });
      const many = await call('POST', '/v1.0/$batch', {
        body: { requests: Array.from({ length: 21 }, (_, i) => item(String(i))) },
      });
      expect(many.status).toBe(400);
      const dup = await call('POST', '/v1.0/$batch', { body: { requests: [item('1'), item('1')] } });
      expect(dup.status).toBe(400);
    });

    it('throttles sub-requests with retry-after in their JSON headers', async () => {
      sim.state.setThrottle({ limit: 1, windowMs: 60_000 });
      const res = await call('POST', '/v1.0/$batch', {
        body: {
          requests: ['1', '2'].map((id) => ({
            id,
            method: 'GET',
            url: `/servicePrincipals/${SP}/synchronization/jobs/${DEMO_JOBS.paused}`,
          })),
        },
      });
      const responses = (
        res.body as { responses: { id: string; status: number; headers: Record<string, string> }[] }
      ).responses;
      const throttled = responses.find((r) => r.status === 429);
      expect(throttled?.headers['retry-after']).toMatch(/^\d+$/);
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    });
  });

  describe('faults, throttle, admin', () => {
    it('applies a fault a given number of times, with Retry-After and a Graph code', async () => {
      sim.state.addFault({ operation: 'get', jobId: DEMO_JOBS.paused, status: 503, retryAfter: 4, times: 1 });
      const first = await call('GET', jobPath(DEMO_JOBS.paused));
      expect(first.status).toBe(503);
      expect(first.headers['retry-after']).toBe('4');
      expect(first.body).toMatchObject({ error: { code: 'ServiceUnavailable' } });
      expect((await call('GET', jobPath(DEMO_JOBS.paused))).status).toBe(200);
      expect(sim.state.listFaults()).toHaveLength(0);
    });

    it('matches path globs and methods', async () => {
      sim.state.addFault({
        path: '/servicePrincipals/*/synchronization/jobs/*/start',
        status: 429,
        retryAfter: 1,
      });
      expect((await call('POST', `${jobPath(DEMO_JOBS.paused)}/start`)).status).toBe(429);
      expect((await call('POST', `${jobPath(DEMO_JOBS.paused)}/pause`)).status).toBe(204);
      expect(sim.state.counters().starts).toBe(0);
    });

    it('drops the connection before or after acting', async () => {
      sim.state.addFault({ operation: 'start', action: 'dropBefore', times: 1 });
      await expect(call('POST', `${jobPath(DEMO_JOBS.paused)}/start`)).rejects.toThrow();
      expect(sim.state.getJob(SP, DEMO_JOBS.paused)?.status).toBe('Paused');
      sim.state.addFault({ operation: 'start', action: 'dropAfter', times: 1 });
      await expect(call('POST', `${jobPath(DEMO_JOBS.paused)}/start`)).rejects.toThrow();
      expect(sim.state.getJob(SP, DEMO_JOBS.paused)?.status).toBe('Active');
      expect(sim.state.requests({ operation: 'start' }).map((e) => e.status)).toEqual(['dropped', 'dropped']);
    });

    it('throttles past the configured rate with Retry-After', async () => {
      sim.state.setThrottle({ limit: 3, windowMs: 10_000 });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await call('GET', jobPath(DEMO_JOBS.paused))).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(sim.state.counters().throttled).toBe(2);
    });

    it('exposes faults, counters, requests and reset over the admin API', async () => {
      const added = await call('POST', '/__sim/faults', {
        body: { operation: 'get', status: 500, times: 1 },
        auth: null,
      });
      expect(added.status).toBe(201);
      expect((await call('GET', jobPath(DEMO_JOBS.paused))).status).toBe(500);
      const counters = await call('GET', '/__sim/counters', { auth: null });
      expect(counters.body).toMatchObject({ requests: 1, gets: 1, faultsFired: 1 });
      const requests = await call('GET', '/__sim/requests', { auth: null });
      expect((requests.body as { items: { status: number }[] }).items.map((e) => e.status)).toEqual([500]);
      await call('POST', '/__sim/faults', { body: [{ operation: 'list', status: 503 }], auth: null });
      expect((await call('DELETE', '/__sim/faults', { auth: null })).status).toBe(200);
      expect(sim.state.listFaults()).toHaveLength(0);
      await call('POST', '/__sim/jobs', {
        body: { servicePrincipalId: SP, count: 5, status: 'Active', replace: true },
        auth: null,
      });
      expect(sim.state.listJobs(SP)).toHaveLength(5);
      expect((await call('POST', '/__sim/reset', { body: {}, auth: null })).status).toBe(200);
      expect(sim.state.listJobs(SP)).toHaveLength(Object.keys(DEMO_JOBS).length);
      expect(sim.state.counters().requests).toBe(0);
    });

    it('seeds 10 000 jobs and serves any of them', async () => {
      const ids = sim.state.seedJobs('aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', 10_000, 'Quarantine', {
        reason: 'EncounteredQuarantineException',
      });
      expect(ids).toHaveLength(10_000);
      const res = await call('GET', jobPath(ids[9_999] ?? '', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'));
      expect(res.body).toMatchObject({ status: { code: 'Quarantine' } });
    });

    it('adds latency to Graph answers', async () => {
      sim.state.latencyMs = 60;
      const started = Date.now();
      await call('GET', jobPath(DEMO_JOBS.paused));
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
      sim.state.latencyMs = 0;
    });
  });
  describe('pause, restart per scope, escrowsPruned and the quarantine clock', () => {
    const J = 'scim.0000000000000000000000000000restart';
    const restart = (body: unknown) => call('POST', `${jobPath(J)}/restart`, { body });
    const seed = (patch: Record<string, unknown>) =>
      sim.state.putJob({ servicePrincipalId: SP, id: J, ...patch });

    it('Escrows clears the escrowed objects and escrowsPruned, then the job runs', async () => {
      seed({ status: 'Paused', escrowsPruned: true, escrowCount: 120 });
      const before = await call('GET', jobPath(J));
      expect(before.body).toMatchObject({ status: { code: 'Paused', escrowsPruned: true } });
      expect((await restart({ criteria: { resetScope: 'Escrows' } })).status).toBe(204);
      const job = sim.state.getJob(SP, J);
      expect(job).toMatchObject({ status: 'Active', escrowsPruned: false, escrowCount: 0 });
      expect(job?.watermark).not.toBeNull();
      expect(job?.lastRestartScope).toEqual(['Escrows']);
    });

    it('Watermark clears the watermark only; a quarantine it does not clear stays', async () => {
      seed({
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException' },
        escrowCount: 3,
      });
      expect((await restart({ criteria: { resetScope: 'Watermark' } })).status).toBe(204);
      const job = sim.state.getJob(SP, J);
      expect(job).toMatchObject({ status: 'Quarantine', watermark: null, escrowCount: 3 });
    });

    it('QuarantineState lifts the quarantine and keeps the watermark', async () => {
      seed({ status: 'Quarantine', quarantine: { reason: 'EncounteredQuarantineException' } });
      expect((await restart({ criteria: { resetScope: 'QuarantineState' } })).status).toBe(204);
      const job = sim.state.getJob(SP, J);
      expect(job).toMatchObject({ status: 'Active', quarantine: null });
      expect(job?.watermark).not.toBeNull();
    });

    it('ForceDeletes pushes the held-back deletes through and lifts a TooManyDeletes quarantine', async () => {
      seed({ status: 'Quarantine', quarantine: { reason: 'TooManyDeletes' }, stagedDeletes: 800 });
      expect((await restart({ criteria: { resetScope: 'ForceDeletes' } })).status).toBe(204);
      expect(sim.state.getJob(SP, J)).toMatchObject({ status: 'Active', stagedDeletes: 0, quarantine: null });
    });

    it('Full clears everything; no criteria is the portal restart (QuarantineState, Watermark, Escrows)', async () => {
      seed({
        status: 'Quarantine',
        quarantine: { reason: 'TooManyDeletes' },
        stagedDeletes: 5,
        escrowCount: 9,
      });
      expect((await restart({ criteria: { resetScope: 'Full' } })).status).toBe(204);
      expect(sim.state.getJob(SP, J)).toMatchObject({
        status: 'Active',
        watermark: null,
        escrowCount: 0,
        stagedDeletes: 0,
        quarantine: null,
      });
      seed({
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException' },
        escrowCount: 9,
      });
      expect((await restart(undefined)).status).toBe(204);
      expect(sim.state.getJob(SP, J)).toMatchObject({ status: 'Active', watermark: null, escrowCount: 0 });
      expect(sim.state.counters()).toMatchObject({ restarts: 2, restartRequests: 2 });
    });

    it('refuses an unknown scope or a resetScope that is not a string, like Graph, without acting', async () => {
      seed({ status: 'Paused' });
      const unknown = await restart({ criteria: { resetScope: 'Watermark, Everything' } });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({ error: { code: 'BadRequest' } });
      expect((await restart({ criteria: { resetScope: ['Full'] } })).status).toBe(400);
      expect(sim.state.getJob(SP, J)?.status).toBe('Paused');
      expect(sim.state.counters()).toMatchObject({ restarts: 0, restartRequests: 2 });
    });

    it('injects faults on restart and pause like on start', async () => {
      seed({ status: 'Paused' });
      sim.state.addFault({ operation: 'restart', status: 429, retryAfter: 3, times: 1 });
      const throttled = await restart({ criteria: { resetScope: 'Escrows' } });
      expect(throttled.status).toBe(429);
      expect(throttled.headers['retry-after']).toBe('3');
      sim.state.addFault({ operation: 'pause', status: 503, times: 1 });
      expect((await call('POST', `${jobPath(J)}/pause`)).status).toBe(503);
      expect(sim.state.getJob(SP, J)?.status).toBe('Paused');
      expect(sim.state.counters()).toMatchObject({ restarts: 0, pauses: 0 });
      expect((await call('POST', `${jobPath(J)}/pause`)).status).toBe(204);
      expect(sim.state.getJob(SP, J)).toMatchObject({ status: 'Paused', scheduleState: 'Paused' });
    });

    it("writes the quarantine clock on Entra ID's cadence and disables a job 28 days into quarantine", async () => {
      const began = new Date(Date.now() - 3 * 24 * 3600 * 1000).toISOString();
      seed({
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException', seriesBegan: began, seriesCount: 3 },
      });
      const res = await call('GET', jobPath(J));
      const q = (res.body as { status: { quarantine: { seriesBegan: string; nextAttempt: string } } }).status
        .quarantine;
      expect(Date.parse(q.nextAttempt) - Date.parse(q.seriesBegan)).toBe(24 * 3600 * 1000);
      expect((res.body as { schedule: { state: string } }).schedule.state).toBe('Active');
      const old = new Date(Date.now() - 29 * 24 * 3600 * 1000).toISOString();
      seed({
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException', seriesBegan: old },
      });
      const disabled = await call('GET', jobPath(J));
      expect(disabled.body).toMatchObject({
        status: { code: 'Quarantine' },
        schedule: { state: 'Disabled' },
      });
    });
  });
});
