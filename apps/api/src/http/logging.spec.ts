import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import pino, { type LoggerOptions } from 'pino';
import pinoHttp, { type Options } from 'pino-http';
import { loadConfig } from '../config/app-config';
import { loggerOptions, scrubText } from './logging';

/** A pino logger with exactly the options the app uses, writing into memory. */
function capture(): { logger: pino.Logger; lines: () => string[] } {
  const config = loadConfig({ LOG_LEVEL: 'debug', REPLICA_ID: 'unit' });
  const params = loggerOptions(config).pinoHttp as [LoggerOptions & Record<string, unknown>];
  const { level, formatters, hooks, base, serializers, onChild } = params[0];
  const out: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => out.push(...c.toString('utf8').split('\n').filter(Boolean)));
  const logger = pino({ level, formatters, hooks, base, serializers, onChild }, sink);
  return { logger, lines: () => out };
}

const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJvaWQiOiIxMTExMTExMS0xMTExIiwicm9sZXMiOltdfQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
const SECRET = 'graph-client-secret-Zq8~value';

describe('log redaction (the same pino options as the app)', () => {
  it('never prints Authorization headers, tokens, secrets or certificate material', () => {
    const { logger, lines } = capture();
    logger.info({ req: { headers: { authorization: `Bearer ${JWT}` } } }, 'request');
    logger.info({ headers: { Authorization: `Bearer ${JWT}` } }, 'outbound');
    logger.info({ err: { config: { headers: { Authorization: `Bearer ${JWT}` } } } }, 'axios error');
    logger.info({ accessToken: JWT, credential: { clientSecret: SECRET, token: JWT } }, 'token');
    logger.info({ graph: { access_token: JWT, certificate: '-----BEGIN CERTIFICATE-----MIIB' } }, 'cert');
    logger.info({ auth: { privateKey: '-----BEGIN PRIVATE KEY-----MIIE', password: SECRET } }, 'key');
    logger.info(`upstream said: Authorization: Bearer ${JWT}`);
    logger.warn(`a token ${JWT} leaked into a message`);
    logger.error({ context: 'http' }, `Error: bad header "bearer ${SECRET}"\n    at x (file.ts:1:1)`);
    const text = lines().join('\n');
    expect(lines()).toHaveLength(9);
    expect(text).not.toContain(JWT);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('BEGIN CERTIFICATE');
    expect(text).not.toContain('BEGIN PRIVATE KEY');
    expect(text).not.toMatch(/Bearer (?!\[redacted\])/i);
    expect(text).toContain('[redacted]');
  });

  it('redacts secret keys at any depth and in any case, in child bindings, without touching the logged objects', () => {
    const { logger, lines } = capture();
    const deep = { a: { b: { c: { d: { e: { ClientSecret: SECRET, kept: 'visible' } } } } } };
    const list = [{ headers: { AUTHORIZATION: `Bearer ${JWT}` } }];
    logger.info({ deep, list }, 'nested');
    logger.child({ session: { refresh_token: JWT } }).info('child');
    const text = lines().join('\n');
    expect(text).not.toContain(JWT);
    expect(text).not.toContain(SECRET);
    const first = JSON.parse(lines()[0] ?? '{}') as { deep: typeof deep; list: typeof list };
    expect(first.deep.a.b.c.d.e).toEqual({ ClientSecret: '[redacted]', kept: 'visible' });
    expect(first.list[0]?.headers.AUTHORIZATION).toBe('[redacted]');
    expect(deep.a.b.c.d.e.ClientSecret).toBe(SECRET);
    expect(list[0]?.headers.AUTHORIZATION).toBe(`Bearer ${JWT}`);
  });

  it('walks a cycle once: a self-referencing object is logged with its secret redacted', () => {
    const { logger, lines } = capture();
    // Ten keys that each point back at the object: walked without the cycle check, 10^9 visits.
    const node: Record<string, unknown> = { token: JWT, name: 'cyclic' };
    for (let i = 0; i < 10; i++) {
      node[`k${i}`] = node;
    }
    logger.info({ node }, 'cyclic');
    const text = lines().join('\n');
    expect(text).toContain('cyclic');
    expect(text).not.toContain(JWT);
    expect(node.token).toBe(JWT);
  });

  it('an error carrying a token in its own fields keeps its type, message and stack, and loses the token', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new TypeError('request failed'), {
      config: { headers: { Authorization: `Bearer ${JWT}` } },
    });
    logger.error({ err }, 'graph call failed');
    const line = JSON.parse(lines()[0] ?? '{}') as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({
      type: 'TypeError',
      message: 'request failed',
      config: { headers: { Authorization: '[redacted]' } },
    });
    expect(String(line.err.stack)).toContain('TypeError: request failed');
    expect(err.config.headers.Authorization).toBe(`Bearer ${JWT}`);
  });

  it('keeps ordinary fields and messages intact', () => {
    const { logger, lines } = capture();
    logger.debug({ operation: 'get', requestId: 'graph-req-1', clientRequestId: 'ours-1' }, 'graph exchange');
    const line = JSON.parse(lines()[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({
      msg: 'graph exchange',
      operation: 'get',
      requestId: 'graph-req-1',
      clientRequestId: 'ours-1',
      replica: 'unit',
    });
  });

  it.each([
    ['Authorization: Bearer abc.def-ghi', 'Authorization: Bearer [redacted]'],
    [`token ${JWT} end`, 'token [redacted] end'],
    ['no secrets here', 'no secrets here'],
  ])('scrubText(%j)', (input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });
});

describe('access log (pino-http with the app options)', () => {
  it('prints one line per request with no request or response headers, so no header can leak', () => {
    const out: string[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => out.push(...c.toString('utf8').split('\n').filter(Boolean)));
    const [options] = loggerOptions(loadConfig({ LOG_LEVEL: 'info', REPLICA_ID: 'unit' })).pinoHttp as [
      Options,
    ];
    const middleware = pinoHttp(options, sink);
    const req = Object.assign(new EventEmitter(), {
      method: 'POST',
      url: '/v1/servicePrincipals/sp/synchronization/jobs/job/start',
      headers: {
        authorization: `Bearer ${JWT}`,
        cookie: `session=${SECRET}`,
        'x-api-key': SECRET,
        'x-request-id': 'req-12345678',
      },
      socket: { remoteAddress: '127.0.0.1' },
    });
    const resHeaders: Record<string, string> = {};
    const res = Object.assign(new EventEmitter(), {
      statusCode: 409,
      headersSent: true,
      writableEnded: true,
      setHeader: (name: string, value: string) => (resHeaders[name] = value),
      getHeaders: () => ({ ...resHeaders, 'set-cookie': `session=${SECRET}` }),
    });
    middleware(req as never, res as never, () => undefined);
    res.emit('finish');
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 40,
      msg: 'request completed',
      replica: 'unit',
      req: { id: 'req-12345678', method: 'POST', url: req.url },
      res: { statusCode: 409 },
    });
    expect(Object.keys(line.req as object).sort()).toEqual(['id', 'method', 'url']);
    expect(Object.keys(line.res as object)).toEqual(['statusCode']);
    expect(out[0]).not.toContain(JWT);
    expect(out[0]).not.toContain(SECRET);
  });
});
