import { type ArgumentsHost, HttpException, NotFoundException } from '@nestjs/common';
import { DomainError, ErrorCode } from '@app/common';
import { AuditUnavailableError } from '../jobs/guard.errors';
import { AUDIT_UNAVAILABLE_BEFORE } from '../jobs/guard-policy';
import { ErrorsFilter, toDomainError } from './errors.filter';
import type { HttpReply, HttpRequest } from './http';

/** The parts of Fastify's request and reply the filter uses, recording what was written. */
function exchange(path = '/v1/grants') {
  const headers: Record<string, string> = {};
  const sent: { status?: number; body?: unknown } = {};
  const req = { url: `${path}?x=1`, id: 'req-12345678' } as unknown as HttpRequest;
  const res = {
    sent: false,
    raw: { headersSent: false },
    header(k: string, v: string) {
      headers[k.toLowerCase()] = v;
      return this;
    },
    status(s: number) {
      sent.status = s;
      return this;
    },
    send(b: unknown) {
      sent.body = b;
      return this;
    },
  } as unknown as HttpReply;
  const host = {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ArgumentsHost;
  return { host, headers, sent };
}

describe('toDomainError', () => {
  it('keeps a DomainError as it is', () => {
    const e = new DomainError(ErrorCode.HOLD_NOT_FOUND, 'No hold x');
    expect(toDomainError(e)).toBe(e);
  });

  it("gives Nest's own exceptions the code of their status and keeps their message", () => {
    const e = toDomainError(new NotFoundException('Cannot GET /v1/nowhere'));
    expect([e.code, e.message]).toEqual([ErrorCode.ROUTE_NOT_FOUND, 'Cannot GET /v1/nowhere']);
    const joined = toDomainError(new HttpException({ message: ['a is wrong', 'b is wrong'] }, 400));
    expect([joined.code, joined.message]).toEqual([ErrorCode.INVALID_INPUT, 'a is wrong; b is wrong']);
  });

  it('answers a database failure as the audit store being unavailable, with the one message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const e = toDomainError(refused);
    expect(e).toBeInstanceOf(AuditUnavailableError);
    expect([e.code, e.message]).toEqual([ErrorCode.AUDIT_UNAVAILABLE, AUDIT_UNAVAILABLE_BEFORE]);
    expect(e.cause).toBe(refused);
  });

  it('answers anything else as INTERNAL with a generic message (the text stays in the log)', () => {
    const e = toDomainError(new TypeError("Cannot read properties of undefined (reading 'secret')"));
    expect([e.code, e.message]).toEqual([ErrorCode.INTERNAL, 'internal error']);
  });
});

describe('ErrorsFilter', () => {
  it('writes the problem body with the code, the status from the table and Retry-After from the details', () => {
    const { host, headers, sent } = exchange();
    new ErrorsFilter().catch(
      new DomainError(ErrorCode.GRAPH_THROTTLED, 'Graph throttled', { details: { retryAfterSeconds: 7.2 } }),
      host,
    );
    expect(sent).toEqual({
      status: 429,
      body: {
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'Graph throttled',
        requestId: 'req-12345678',
        code: 'GRAPH_THROTTLED',
        retryAfterSeconds: 7.2,
      },
    });
    expect(headers['retry-after']).toBe('8');
  });

  it('never lets details override the standard fields', () => {
    const { host, sent } = exchange();
    new ErrorsFilter().catch(
      new DomainError(ErrorCode.WATCH_NOT_FOUND, 'No watch', { details: { statusCode: 200, code: 'OK' } }),
      host,
    );
    expect(sent.body).toMatchObject({ statusCode: 404, code: 'WATCH_NOT_FOUND' });
  });

  it('answers 401 with WWW-Authenticate: Bearer', () => {
    const { host, headers, sent } = exchange();
    new ErrorsFilter().catch(new DomainError(ErrorCode.UNAUTHENTICATED, 'a bearer token is required'), host);
    expect(sent.status).toBe(401);
    expect(headers['www-authenticate']).toBe('Bearer');
  });
});
