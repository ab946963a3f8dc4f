import { DomainError, ErrorCode } from '@app/common';
import {
  parseAttemptId,
  parseExportQuery,
  parseInstant,
  parseListQuery,
  parseStatsQuery,
} from './attempt-query';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect([ErrorCode.INVALID_INPUT, ErrorCode.UNKNOWN_QUERY_PARAMETER]).toContain(
      (error as DomainError).code,
    );
    return (error as DomainError).message;
  }
  throw new Error('expected a 400');
}

describe('audit query parameters', () => {
  it('parses a full list query', () => {
    const q = parseListQuery({
      servicePrincipalId: '6F2D1C3A-1B2C-4D5E-8F90-123456789ABC',
      jobId: 'scim.abc',
      outcome: ['rate_limited', 'denied', 'denied'],
      actor: 'user-1',
      trigger: 'api',
      from: '2026-11-28',
      to: '2026-11-28T18:30:00.5+02:00',
      limit: '500',
      cursor: 'abc',
    });
    expect(q).toEqual({
      filter: {
        servicePrincipalId: '6f2d1c3a-1b2c-4d5e-8f90-123456789abc',
        jobId: 'scim.abc',
        outcomes: ['rate_limited', 'denied'],
        actorId: 'user-1',
        trigger: 'api',
        from: new Date('2026-11-28T00:00:00.000Z'),
        to: new Date('2026-11-28T16:30:00.500Z'),
      },
      limit: 500,
      cursor: 'abc',
    });
    expect(parseListQuery({})).toEqual({ filter: {}, limit: 50, cursor: null });
  });

  it.each([
    [{ limit: '0' }, /^limit must be an integer between 1 and 500/],
    [{ limit: '501' }, /^limit /],
    [{ limit: '-1' }, /^limit /],
    [{ limit: '1.5' }, /^limit /],
    [{ limit: ['1', '2'] }, /^limit must be given at most once/],
    [{ outcome: 'pendingx' }, /^outcome /],
    [{ outcome: [] }, /^outcome /],
    [{ outcome: { a: 'b' } }, /^outcome /],
    [{ trigger: 'manual' }, /^trigger /],
    [{ actor: 'a'.repeat(201) }, /^actor /],
    [{ actor: 'a\u0000b' }, /^actor /],
    [{ jobId: 'a/b' }, /^jobId /],
    [{ servicePrincipalId: '123' }, /^servicePrincipalId /],
    [{ from: '2026-11-28T10:00:00Z', to: '2026-11-28T09:59:59Z' }, /^from must not be after to/],
    [{ sort: 'asc' }, /query parameter "sort" is not allowed/],
  ])('refuses %j', (query, expected) => {
    expect(message(() => parseListQuery(query))).toMatch(expected);
  });

  it.each(['2026-11-28T10:00:00Z', '2026-11-28T10:00Z', '2026-11-28T10:00:00.123456+05:30', '2024-02-29'])(
    'accepts the instant %s',
    (v) => {
      expect(Number.isNaN(parseInstant(v, 'from').getTime())).toBe(false);
    },
  );

  it.each([
    '2026-11-28T10:00:00',
    '2025-02-29',
    '2026-11-28 10:00:00Z',
    '1732800000',
    'today',
    '2026-11-28T24:00:00Z',
  ])('refuses the instant %s', (v) => {
    expect(message(() => parseInstant(v, 'to'))).toMatch(/^to must be an ISO 8601/);
  });

  it('parses stats and export queries strictly', () => {
    expect(parseStatsQuery({ groupBy: 'actor', limit: '3' })).toEqual({
      filter: {},
      groupBy: 'actor',
      limit: 3,
    });
    expect(parseStatsQuery({})).toEqual({ filter: {}, groupBy: null, limit: 20 });
    expect(message(() => parseStatsQuery({ limit: '3' }))).toMatch(/^limit applies only with groupBy/);
    expect(message(() => parseStatsQuery({ groupBy: 'hour' }))).toMatch(/^groupBy /);
    expect(parseExportQuery({})).toEqual({ filter: {}, format: 'ndjson' });
    expect(parseExportQuery({ format: 'csv', jobId: 'j' })).toEqual({
      filter: { jobId: 'j' },
      format: 'csv',
    });
    expect(message(() => parseExportQuery({ format: 'xlsx' }))).toMatch(/^format /);
    expect(message(() => parseExportQuery({ cursor: 'x' }))).toMatch(/"cursor" is not allowed/);
  });

  it('validates attempt ids', () => {
    expect(parseAttemptId('6F2D1C3A-1B2C-4D5E-8F90-123456789ABC')).toBe(
      '6f2d1c3a-1b2c-4d5e-8f90-123456789abc',
    );
    expect(message(() => parseAttemptId('stats'))).toMatch(/^attemptId must be a UUID/);
  });
});
