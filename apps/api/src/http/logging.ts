import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';

/** An inbound x-request-id is accepted only when well-formed; otherwise we make one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Paths pino must never print: credentials, tokens, secrets, certificate material. Each path costs every log
 * line (pino runs each `*.` path against every top-level key), so none is listed that cannot match: the `req`
 * and `res` serializers below keep no headers, which makes `req.headers.*` and `res.headers.*` unreachable.
 */
export const REDACT_PATHS = [
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

/** `Bearer <anything>` and JWT-shaped strings inside free text (messages, stacks) are masked as well. */
const SECRET_TEXT = /\b(Bearer\s+)[^\s"',;]+|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/gi;

export function scrubText(text: string): string {
  return text.replace(SECRET_TEXT, (_match, bearer: string | undefined) =>
    bearer ? `${bearer}[redacted]` : '[redacted]',
  );
}

/** The request's id: its well-formed x-request-id, or a new UUID. */
export function inboundRequestId(req: IncomingMessage): string {
  const inbound = req.headers['x-request-id'];
  return typeof inbound === 'string' && REQUEST_ID.test(inbound) ? inbound : randomUUID();
}

export function genReqId(req: IncomingMessage, res: ServerResponse): string {
  const id = inboundRequestId(req);
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
        hooks: {
          // Free-text arguments (messages, error stacks) may quote a header; mask tokens in them.
          logMethod(args: unknown[], method: (...a: unknown[]) => void) {
            for (let i = 0; i < args.length; i++) {
              const a = args[i];
              if (typeof a === 'string' && (a.includes('earer') || a.includes('eyJ'))) {
                args[i] = scrubText(a);
              }
            }
            method.apply(this, args);
          },
        },
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
