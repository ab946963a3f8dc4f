import request from 'supertest';
import { createPublicKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { type RunningSimulator, startGraphSimulator } from '../../apps/graph-simulator/src';
import { type DevIssuer, startDevIssuer } from '../../apps/api/src/dev/dev-issuer';
import { type TestApp, type TestEnv, startApp, startTestEnv } from '../support/harness';
import { sql } from '../support/sql';

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';
const startPath = (jobId: string, sp = SP) =>
  `/v1/servicePrincipals/${sp}/synchronization/jobs/${jobId}/start`;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Attacks on authentication and input (DESIGN sections 2 and 3). For each: the documented status, nothing sent
 * to Graph, and for 401s no attempt row and `WWW-Authenticate: Bearer`.
 */
describe('security: tokens and hostile input', () => {
  let env: TestEnv;
  let sim: RunningSimulator;
  let app: TestApp;
  let stranger: DevIssuer;
  let jobId: string;

  beforeAll(async () => {
    env = await startTestEnv();
    stranger = await startDevIssuer();
    sim = await startGraphSimulator({ port: 0, seed: 'empty' });
    app = await startApp({
      databaseUrl: env.db.url,
      issuer: env.issuer,
      graph: sim,
      env: { BODY_LIMIT_BYTES: '2048', AUTH_CLOCK_TOLERANCE_SECONDS: '60' },
    });
  });

  afterAll(async () => {
    await app.close();
    await sim.close();
    await stranger.close();
    await env.close();
  });

  beforeEach(() => {
    jobId = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
  });

  const graphRequests = () => sim.state.counters().requests;
  const rowsOf = (id: string) => sql(env.db.url, 'SELECT outcome FROM attempts WHERE job_id = $1', [id]);

  /** A valid-looking claim set of our issuer, for hand-made tokens. */
  const claims = () => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: env.issuer.issuer,
      aud: env.issuer.audience,
      oid: randomUUID(),
      roles: ['JobControl.Admin'],
      iat: now,
      exp: now + 3600,
    };
  };
  const jwks = async () =>
    ((await (await fetch(env.issuer.jwksUri)).json()) as { keys: Array<Record<string, string>> }).keys;

  const badTokens: Array<[string, () => Promise<string>, RegExp]> = [
    ['expired (beyond the clock tolerance)', () => env.issuer.sign({ expiresIn: -600 }), /expired/],
    ['not yet valid (nbf 10 minutes ahead)', () => env.issuer.sign({ notBefore: 600 }), /"nbf"/],
    [
      'wrong issuer',
      () => env.issuer.sign({ issuer: 'https://login.microsoftonline.com/evil/v2.0' }),
      /"iss"/,
    ],
    ['wrong audience', () => env.issuer.sign({ audience: 'api://someone-else' }), /"aud"/],
    [
      'alg none (unsigned)',
      () => Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`),
      /not valid|algorithm/,
    ],
    [
      'HS256 signed with the RSA public key (PEM) as HMAC secret',
      async () => {
        const [jwk] = await jwks();
        const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        });
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: jwk?.kid })
          .sign(new TextEncoder().encode(String(pem)));
      },
      /algorithm not allowed/,
    ],
    [
      'HS256 signed with the JWK JSON as HMAC secret',
      async () => {
        const [jwk] = await jwks();
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: jwk?.kid })
          .sign(new TextEncoder().encode(JSON.stringify(jwk)));
      },
      /algorithm not allowed/,
    ],
    [
      'forged signature (one byte changed)',
      async () => {
        const [h, p, s = ''] = (await env.issuer.sign()).split('.');
        const i = Math.floor(s.length / 2);
        return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
      },
      /signature/,
    ],
    [
      'forged payload (roles escalated, original signature)',
      async () => {
        const [h, , s] = (await env.issuer.sign({ roles: [] })).split('.');
        return `${h}.${b64(claims())}.${s}`;
      },
      /signature/,
    ],
    [
      'unknown kid (a key that is not in our JWKS)',
      () => stranger.sign({ issuer: env.issuer.issuer, audience: env.issuer.audience }),
      /unknown key/,
    ],
    ['no oid or sub claim', () => env.issuer.sign({ extra: { oid: undefined } }), /oid/],
    ['not a JWT at all', () => Promise.resolve('definitely-not-a-jwt'), /not valid/],
  ];

  it.each(badTokens)(
    '%s → 401 with WWW-Authenticate: Bearer, no attempt row, no Graph call',
    async (_name, make, message) => {
      const token = await make();
      const before = graphRequests();
      const res = await request(app.url)
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`)
        .send({ reason: 'attack' })
        .expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toMatchObject({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'UNAUTHENTICATED',
        message: expect.stringMatching(message),
      });
      expect(graphRequests()).toBe(before);
      expect(await rowsOf(jobId)).toEqual([]);
    },
  );

  it.each([
    ['no Authorization header', undefined],
    ['Basic credentials', 'Basic YWRtaW46YWRtaW4='],
    ['Bearer with nothing', 'Bearer '],
    ['a token with spaces', 'Bearer abc def'],
  ])('%s → 401', async (_name, header) => {
    const before = graphRequests();
    const r = request(app.url).post(startPath(jobId));
    const res = await (header === undefined ? r : r.set('Authorization', header)).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(graphRequests()).toBe(before);
  });

  it('ignores a token in the query string (only the Authorization header counts)', async () => {
    const token = await env.issuer.sign();
    const res = await request(app.url)
      .post(`${startPath(jobId)}?access_token=${token}`)
      .expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('a valid token without roles: the start is a denied attempt (403), reads are 403 problems', async () => {
    const token = await env.issuer.sign({ roles: [], name: 'Nobody' });
    const before = graphRequests();
    const res = await request(app.url)
      .post(startPath(jobId))
      .set('Authorization', `Bearer ${token}`)
      .expect(403);
    expect(res.body).toMatchObject({ outcome: 'denied', actor: { name: 'Nobody' } });
    expect(await rowsOf(jobId)).toEqual([{ outcome: 'denied' }]);
    await request(app.url)
      .get(`/v1/servicePrincipals/${SP}/synchronization/jobs`)
      .set('Authorization', `Bearer ${token}`)
      .expect(403);
    expect(graphRequests()).toBe(before);
  });

  it('a Start-only caller cannot read the audit, the jobs or the grants (403)', async () => {
    const token = await env.issuer.sign({ roles: ['JobControl.Start'] });
    const auth = { Authorization: `Bearer ${token}` };
    const before = graphRequests();
    expect((await request(app.url).get('/v1/attempts').set(auth).expect(403)).body.message).toMatch(
      /JobControl.Read/,
    );
    await request(app.url).get(`/v1/servicePrincipals/${SP}/synchronization/jobs`).set(auth).expect(403);
    await request(app.url)
      .get(`/v1/servicePrincipals/${SP}/synchronization/jobs/${jobId}`)
      .set(auth)
      .expect(403);
    await request(app.url).get('/v1/grants').set(auth).expect(403);
    expect(graphRequests()).toBe(before);
  });

  describe('hostile ids (a valid Start caller)', () => {
    let token: string;
    beforeAll(async () => {
      token = await env.issuer.sign({ roles: ['JobControl.Start'], oid: randomUUID() });
    });

    it.each([
      ['encoded ../ traversal in jobId', '..%2F..%2Fetc%2Fpasswd', SP, /jobId/],
      ['%2e%2e as jobId', '%2e%2e', SP, /jobId/],
      ['encoded slashes inside a jobId', 'scim.x%2F..%2F..%2Fjobs', SP, /jobId/],
      ['encoded backslashes', 'scim%5C..%5Cx', SP, /jobId/],
      ['a NUL byte after a jobId', 'scim.x%00', SP, /jobId/],
      ['a NUL byte as jobId', '%00', SP, /jobId/],
      ['an encoded query ($batch) in jobId', 'scim.x%3F%24batch', SP, /jobId/],
      ['an encoded fragment in jobId', 'scim.x%23frag', SP, /jobId/],
      ['a right-to-left override in jobId', 'scim.%E2%80%AEx', SP, /jobId/],
      ['a 300-character jobId', `scim.${'a'.repeat(300)}`, SP, /jobId/],
      ['encoded ../ as spId', 'scim.ok', '..%2F..%2Fme', /servicePrincipalId/],
      ['a NUL byte after the spId GUID', 'scim.ok', `${SP}%00`, /servicePrincipalId/],
      ['an encoded /.. after the spId GUID', 'scim.ok', `${SP}%2F..`, /servicePrincipalId/],
      ['a 5000-character spId', 'scim.ok', 'x'.repeat(5000), /servicePrincipalId/],
    ])('%s → 400 rejected, stored escaped and cut, nothing sent to Graph', async (_name, job, sp, field) => {
      const before = graphRequests();
      const res = await request(app.url)
        .post(startPath(job, sp))
        .set('Authorization', `Bearer ${token}`)
        .expect(400);
      expect(res.body).toMatchObject({ outcome: 'rejected', message: expect.stringMatching(field) });
      expect(res.body.jobId).not.toContain('\u0000');
      expect(res.body.jobId.length).toBeLessThanOrEqual(200);
      expect(res.body.servicePrincipalId.length).toBeLessThanOrEqual(200);
      expect(graphRequests()).toBe(before);
      const row = await sql<{ job_id: string; outcome: string }>(
        env.db.url,
        'SELECT job_id, outcome FROM attempts WHERE id = $1',
        [res.body.attemptId],
      );
      expect(row).toEqual([{ job_id: res.body.jobId, outcome: 'rejected' }]);
    });

    it('refuses a __proto__ key in the body as an unknown property (400 rejected)', async () => {
      const res = await request(app.url)
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .send('{"__proto__": {"dryRun": true}, "constructor": {"prototype": {"x": 1}}}')
        .expect(400);
      expect(res.body).toMatchObject({ outcome: 'rejected' });
      expect(res.body.message).toMatch(/__proto__/);
      expect(({} as Record<string, unknown>).dryRun).toBeUndefined();
    });

    it('answers 413 for an oversized body and 400 for malformed JSON, in the problem shape, before any attempt', async () => {
      const before = graphRequests();
      const big = await request(app.url)
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ reason: 'x'.repeat(4096) }))
        .expect(413);
      expect(big.body).toMatchObject({
        statusCode: 413,
        error: 'Payload Too Large',
        code: 'PAYLOAD_TOO_LARGE',
      });
      const malformed = await request(app.url)
        .post(startPath(jobId))
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .send('{"reason": "unterminated')
        .expect(400);
      expect(malformed.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_INPUT' });
      expect(JSON.stringify(malformed.body)).not.toMatch(/at .*\.(ts|js)|SyntaxError/);
      expect(graphRequests()).toBe(before);
      expect(await rowsOf(jobId)).toEqual([]);
    });
  });

  describe('strict query parameters on every route', () => {
    const id = randomUUID();
    it.each([
      ['get', `/v1/servicePrincipals/${SP}/synchronization/jobs`],
      ['get', `/v1/servicePrincipals/${SP}/synchronization/jobs/scim.1`],
      ['get', `/v1/attempts/${id}`],
      ['delete', `/v1/grants/${id}`],
      ['post', '/v1/grants'],
      ['post', '/v1/recovery/watches'],
      ['delete', `/v1/recovery/watches/${id}`],
      ['get', '/metrics'],
      ['get', '/health/live'],
      ['get', '/health/ready'],
    ] as const)(
      '%s %s with an unknown query parameter: 400 naming it, nothing done',
      async (method, path) => {
        const token = await env.issuer.sign({ roles: ['JobControl.Admin'] });
        const before = graphRequests();
        const agent = request(app.url);
        const res = await agent[method](`${path}?force=true`)
          .set('Authorization', `Bearer ${token}`)
          .expect(400);
        expect(res.body).toMatchObject({
          statusCode: 400,
          error: 'Bad Request',
          code: 'UNKNOWN_QUERY_PARAMETER',
        });
        expect(res.body.message).toMatch(/query parameter "force" is not allowed/);
        expect(graphRequests()).toBe(before);
      },
    );

    it('still answers 401 before looking at the query of an unauthenticated request', async () => {
      await request(app.url).get(`/v1/attempts/${id}?force=true`).expect(401);
    });
  });
});
