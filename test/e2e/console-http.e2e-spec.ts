import request from 'supertest';
import { type TestStack, startStack } from '../support/harness';

/**
 * The console's files as the API serves them under /console, over HTTP (the browser tests drive the console
 * itself): runtime configuration, static files with their cache headers, the SPA fallback and the refusals.
 */
describe('console files over HTTP', () => {
  let stack: TestStack;
  let url: string;

  beforeAll(async () => {
    stack = await startStack();
    url = stack.app.url;
  });

  afterAll(async () => {
    await stack.close();
  });

  it("answers config.json uncached, under the console's own Content-Security-Policy", async () => {
    const res = await request(url).get('/console/config.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-request-id']).toMatch(/.{8,}/);
    expect(typeof (res.body as { auth: { mode: unknown } }).auth.mode).toBe('string');
  });

  it('answers index.html for the root and for client-side routes, revalidated on every load', async () => {
    for (const path of ['/console', '/console/', '/console/jobs/6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14/x']) {
      const res = await request(url).get(path).set('Accept', 'text/html').expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.text).toContain('<div id="root">');
    }
  });

  it('serves the hashed assets immutable, and a missing one as a 404 problem', async () => {
    const index = await request(url).get('/console/').expect(200);
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    expect(asset).toBeDefined();
    const res = await request(url)
      .get(asset ?? '')
      .expect(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await request(url).get('/console/assets/nothing-here.js').expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, message: 'no such console file' });
  });

  it('answers a request that does not take HTML with a 404 problem, and never a file outside the build', async () => {
    const json = await request(url).get('/console/jobs').set('Accept', 'application/json').expect(404);
    expect(json.body).toMatchObject({ statusCode: 404, message: 'no such console file' });
    for (const path of ['/console/%2e%2e/%2e%2e/package.json', '/console/..%2f..%2fpackage.json']) {
      const res = await request(url).get(path).set('Accept', 'text/html');
      expect(res.text).not.toContain('"sync-job-guard"');
    }
  });
});
