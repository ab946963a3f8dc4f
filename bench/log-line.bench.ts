import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import pinoHttp, { type Options } from 'pino-http';
import { loadConfig } from '../apps/api/src/config/app-config';
import { loggerOptions } from '../apps/api/src/http/logging';

/**
 * CPU per request of the access log (pino-http with the app's options: one child logger per request, one
 * "request completed" line), by redaction setting (dev aid):
 *   node -r ./bench/swc-register.js bench/log-line.bench.ts [N]
 * Requests are plain EventEmitters shaped like node's (headers, method, url, statusCode); the lines go to a
 * stream that drops them, so the figure is pino's work alone (serializers, redaction, JSON), not the disk.
 */
const HEADERS = {
  host: '127.0.0.1:3000',
  authorization: `Bearer eyJhbGciOiJSUzI1NiJ9.${'x'.repeat(600)}.${'y'.repeat(340)}`,
  'content-type': 'application/json',
  'content-length': '0',
  connection: 'keep-alive',
  'user-agent': 'autocannon',
};

/** The redaction the app had before its key-name walk (pino's `redact` paths), for comparison. */
const PINO_REDACT_PATHS = [
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  // axios errors carry the request config (with the Graph token) when logged whole.
  '*.config.headers.Authorization',
  '*.config.headers.authorization',
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'accessToken',
  'access_token',
  'token',
  'clientSecret',
  'client_secret',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.id_token',
  '*.idToken',
  '*.token',
  '*.clientSecret',
  '*.client_secret',
  '*.clientAssertion',
  '*.client_assertion',
  '*.secret',
  '*.password',
  '*.certificate',
  '*.privateKey',
  '*.private_key',
];

class FakeResponse extends EventEmitter {
  statusCode = 409;
  headersSent = true;
  writableEnded = true;
  private readonly headers: Record<string, string> = {};
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  getHeaders(): Record<string, string> {
    return this.headers;
  }
}

function run(label: string, options: Options, n: number): string {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  const middleware = pinoHttp(options, sink);
  const once = (): void => {
    const req = Object.assign(new EventEmitter(), {
      method: 'POST',
      url: '/v1/servicePrincipals/8c1d6a4e-0d52-4c4f-9a57-3f3e7d2a1b90/synchronization/jobs/scim.0a1b2c3d4e5f60718293a4b5c6d7e8f9.0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9/start',
      headers: HEADERS,
      socket: { remoteAddress: '127.0.0.1', remotePort: 50000 },
    });
    const res = new FakeResponse();
    middleware(req as never, res as never, () => undefined);
    res.emit('finish');
  };
  for (let i = 0; i < 2_000; i++) {
    once(); // warm-up
  }
  bytes = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    once();
  }
  const cpu = process.cpuUsage(cpu0);
  return `| ${label} | ${n.toLocaleString('en-US')} | ${((cpu.user + cpu.system) / n).toFixed(1)} | ${Math.round(bytes / n)} |`;
}

function main(): void {
  const n = Number(process.argv[2] ?? 50_000);
  const config = loadConfig({ LOG_LEVEL: 'info', REPLICA_ID: 'bench' });
  const [base] = loggerOptions(config).pinoHttp as [Options];
  const variants: [string, Options][] = [
    ["the app's options (secret keys redacted in one walk)", base],
    [
      `pino redact paths instead (${PINO_REDACT_PATHS.length}, the previous setting)`,
      { ...base, formatters: {}, redact: { paths: PINO_REDACT_PATHS, censor: '[redacted]' } },
    ],
    ['no redaction at all (floor)', { ...base, formatters: {} }],
  ];
  const rows = ['| access log | requests | CPU µs per request | bytes per line |', '|---|---:|---:|---:|'];
  for (let round = 0; round < 2; round++) {
    for (const [label, options] of variants) {
      rows.push(run(label, options, n));
    }
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}

main();
