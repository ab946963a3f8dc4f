import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { ErrorCode } from '@app/common';
import { type TestStack, startStack } from '../support/harness';
import { sql } from '../support/sql';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const jobsPath = `/v1/servicePrincipals/${SP}/synchronization/jobs`;

/**
 * Every error answer of /v1 is one problem body that carries a stable `code`, whoever refused: the auth guard,
 * the query and body checks, Nest's router, body parsing, a service, Graph, or the database being away.
 */
describe('error answers carry a code', () => {
  let stack: TestStack;
  let admin: string;
  let readOnly: string;

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.env.issuer.sign({ roles: ['JobControl.Admin'], oid: randomUUID(), name: 'Admin' });
    readOnly = await stack.env.issuer.sign({ roles: ['JobControl.Read'], oid: randomUUID() });
  });

  afterAll(async () => {
    await stack.close();
  });

  /** A request with a bearer token (the Admin's unless another is given). */
  function call(method: 'get' | 'post' | 'delete', path: string, token = admin): request.Test {
    return request(stack.app.url)[method](path).set('Authorization', `Bearer ${token}`);
  }

  /** The problem body: the status, its reason, the code, the request id of the answer, and no stack. */
  function expectProblem(res: request.Response, status: number, code: ErrorCode): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ statusCode: status, code, message: expect.any(String) });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    expect(JSON.stringify(res.body)).not.toMatch(/\.ts:\d+|at [A-Za-z]+ \(/);
  }

  const cases: [string, number, ErrorCode, () => request.Test][] = [
    ['no token', 401, ErrorCode.UNAUTHENTICATED, () => request(stack.app.url).get(jobsPath)],
    [
      'a token that does not verify',
      401,
      ErrorCode.UNAUTHENTICATED,
      () => request(stack.app.url).get(jobsPath).set('Authorization', 'Bearer not.a.token'),
    ],
    ['a valid token without the role', 403, ErrorCode.FORBIDDEN, () => call('get', '/v1/grants', readOnly)],
    ['an unknown route', 404, ErrorCode.ROUTE_NOT_FOUND, () => call('get', '/v1/nowhere')],
    [
      'a query parameter on a route that takes none',
      400,
      ErrorCode.UNKNOWN_QUERY_PARAMETER,
      () => call('get', `/v1/attempts/${randomUUID()}?verbose=1`),
    ],
    ['an out-of-range limit', 400, ErrorCode.INVALID_INPUT, () => call('get', '/v1/attempts?limit=0')],
    [
      'a cursor this service did not issue',
      400,
      ErrorCode.INVALID_CURSOR,
      () => call('get', '/v1/attempts?cursor=abc'),
    ],
    [
      'a body that is not valid JSON',
      400,
      ErrorCode.INVALID_INPUT,
      () => call('post', '/v1/grants').set('Content-Type', 'application/json').send('{"principalId":'),
    ],
    [
      'a body with an unknown property',
      400,
      ErrorCode.INVALID_INPUT,
      () => call('post', '/v1/grants').send({ principalId: randomUUID(), servicePrincipalId: SP, role: 'x' }),
    ],
    [
      'a body that is not JSON',
      415,
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      () => call('post', '/v1/grants').set('Content-Type', 'text/plain').send('principalId=x'),
    ],
    [
      'a body over the limit',
      413,
      ErrorCode.PAYLOAD_TOO_LARGE,
      () =>
        call('post', '/v1/grants')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ principalId: 'x'.repeat(20_000) })),
    ],
    [
      'an attempt that does not exist',
      404,
      ErrorCode.ATTEMPT_NOT_FOUND,
      () => call('get', `/v1/attempts/${randomUUID()}`),
    ],
    [
      'a grant that does not exist',
      404,
      ErrorCode.GRANT_NOT_FOUND,
      () => call('delete', `/v1/grants/${randomUUID()}`),
    ],
    [
      'a watch that does not exist',
      404,
      ErrorCode.WATCH_NOT_FOUND,
      () => call('delete', `/v1/recovery/watches/${randomUUID()}`),
    ],
    [
      'a job Graph does not have',
      404,
      ErrorCode.JOB_NOT_FOUND,
      () => call('get', `${jobsPath}/scim.missing`),
    ],
    [
      'a sweep while recovery is disabled',
      409,
      ErrorCode.RECOVERY_DISABLED,
      () => call('post', '/v1/recovery/sweeps'),
    ],
  ];

  it.each(cases)('%s → %i %s', async (_what, status, code, send) => {
    expectProblem(await send(), status, code);
  });

  it('Graph throttling a read: 429 GRAPH_THROTTLED with Retry-After (not an attempt)', async () => {
    const jobId = `scim.${randomUUID().replace(/-/g, '')}`;
    stack.sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    stack.sim.state.addFault({
      operation: 'get',
      jobId,
      status: 429,
      code: 'TooManyRequests',
      retryAfter: 30,
    });
    const res = await call('get', `${jobsPath}/${jobId}`);
    expectProblem(res, 429, ErrorCode.GRAPH_THROTTLED);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.body.retryAfterSeconds).toBe(30);
  });

  it('the database away: 503 AUDIT_UNAVAILABLE with the one message; readiness 503 SERVICE_UNAVAILABLE', async () => {
    const admin_ = stack.env.db.url.replace(/\/[^/]+$/, '/postgres');
    await sql(admin_, `ALTER DATABASE "${stack.env.db.name}" ALLOW_CONNECTIONS false`);
    await sql(admin_, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
      stack.env.db.name,
    ]);
    try {
      const grants = await call('get', '/v1/grants');
      expectProblem(grants, 503, ErrorCode.AUDIT_UNAVAILABLE);
      expect(grants.body.message).toBe(
        'The audit store is unavailable, so nothing was sent to Graph; try again later',
      );
      expect(JSON.stringify(grants.body)).not.toContain(stack.env.db.name);
      const attempts = await call('get', '/v1/attempts');
      expectProblem(attempts, 503, ErrorCode.AUDIT_UNAVAILABLE);
      expect(attempts.body.message).toBe(grants.body.message);
      const ready = await request(stack.app.url).get('/health/ready');
      expectProblem(ready, 503, ErrorCode.SERVICE_UNAVAILABLE);
    } finally {
      await sql(admin_, `ALTER DATABASE "${stack.env.db.name}" ALLOW_CONNECTIONS true`);
    }
  });
});
