import request from 'supertest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sortKeysDeep } from '../../apps/api/src/http/openapi';
import { type TestApp, type TestEnv, startApp, startTestEnv } from '../support/harness';

const COMMITTED = join(__dirname, '..', '..', 'apps', 'api', 'openapi.json');

/** The committed OpenAPI document cannot drift from the code: regenerate it with `npm run openapi`. */
describe('OpenAPI document', () => {
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

  it('GET /docs-json equals the committed apps/api/openapi.json (run `npm run openapi` after changing a route or DTO)', async () => {
    const served = (await request(app.url).get('/docs-json').expect(200)).body as unknown;
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as unknown;
    expect(sortKeysDeep(served)).toEqual(committed);
  });

  it('is stored in its stable form: sorted keys, two-space indent, final newline', () => {
    const text = readFileSync(COMMITTED, 'utf8');
    expect(text).toBe(`${JSON.stringify(sortKeysDeep(JSON.parse(text)), null, 2)}\n`);
  });

  it('documents every route with its responses, the bearer scheme, and the problem shape', async () => {
    const doc = (await request(app.url).get('/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { headers?: object }>; security?: unknown }>
      >;
      components: { securitySchemes: Record<string, { scheme: string }>; schemas: Record<string, unknown> };
    };
    expect(doc.components.securitySchemes.bearer?.scheme).toBe('bearer');
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['AttemptDto', 'ProblemDto', 'StartRequestDto', 'JobDto', 'GrantDto']),
    );
    const startOp = doc.paths['/v1/servicePrincipals/{spId}/synchronization/jobs/{jobId}/start']?.post;
    expect(Object.keys(startOp?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '413', '429', '502', '503']),
    );
    expect(startOp?.responses['429']?.headers).toHaveProperty('Retry-After');
    expect(doc.paths['/metrics']?.get?.security).toEqual([]);
    expect(doc.paths['/health/ready']?.get?.security).toEqual([]);
    for (const path of ['/v1/grants', '/v1/grants/{grantId}']) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });
});
