import request from 'supertest';
import { type TestApp, type TestEnv, startApp, startTestEnv } from '../support/harness';

describe('foundation over HTTP', () => {
  let env: TestEnv;
  let app: TestApp;

  beforeAll(async () => {
    env = await startTestEnv();
    app = await startApp({ databaseUrl: env.db.url, issuer: env.issuer });
  });

  afterAll(async () => {
    await app.close();
    await env.close();
  });

  it('answers liveness and readiness (database reachable, migrations applied)', async () => {
    await request(app.url).get('/health/live').expect(200);
    const ready = await request(app.url).get('/health/ready').expect(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.info.database.status).toBe('up');
  });

  it('refuses a request without a token with 401 and WWW-Authenticate: Bearer, in the problem shape', async () => {
    const res = await request(app.url)
      .get('/v1/servicePrincipals/6f2d1c3a-1b2c-4d5e-8f90-123456789abc/synchronization/jobs')
      .expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', code: 'UNAUTHENTICATED' });
    expect(res.body.message).toMatch(/bearer token/);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts/);
  });

  it('refuses a valid token without the Read role with 403', async () => {
    const token = await env.issuer.sign({ roles: ['JobControl.Start'] });
    const res = await request(app.url)
      .get('/v1/servicePrincipals/6f2d1c3a-1b2c-4d5e-8f90-123456789abc/synchronization/jobs')
      .set('Authorization', `Bearer ${token}`)
      .expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    expect(res.body.message).toMatch(/JobControl.Read/);
  });

  it('echoes a well-formed x-request-id and replaces a malformed one', async () => {
    const ok = await request(app.url).get('/health/live').set('x-request-id', 'abc-12345678');
    expect(ok.headers['x-request-id']).toBe('abc-12345678');
    const bad = await request(app.url).get('/health/live').set('x-request-id', 'bad id with spaces');
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the OpenAPI document', async () => {
    const res = await request(app.url).get('/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toContain(
      '/v1/servicePrincipals/{spId}/synchronization/jobs/{jobId}/start',
    );
  });
});
