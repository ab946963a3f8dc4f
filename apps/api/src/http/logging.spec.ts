import { PassThrough } from 'node:stream';
import pino, { type LoggerOptions } from 'pino';
import { loadConfig } from '../config/app-config';
import { loggerOptions, scrubText } from './logging';

/** A pino logger with exactly the options the app uses, writing into memory. */
function capture(): { logger: pino.Logger; lines: () => string[] } {
  const config = loadConfig({ LOG_LEVEL: 'debug', REPLICA_ID: 'unit' });
  const params = loggerOptions(config).pinoHttp as [LoggerOptions & Record<string, unknown>];
  const { level, redact, hooks, base, serializers } = params[0];
  const out: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => out.push(...c.toString('utf8').split('\n').filter(Boolean)));
  const logger = pino({ level, redact, hooks, base, serializers }, sink);
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
