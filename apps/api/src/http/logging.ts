import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';

/** An inbound x-request-id is accepted only when well-formed; otherwise we make one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Paths pino must never print: credentials, tokens, secrets, certificate material. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.accessToken',
  '*.access_token',
  '*.token',
  '*.clientSecret',
  '*.client_secret',
  '*.password',
  '*.certificate',
  '*.privateKey',
];

export function genReqId(req: IncomingMessage, res: ServerResponse): string {
  const inbound = req.headers['x-request-id'];
  const id = typeof inbound === 'string' && REQUEST_ID.test(inbound) ? inbound : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

export function loggerOptions(config: AppConfig, destination?: NodeJS.WritableStream): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        genReqId,
        redact: { paths: REDACT_PATHS, censor: '[redacted]' },
        base: { replica: config.replicaId },
        customLogLevel: (_req, res, err) =>
          err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        serializers: {
          req: (req: { id: unknown; method: unknown; url: unknown }) => ({
            id: req.id,
            method: req.method,
            url: req.url,
          }),
          // Headers are never logged: not the request's (credentials), nor the response's (noise on every line).
          res: (res: { statusCode: unknown }) => ({ statusCode: res.statusCode }),
        },
      },
      ...(destination ? [destination] : []),
    ] as Params['pinoHttp'],
  };
}
