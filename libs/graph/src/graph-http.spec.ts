/**
 * GraphHttp against small real HTTP servers: what the simulator does not do (compressed answers, an answer cut
 * off mid-body, absolute URLs, a base path) and what "sent" means when no answer comes.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { startGraphSimulator } from '../../../apps/graph-simulator/src';
import { GraphHttp, GraphHttpFailure, MAX_ANSWER_BYTES } from './graph-http';
import { createGraphAgents, type GraphAgents } from './timed-agent';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

describe('GraphHttp', () => {
  let server: http.Server;
  let origin: string;
  let handler: Handler;
  let agents: GraphAgents;
  let client: GraphHttp;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => handler(req, res, body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agents = createGraphAgents({ connectTimeoutMs: 1_000, maxSockets: 8 });
    client = new GraphHttp(`${origin}/v1.0/`, agents);
  });

  afterAll(async () => {
    agents.http.destroy();
    agents.https.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function failure(promise: Promise<unknown>): Promise<GraphHttpFailure> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof GraphHttpFailure) {
        return error;
      }
      throw error;
    }
    throw new Error('expected a GraphHttpFailure');
  }

  it('sends the method, headers and body under the base path and resolves any status with its text', async () => {
    let seen: { method?: string; url?: string; type?: string; id?: string; body?: string } = {};
    handler = (req, res, body) => {
      seen = {
        method: req.method,
        url: req.url,
        type: req.headers['content-type'],
        id: req.headers['client-request-id'] as string,
        body,
      };
      res.writeHead(409, { 'request-id': 'r-1', 'content-type': 'application/json' });
      res.end('{"error":{"code":"Conflict"}}');
    };
    const answer = await client.exchange({
      method: 'POST',
      url: '/servicePrincipals/a/synchronization/jobs/b/start',
      headers: { 'Content-Type': 'application/json', 'client-request-id': 'c-1' },
      body: '{"x":"é"}',
      timeoutMs: 2_000,
    });
    expect(seen).toEqual({
      method: 'POST',
      url: '/v1.0/servicePrincipals/a/synchronization/jobs/b/start',
      type: 'application/json',
      id: 'c-1',
      body: '{"x":"é"}',
    });
    expect(answer.status).toBe(409);
    expect(answer.headers['request-id']).toBe('r-1');
    expect(answer.text).toBe('{"error":{"code":"Conflict"}}');
  });

  it('refuses a compressed answer that would inflate past the answer limit, without inflating it all', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(MAX_ANSWER_BYTES + 1024));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    };
    const error = await failure(client.exchange({ method: 'GET', url: '/x', headers: {}, timeoutMs: 5_000 }));
    expect(error.code).toBe('ERR_BAD_ANSWER');
    expect(bomb.length).toBeLessThan(MAX_ANSWER_BYTES / 100);
  });

  it('follows an absolute URL (a nextLink) with its query, and never a redirect', async () => {
    const urls: string[] = [];
    handler = (req, res) => {
      urls.push(req.url ?? '');
      res.writeHead(302, { location: `${origin}/elsewhere` });
      res.end();
    };
    const answer = await client.exchange({
      method: 'GET',
      url: `${origin}/v1.0/servicePrincipals/a/synchronization/jobs?$skiptoken=x%2Fy`,
      headers: {},
      timeoutMs: 2_000,
    });
    expect(answer.status).toBe(302);
    expect(urls).toEqual(['/v1.0/servicePrincipals/a/synchronization/jobs?$skiptoken=x%2Fy']);
  });

  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('decodes a %s answer', async (encoding, compress) => {
    const json = JSON.stringify({ id: 'job', status: { code: 'Paused' }, pad: 'x'.repeat(5_000) });
    handler = (_req, res) => {
      res.writeHead(200, { 'content-encoding': encoding, 'content-type': 'application/json' });
      res.end(compress(Buffer.from(json)));
    };
    const answer = await client.exchange({ method: 'GET', url: '/x', headers: {}, timeoutMs: 2_000 });
    expect(answer.text).toBe(json);
  });

  it('an answer cut off mid-body is ECONNRESET after the request was sent', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('{"id":');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const f = await failure(
      client.exchange({ method: 'POST', url: '/start', headers: {}, body: '{}', timeoutMs: 2_000 }),
    );
    expect(f.code).toBe('ECONNRESET');
    expect(f.requestSent).toBe(true);
    expect(f.timedOut).toBe(false);
  });

  it('no answer within the timeout is ETIMEDOUT, sent, and the socket is dropped', async () => {
    const closed = new Promise<void>((resolve) => {
      handler = (req) => req.socket.once('close', () => resolve());
    });
    const started = Date.now();
    const f = await failure(
      client.exchange({ method: 'POST', url: '/start', headers: {}, body: '{}', timeoutMs: 150 }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(f).toMatchObject({ code: 'ETIMEDOUT', requestSent: true, timedOut: true });
    await closed;
  });

  it('a refused connection is ECONNREFUSED, not sent', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const refused = new GraphHttp(`http://127.0.0.1:${port}/v1.0`, agents);
    const f = await failure(
      refused.exchange({ method: 'POST', url: '/start', headers: {}, body: '{}', timeoutMs: 2_000 }),
    );
    expect(f).toMatchObject({ code: 'ECONNREFUSED', requestSent: false, timedOut: false });
  });

  it('speaks HTTPS through the agent that trusts the given CA, and refuses an untrusted certificate unsent', async () => {
    const sim = await startGraphSimulator({ preferHttps: true });
    const trusted = createGraphAgents({
      connectTimeoutMs: 1_000,
      maxSockets: 2,
      tlsCaCertificate: sim.tlsCaCertificate,
    });
    const untrusted = createGraphAgents({ connectTimeoutMs: 1_000, maxSockets: 2 });
    try {
      expect(sim.graphBaseUrl.startsWith('https://')).toBe(true);
      const answer = await new GraphHttp(sim.graphBaseUrl, trusted).exchange({
        method: 'GET',
        url: '/servicePrincipals',
        headers: {},
        timeoutMs: 2_000,
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.headers['request-id']).toEqual(expect.any(String));
      const f = await failure(
        new GraphHttp(sim.graphBaseUrl, untrusted).exchange({
          method: 'POST',
          url: '/start',
          headers: {},
          body: '{}',
          timeoutMs: 2_000,
        }),
      );
      expect(f.requestSent).toBe(false);
      expect(f.code).toMatch(/CERT|SELF_SIGNED/);
    } finally {
      for (const a of [trusted, untrusted]) {
        a.http.destroy();
        a.https.destroy();
      }
      await sim.close();
    }
  });
});
