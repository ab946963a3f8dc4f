import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { symbols, type Logger } from 'pino';
import type { AppConfig } from '../config/app-config';

/** An inbound x-request-id is accepted only when well-formed; otherwise we make one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Keys whose values are never printed, at any depth up to REDACT_DEPTH (compared lower-cased): credentials,
 * tokens, secrets, certificate material. One walk per log line over the logged object (and once over a child
 * logger's bindings) replaces them with `[redacted]`, copying what it changes and never touching the caller's
 * objects. The `req` and `res` keys are skipped: their serializers below keep no headers, only fixed fields.
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'idtoken',
  'id_token',
  'token',
  'clientsecret',
  'client_secret',
  'clientassertion',
  'client_assertion',
  'secret',
  'password',
  'certificate',
  'privatekey',
  'private_key',
]);

/** How deep the walk looks (the logged object is depth 0); deeper values are printed as they are. */
export const REDACT_DEPTH = 8;

const CENSOR = '[redacted]';

/** A shallow copy that prints the same: a plain object or array as such, anything else with its prototype. */
function shallowCopy(value: object): Record<string, unknown> {
  if (Array.isArray(value)) {
    return value.slice() as unknown as Record<string, unknown>;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    return { ...(value as Record<string, unknown>) };
  }
  return Object.create(proto as object, Object.getOwnPropertyDescriptors(value)) as Record<string, unknown>;
}

/** `value` with every secret key's value replaced; the same object when there was nothing to replace. */
export function redactSecrets(
  value: unknown,
  depth = 0,
  skip?: ReadonlySet<string>,
  ancestors: unknown[] = [],
): unknown {
  if (typeof value !== 'object' || value === null || depth > REDACT_DEPTH || ArrayBuffer.isView(value)) {
    return value;
  }
  // A cycle is cut where it closes, as pino prints it: the original object there would still hold its secrets
  // (the copy above it is a different object), and walking it would cost fan-out^depth.
  if (ancestors.includes(value)) {
    return '[Circular]';
  }
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  ancestors.push(source);
  for (const key of Object.keys(source)) {
    if (skip?.has(key)) {
      continue;
    }
    const v = source[key];
    const r =
      SECRET_KEYS.has(key.toLowerCase()) && v !== undefined
        ? CENSOR
        : redactSecrets(v, depth + 1, undefined, ancestors);
    if (r !== v) {
      copy ??= shallowCopy(source);
      copy[key] = r;
    }
  }
  ancestors.pop();
  return copy ?? value;
}

/** A secret key's name as it appears in serialized bindings (`"token":`), at any depth. */
const SECRET_KEY_IN_JSON = new RegExp(`"(?:${[...SECRET_KEYS].join('|')})":`, 'i');

/**
 * A child logger's bindings are serialized once, when it is made, past pino's formatters: when their text names a
 * secret key, they are serialized again with the secrets replaced.
 */
export function redactChildBindings(child: Logger): void {
  const holder = child as unknown as Record<symbol, unknown>;
  const text = holder[symbols.chindingsSym];
  if (typeof text !== 'string' || !SECRET_KEY_IN_JSON.test(text)) {
    return;
  }
  const redacted = redactSecrets(JSON.parse(`{${text.slice(1)}}`) as unknown);
  holder[symbols.chindingsSym] = `,${JSON.stringify(redacted).slice(1, -1)}`;
}

/** Top-level keys whose serializers print fixed fields only (pino-http's raw request and response). */
const SERIALIZED_SAFE = new Set(['req', 'res']);

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
        formatters: {
          log: (object: Record<string, unknown>) =>
            redactSecrets(object, 0, SERIALIZED_SAFE) as Record<string, unknown>,
          bindings: (bindings: Record<string, unknown>) => redactSecrets(bindings) as Record<string, unknown>,
        },
        onChild: redactChildBindings,
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
