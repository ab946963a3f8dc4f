import { mapGraphError, parseRetryAfter, type GraphFailure, type GraphOperation } from './graph-errors';

const body = (code: string, message = 'm', requestId = 'rid-body') => ({
  error: { code, message, innerError: { date: '2025-01-01T00:00:00', 'request-id': requestId } },
});

describe('mapGraphError', () => {
  it.each<[string, GraphOperation, GraphFailure, Record<string, unknown>]>([
    [
      '404',
      'getJob',
      { status: 404, body: body('Request_ResourceNotFound') },
      { kind: 'not_found', code: 'Request_ResourceNotFound' },
    ],
    [
      '403 read',
      'getJob',
      { status: 403, body: body('Authorization_RequestDenied') },
      { kind: 'forbidden', requiredPermission: 'Synchronization.Read.All' },
    ],
    [
      '403 start',
      'startJob',
      { status: 403, body: body('Authorization_RequestDenied') },
      { kind: 'forbidden', requiredPermission: 'Synchronization.ReadWrite.All' },
    ],
    [
      '401 UnknownError start',
      'startJob',
      { status: 401, body: body('UnknownError', '') },
      { kind: 'forbidden', requiredPermission: 'Synchronization.ReadWrite.All', code: 'UnknownError' },
    ],
    [
      '401 UnknownError list',
      'listJobs',
      { status: 401, body: body('UnknownError', '') },
      { kind: 'forbidden', requiredPermission: 'Synchronization.Read.All' },
    ],
    [
      '401 pause',
      'pauseJob',
      { status: 401 },
      { kind: 'forbidden', requiredPermission: 'Synchronization.ReadWrite.All' },
    ],
    [
      '401 InvalidAuthenticationToken',
      'getJob',
      { status: 401, body: body('InvalidAuthenticationToken') },
      { kind: 'token', notActedOn: true },
    ],
    [
      '429 seconds',
      'startJob',
      { status: 429, retryAfter: '2', body: body('TooManyRequests') },
      { kind: 'throttled', retryAfterSeconds: 2, notActedOn: true },
    ],
    [
      '429 fractional',
      'getJob',
      { status: 429, retryAfter: '2.128' },
      { kind: 'throttled', retryAfterSeconds: 2.128, notActedOn: true },
    ],
    [
      '429 without Retry-After',
      'startJob',
      { status: 429 },
      { kind: 'throttled', retryAfterSeconds: undefined, notActedOn: true },
    ],
    ['500', 'startJob', { status: 500 }, { kind: 'unavailable', notActedOn: undefined }],
    [
      '502',
      'startJob',
      { status: 502, retryAfter: '3' },
      { kind: 'unavailable', retryAfterSeconds: 3, notActedOn: undefined },
    ],
    [
      '503 + Retry-After',
      'startJob',
      { status: 503, retryAfter: '5' },
      { kind: 'unavailable', retryAfterSeconds: 5, notActedOn: true },
    ],
    ['503 without Retry-After', 'startJob', { status: 503 }, { kind: 'unavailable', notActedOn: undefined }],
    ['504', 'startJob', { status: 504 }, { kind: 'timeout', notActedOn: undefined }],
    [
      '400',
      'startJob',
      { status: 400, body: body('Request_BadRequest') },
      { kind: 'rejected', code: 'Request_BadRequest' },
    ],
    ['409', 'startJob', { status: 409 }, { kind: 'rejected' }],
    ['422', 'getJob', { status: 422 }, { kind: 'rejected' }],
    ['302', 'getJob', { status: 302 }, { kind: 'bad_response' }],
    [
      'reset after sending a start',
      'startJob',
      { transport: true, code: 'ECONNRESET', message: 'socket hang up', requestSent: true, timedOut: false },
      { kind: 'lost' },
    ],
    [
      'timeout after sending a start',
      'startJob',
      { transport: true, code: 'ETIMEDOUT', message: 't', requestSent: true, timedOut: true },
      { kind: 'lost' },
    ],
    [
      'timeout after sending a pause',
      'pauseJob',
      { transport: true, code: 'ETIMEDOUT', message: 't', requestSent: true, timedOut: true },
      { kind: 'lost' },
    ],
    [
      'reset on a read',
      'getJob',
      { transport: true, code: 'ECONNRESET', message: 'socket hang up', requestSent: true, timedOut: false },
      { kind: 'unavailable' },
    ],
    [
      'timeout on a read',
      'getJob',
      { transport: true, code: 'ETIMEDOUT', message: 't', requestSent: true, timedOut: true },
      { kind: 'timeout' },
    ],
    [
      'refused start',
      'startJob',
      { transport: true, code: 'ECONNREFUSED', message: 'refused', requestSent: false, timedOut: false },
      { kind: 'unavailable', code: 'ECONNREFUSED' },
    ],
    [
      'refused even if marked sent',
      'startJob',
      { transport: true, code: 'ECONNREFUSED', message: 'refused', requestSent: true, timedOut: false },
      { kind: 'unavailable' },
    ],
    [
      'connect timeout on start',
      'startJob',
      { transport: true, code: 'ECONNECT_TIMEOUT', message: 'c', requestSent: false, timedOut: true },
      { kind: 'timeout' },
    ],
    [
      'timeout before sending a start',
      'startJob',
      { transport: true, code: 'ETIMEDOUT', message: 't', requestSent: false, timedOut: true },
      { kind: 'timeout' },
    ],
  ])('%s', (_label, operation, failure, expected) => {
    const error = mapGraphError(operation, failure, ['rid-1']);
    const { kind, ...details } = expected;
    expect(error.kind).toBe(kind);
    for (const [key, value] of Object.entries(details)) {
      expect((error.details as Record<string, unknown>)[key]).toBe(value);
    }
  });

  it("keeps Graph's code, message and request id", () => {
    const error = mapGraphError(
      'startJob',
      { status: 403, body: body('Authorization_RequestDenied', 'Insufficient privileges', 'rid-x') },
      ['rid-1'],
    );
    expect(error.details.code).toBe('Authorization_RequestDenied');
    expect(error.message).toContain('Insufficient privileges');
    expect(error.message).toContain('Synchronization.ReadWrite.All');
    expect(error.requestIds).toEqual(['rid-1', 'rid-x']);
    expect(error.details.status).toBe(403);
  });

  it('does not duplicate a request id already collected', () => {
    const error = mapGraphError('getJob', { status: 404, requestId: 'rid-1' }, ['rid-1']);
    expect(error.requestIds).toEqual(['rid-1']);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each<[string | null | undefined, number | undefined]>([
    ['3', 3],
    ['2.128', 2.128],
    [' 10 ', 10],
    ['0', 0],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['soon', undefined],
    ['-5', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%p → %p', (input, expected) => {
    expect(parseRetryAfter(input, now)).toBe(expected);
  });
});
