import {
  decodeCursor,
  encodeCursor,
  parseSweepListQuery,
  parseWatchBody,
  parseWatchListQuery,
} from './recovery-query';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const ID = '11111111-1111-4111-8111-111111111111';

describe('recovery input parsing', () => {
  it('round-trips a cursor and refuses tampered ones', () => {
    const at = '2026-11-28T12:00:00.123Z';
    expect(decodeCursor(encodeCursor(at, ID))).toEqual({ at: new Date(at), id: ID });
    expect(decodeCursor('')).toBeNull();
    expect(decodeCursor('not base64!')).toBeNull();
    expect(decodeCursor(Buffer.from('[1,2]').toString('base64url'))).toBeNull();
    expect(
      decodeCursor(Buffer.from(JSON.stringify({ t: 'yesterday', i: ID })).toString('base64url')),
    ).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify({ t: at, i: 'x' })).toString('base64url'))).toBeNull();
  });

  it('parses the watch list query strictly', () => {
    expect(parseWatchListQuery({})).toEqual({ ok: true, value: { limit: 50, cursor: null } });
    expect(parseWatchListQuery({ limit: '500', state: 'needs_attention', servicePrincipalId: SP })).toEqual({
      ok: true,
      value: { limit: 500, cursor: null, state: 'needs_attention', servicePrincipalId: SP },
    });
    expect(parseWatchListQuery({ limit: '1.5' })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/limit/),
    });
    expect(parseWatchListQuery({ limit: ['1', '2'] })).toMatchObject({ ok: false });
    expect(parseWatchListQuery({ state: { a: 1 } })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/state/),
    });
    expect(parseWatchListQuery({ x: '1', y: '2' })).toMatchObject({
      ok: false,
      message: 'query parameter "x", "y" are not allowed',
    });
    expect(parseSweepListQuery({ servicePrincipalId: SP })).toMatchObject({ ok: false });
    expect(parseSweepListQuery({ limit: '1' })).toEqual({ ok: true, value: { limit: 1, cursor: null } });
  });

  it('parses a watch body: one job, or every job of a service principal', () => {
    expect(parseWatchBody({ servicePrincipalId: SP, jobId: 'scim.1' })).toEqual({
      ok: true,
      value: { kind: 'one', servicePrincipalId: SP, jobId: 'scim.1' },
    });
    expect(parseWatchBody({ servicePrincipalId: SP, allJobs: true })).toEqual({
      ok: true,
      value: { kind: 'all', servicePrincipalId: SP },
    });
    expect(parseWatchBody({ servicePrincipalId: SP, jobId: 'scim.1', allJobs: false })).toMatchObject({
      ok: true,
    });
    expect(parseWatchBody(undefined)).toMatchObject({ ok: false });
    expect(parseWatchBody({ servicePrincipalId: SP, jobId: 'a'.repeat(201) })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/jobId/),
    });
    expect(parseWatchBody({ servicePrincipalId: 42, jobId: 'scim.1' })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/servicePrincipalId/),
    });
  });
});
