import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Server } from 'node:http';
import { type RunningSimulator } from '../../apps/graph-simulator/src';
import { Lifecycle } from '../../apps/api/src/health/lifecycle';
import * as M from '../../apps/api/src/metrics/metric-names';
import { type TestApp, type TestEnv, type TestStack, startApp, startStack } from '../support/harness';
import { eventually, sql } from '../support/sql';

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';
const startPath = (jobId: string, sp = SP) =>
  `/v1/servicePrincipals/${sp}/synchronization/jobs/${jobId}/start`;
const newJobId = () => `scim.${randomUUID().replace(/-/g, '')}`;

interface LogLine {
  level: number;
  msg?: string;
  context?: string;
  req?: { id?: string };
  requestId?: string;
  clientRequestId?: string;
  [key: string]: unknown;
}

describe('operability: metrics, logs, input hardening, graceful shutdown', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  let stack: TestStack;
  let app: TestApp;
  let starter: string;

  beforeAll(async () => {
    stack = await startStack({
      LOG_LEVEL: 'debug',
      RATE_LIMIT_PER_JOB: '50',
      START_COOLDOWN_SECONDS: '0',
      BODY_LIMIT_BYTES: '1024',
      AUDIT_REFUSALS_PER_CALLER: '25',
    });
    ({ env, sim, app } = stack);
    starter = await env.issuer.sign({ roles: ['JobControl.Start', 'JobControl.Read'], name: 'Ops' });
  });

  afterAll(async () => {
    await stack.close();
  });

  const pausedJob = () => {
    const id = newJobId();
    sim.state.putJob({ servicePrincipalId: SP, id, status: 'Paused' });
    return id;
  };
  const start = (jobId: string, token = starter) =>
    request(app.url).post(startPath(jobId)).set('Authorization', `Bearer ${token}`);
  const parsedLogs = (): LogLine[] => app.logs.map((l) => JSON.parse(l) as LogLine);

  describe('logs', () => {
    it('carry the request id on every line of a request, with Graph request-ids beside ours, and leak no credential', async () => {
      const jobId = pausedJob();
      const traceId = `ops-trace-${randomUUID()}`;
      const expired = await env.issuer.sign({ roles: ['JobControl.Start'], expiresIn: -600 });
      const readOnly = await env.issuer.sign({ roles: ['JobControl.Read'] });
      const startOnly = await env.issuer.sign({ roles: ['JobControl.Start'] });
      sim.state.addFault({ operation: 'get', jobId, status: 429, retryAfter: 0, times: 1 });

      const res = await start(jobId).set('x-request-id', traceId).send({ reason: 'ops drill' }).expect(200);
      expect(res.headers['x-request-id']).toBe(traceId);
      expect(res.body.outcome).toBe('started');
      expect(res.body.graphRequestIds.length).toBeGreaterThanOrEqual(2);
      // Failures of every kind, each with a bearer token that must not appear in the logs.
      await start(pausedJob(), expired).expect(401);
      await start(pausedJob(), readOnly).expect(403);
      await start('..%2Fetc', starter).expect(400);
      await request(app.url)
        .get(`/v1/servicePrincipals/${SP}/synchronization/jobs`)
        .set('Authorization', `Bearer ${readOnly}`)
        .expect(200);
      await request(app.url).get('/v1/attempts').set('Authorization', `Bearer ${startOnly}`).expect(403);
      await start(pausedJob(), `${starter.slice(0, -4)}AAAA`).expect(401);

      const logs = await eventually(() => {
        const lines = parsedLogs();
        return Promise.resolve(
          lines.some((l) => l.req?.id === traceId && l.msg === 'request completed') ? lines : undefined,
        );
      });
      const ofRequest = logs.filter((l) => l.req?.id === traceId);
      const exchanges = ofRequest.filter((l) => l.context === 'graph' && l.msg === 'graph exchange');
      // Our id (sent to Graph as client-request-id) and Graph's request-id, on the same line.
      expect(exchanges.length).toBeGreaterThanOrEqual(1);
      for (const line of exchanges) {
        expect(line.clientRequestId).toBe(traceId);
        expect(res.body.graphRequestIds).toContain(line.requestId);
      }
      expect(ofRequest.some((l) => l.msg === 'graph exchange failed' && l.status === 429)).toBe(true);
      // Every line written by the Graph client (only ever inside a request here) carries a request id.
      const graphLines = logs.filter((l) => l.context === 'graph');
      expect(graphLines.length).toBeGreaterThanOrEqual(3);
      expect(graphLines.every((l) => typeof l.req?.id === 'string')).toBe(true);
      // Access log lines of failures carry their id too.
      const completed = logs.filter((l) => l.msg === 'request completed' || l.msg === 'request errored');
      expect(completed.length).toBeGreaterThanOrEqual(7);
      expect(completed.every((l) => typeof l.req?.id === 'string')).toBe(true);

      // The app acquired a Graph token with the client secret: neither appears anywhere.
      expect(sim.state.counters().tokensIssued).toBeGreaterThanOrEqual(1);
      const text = app.logs.join('\n');
      for (const secret of [
        starter,
        expired,
        readOnly,
        startOnly,
        sim.clientSecret,
        starter.split('.')[2] ?? 'x',
      ]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain('simtok.');
      expect(text).not.toMatch(/Bearer (?!\[redacted\])/i);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\./);
    });
  });

  describe('refusal flood', () => {
    it('answers every refusal of a flooding caller, stores AUDIT_REFUSALS_PER_CALLER of them, counts the rest', async () => {
      const oid = randomUUID();
      const flooder = await env.issuer.sign({ roles: ['JobControl.Read'], oid, name: 'Flood' });
      const jobId = pausedJob();
      for (let i = 0; i < 30; i++) {
        const res = await start(jobId, flooder).expect(403);
        expect(res.body).toMatchObject({ outcome: 'denied', actor: { id: oid } });
      }
      const [row] = await sql<{ n: number }>(
        env.db.url,
        'SELECT count(*)::int AS n FROM attempts WHERE actor_id = $1',
        [oid],
      );
      expect(row?.n).toBe(25);
      expect(sim.state.requests({ jobId })).toHaveLength(0);
      const text = (await request(app.url).get('/metrics').expect(200)).text;
      expect(text).toMatch(/sjg_refusals_unrecorded_total\{outcome="denied"\} 5\b/);
    });
  });

  describe('metrics', () => {
    it('exposes every family after some traffic', async () => {
      await start(pausedJob()).send({ dryRun: true }).expect(200);
      await start(pausedJob()).expect(200);
      await request(app.url).get(startPath(newJobId())).expect(404); // GET on a POST route: not found
      await start(pausedJob(), 'not-a-jwt').expect(401);
      const text = (await request(app.url).get('/metrics').expect(200)).text;
      for (const family of [
        M.ATTEMPTS,
        M.GUARD_DURATION,
        M.GRAPH_REQUESTS,
        M.GRAPH_DURATION,
        M.GRAPH_THROTTLED,
        M.GRAPH_TOKENS,
        M.RECOVERY_SWEEPS,
        M.RECOVERY_NEEDS_ATTENTION,
        M.AUTH_FAILURES,
        M.DB_POOL,
      ]) {
        expect(text).toContain(`# TYPE ${family} `);
      }
      expect(text).toMatch(/sjg_attempts_total\{outcome="started",trigger="api"\} \d+/);
      expect(text).toMatch(/sjg_attempts_total\{outcome="dry_run",trigger="api"\} \d+/);
      expect(text).toMatch(/sjg_guard_duration_seconds_bucket\{le="[^"]+",outcome="started"\} \d+/);
      expect(text).toMatch(/sjg_graph_requests_total\{operation="getJob",status="200"\} \d+/);
      expect(text).toMatch(/sjg_graph_requests_total\{operation="startJob",status="204"\} \d+/);
      expect(text).toMatch(/sjg_graph_request_duration_seconds_count\{operation="getJob"\} \d+/);
      expect(text).toMatch(/sjg_graph_throttled_total\{operation="getJob"\} [1-9]/);
      expect(text).toMatch(/sjg_graph_token_acquisitions_total\{result="ok"\} [1-9]/);
      expect(text).toMatch(/sjg_auth_failures_total\{reason="invalid"\} [1-9]/);
      expect(text).toMatch(/sjg_db_pool_connections\{state="total"\} [1-9]/);
      expect(text).toMatch(/sjg_db_pool_connections\{state="idle"\} \d+/);
      expect(text).toMatch(/sjg_db_pool_connections\{state="waiting"\} \d+/);
      expect(text).toMatch(/^sjg_recovery_jobs_needing_attention \d+/m);
    });
  });

  describe('input hardening', () => {
    it('answers 413 in the problem shape for a body over BODY_LIMIT_BYTES, without a Graph call', async () => {
      const before = sim.state.counters().requests;
      const res = await start(pausedJob())
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ reason: 'x'.repeat(2000) }))
        .expect(413);
      expect(res.body).toMatchObject({
        statusCode: 413,
        error: 'Payload Too Large',
        code: 'PAYLOAD_TOO_LARGE',
      });
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
      expect(sim.state.counters().requests).toBe(before);
    });

    it.each([
      ['text/plain', 'dryRun=false'],
      ['application/x-www-form-urlencoded', 'dryRun=false'],
      ['multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
    ])('refuses a %s body with 415 and starts nothing', async (type, body) => {
      const jobId = pausedJob();
      const res = await start(jobId).set('Content-Type', type).send(body).expect(415);
      expect(res.body.message).toMatch(/JSON/);
      expect(sim.state.requests({ jobId })).toHaveLength(0);
    });

    it('reads a gzip, deflate or br body as Graph does, the limit applying to the inflated bytes', async () => {
      // fetch sends the compressed bytes as they are (supertest would serialise a Buffer as JSON).
      const compressedStart = async (encoding: string, body: Buffer) => {
        const res = await fetch(`${app.url}${startPath(pausedJob())}`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${starter}`,
            'Content-Type': 'application/json',
            'Content-Encoding': encoding,
          },
          body: new Uint8Array(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const body = JSON.stringify({ dryRun: true, reason: 'compressed by an SDK' });
      for (const [encoding, packed] of [
        ['gzip', gzipSync(body)],
        ['deflate', deflateSync(body)],
        ['br', brotliCompressSync(body)],
      ] as const) {
        const res = await compressedStart(encoding, packed);
        expect(res).toMatchObject({
          status: 200,
          body: { outcome: 'dry_run', dryRun: true, reason: 'compressed by an SDK' },
        });
      }
      const bomb = gzipSync(JSON.stringify({ reason: 'x'.repeat(5000) }));
      expect(bomb.length).toBeLessThan(1024);
      expect(await compressedStart('gzip', bomb)).toMatchObject({
        status: 413,
        body: { code: 'PAYLOAD_TOO_LARGE' },
      });
      expect(await compressedStart('gzip', Buffer.from('not gzip at all'))).toMatchObject({
        status: 400,
        body: { code: 'INVALID_INPUT', message: 'request body is not valid gzip data' },
      });
      expect(await compressedStart('compress', Buffer.from(body))).toMatchObject({
        status: 415,
        body: { code: 'UNSUPPORTED_MEDIA_TYPE' },
      });
    });

    it('keeps serving after a corrupt compressed body it never reads or stopped reading (GET; past the limit)', async () => {
      const get = await fetch(`${app.url}/v1/attempts`, {
        method: 'GET',
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': '7' },
        body: undefined,
      });
      expect(get.status).toBe(401);
      const raw = await new Promise<string>((resolve, reject) => {
        // A GET with a body (fetch will not send one): written by hand over HTTP/1.1.
        const socket = connect(Number(new URL(app.url).port), '127.0.0.1', () => {
          socket.end(
            'GET /v1/attempts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
              'Content-Encoding: gzip\r\nContent-Length: 7\r\nConnection: close\r\n\r\ngarbage',
          );
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 401/);
      // Inflates past the 1,024-byte limit (413), then a corrupt tail the reader no longer listens to.
      const tooBig = Buffer.concat([
        gzipSync('{"reason":"' + 'x'.repeat(200_000) + '"}'),
        Buffer.from('corrupt tail'),
      ]);
      const big = await fetch(`${app.url}${startPath(pausedJob())}`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${starter}`,
          'Content-Type': 'application/json',
          'Content-Encoding': 'gzip',
        },
        body: new Uint8Array(tooBig),
      });
      expect(big.status).toBe(413);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await request(app.url).get('/health/live').expect(200);
    });

    it("answers a path that is not valid URL encoding in the problem shape (the door: Graph's envelope), in any case", async () => {
      const bad = await request(app.url)
        .get('/v1/attempts/%zz')
        .set('Authorization', `Bearer ${starter}`)
        .expect(400);
      expect(bad.body).toMatchObject({
        statusCode: 400,
        code: 'INVALID_INPUT',
        requestId: bad.headers['x-request-id'],
      });
      expect(JSON.stringify(bad.body)).not.toMatch(/FST_/);
      const door = await request(app.url)
        .post(`/v1.0/servicePrincipals/%zz/synchronization/jobs/x/start`)
        .set('Authorization', `Bearer ${starter}`)
        .expect(400);
      expect(door.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      const jobId = pausedJob();
      const upper = await request(app.url)
        .post(startPath(jobId).replace('/v1/servicePrincipals/', '/V1/ServicePrincipals/'))
        .set('Authorization', `Bearer ${starter}`)
        .expect(200);
      expect(upper.body).toMatchObject({ outcome: 'started', jobId });
    });

    it('answers 400 for malformed JSON and for a JSON scalar, and records a rejected attempt for a JSON array', async () => {
      const jobId = pausedJob();
      const bad = await start(jobId)
        .set('Content-Type', 'application/json')
        .send('{"dryRun": tru')
        .expect(400);
      expect(bad.body).toMatchObject({
        statusCode: 400,
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/not valid JSON/),
      });
      await start(jobId).set('Content-Type', 'application/json').send('"start"').expect(400);
      const arr = await start(jobId).set('Content-Type', 'application/json').send('[true]').expect(400);
      expect(arr.body).toMatchObject({ outcome: 'rejected', message: 'body must be a JSON object' });
      const rows = await sql(env.db.url, 'SELECT outcome FROM attempts WHERE job_id = $1', [jobId]);
      expect(rows).toEqual([{ outcome: 'rejected' }]);
      expect(sim.state.requests({ jobId })).toHaveLength(0);
    });

    it('sends helmet headers, no X-Powered-By, and no CORS headers unless CORS_ORIGINS is set', async () => {
      const res = await request(app.url)
        .get('/health/live')
        .set('Origin', 'https://evil.example')
        .expect(200);
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      const csp = Object.fromEntries(
        String(res.headers['content-security-policy'])
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values.join(' ')]),
      );
      expect(csp).toMatchObject({
        'default-src': "'self'",
        'object-src': "'none'",
        'script-src': "'self'",
        'frame-ancestors': "'self'",
        'base-uri': "'self'",
      });
      const preflight = await request(app.url)
        .options(startPath(newJobId()))
        .set('Origin', 'https://evil.example')
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('sets request and header timeouts on the HTTP server', () => {
      const server = app.app.getHttpServer() as Server;
      expect(server.requestTimeout).toBeGreaterThan(0);
      expect(server.headersTimeout).toBeGreaterThan(0);
    });
  });

  describe('with METRICS_TOKEN and CORS_ORIGINS', () => {
    let guarded: TestApp;
    beforeAll(async () => {
      guarded = await startApp({
        databaseUrl: env.db.url,
        issuer: env.issuer,
        graph: sim,
        env: {
          METRICS_TOKEN: 'scrape-secret-123',
          CORS_ORIGINS: 'https://portal.example',
          REPLICA_ID: 'guarded',
        },
      });
    });
    afterAll(() => guarded.close());

    it('protects /metrics with its own token and allows only the configured origin', async () => {
      const none = await request(guarded.url).get('/metrics').expect(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      await request(guarded.url).get('/metrics').set('Authorization', 'Bearer wrong').expect(403);
      await request(guarded.url).get('/metrics').set('Authorization', 'Bearer scrape-secret-123').expect(200);
      const allowed = await request(guarded.url).get('/health/live').set('Origin', 'https://portal.example');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://portal.example');
      const other = await request(guarded.url).get('/health/live').set('Origin', 'https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      expect(guarded.logs.join('\n')).not.toContain('scrape-secret-123');
    });
  });

  describe('graceful shutdown', () => {
    it('turns readiness 503 at once, lets an in-flight start finish and finalise its row, then stops', async () => {
      const closing = await startApp({
        databaseUrl: env.db.url,
        issuer: env.issuer,
        graph: sim,
        env: { REPLICA_ID: 'closing', START_COOLDOWN_SECONDS: '0' },
      });
      const jobId = pausedJob();
      sim.state.addFault({ operation: 'start', jobId, action: 'delay', latencyMs: 800 });
      const inFlight = request(closing.url)
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${starter}`)
        .send({ reason: 'shutdown drill' })
        .then((r) => r);
      // Wait until the start is on its way to Graph.
      await eventually(() =>
        Promise.resolve(sim.state.requests({ operation: 'start', jobId }).length > 0 ? true : undefined),
      );
      const lifecycle = closing.app.get(Lifecycle);
      const closed = closing.close();
      await eventually(() => Promise.resolve(lifecycle.shuttingDown ? true : undefined));
      const res = await inFlight;
      await closed;
      expect(res.status).toBe(200);
      expect(res.body.outcome).toBe('started');
      const rows = await sql<{ outcome: string; finished_at: Date | null }>(
        env.db.url,
        'SELECT outcome, finished_at FROM attempts WHERE job_id = $1',
        [jobId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.outcome).toBe('started');
      expect(rows[0]?.finished_at).not.toBeNull();
      // The listener is gone: new connections are refused.
      await expect(request(closing.url).get('/health/live')).rejects.toThrow();
    });
  });
});
