import { parseEventsQuery, parseGrantBody, parseGrantId, parseGrantQuery } from './grant-request';

const P = 'AAAAAAAA-1111-4111-8111-111111111111';
const SP = '6D3F8A52-1C4B-4E8A-9F27-3B5C0D9E7A14';

describe('parseGrantBody', () => {
  it('accepts two GUIDs and lower-cases them (the guard compares lower-case)', () => {
    expect(parseGrantBody({ principalId: P, servicePrincipalId: SP })).toEqual({
      ok: true,
      value: { principalId: P.toLowerCase(), servicePrincipalId: SP.toLowerCase() },
    });
  });

  it.each([
    [null, /JSON object/],
    [[P, SP], /JSON object/],
    ['x', /JSON object/],
    [{ principalId: P }, /servicePrincipalId must be a GUID/],
    [{ servicePrincipalId: SP }, /principalId must be a GUID/],
    [{ principalId: 'ada@contoso.com', servicePrincipalId: SP }, /principalId must be a GUID/],
    [{ principalId: P, servicePrincipalId: `${SP}/../x` }, /servicePrincipalId must be a GUID/],
    [{ principalId: P, servicePrincipalId: 42 }, /servicePrincipalId must be a GUID/],
    [{ principalId: P, servicePrincipalId: SP, role: 'x' }, /property "role" is not allowed/],
  ])('refuses %j naming the field', (body, message) => {
    const r = parseGrantBody(body);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(message);
  });
});

describe('parseGrantQuery', () => {
  it('accepts no filter or either filter', () => {
    expect(parseGrantQuery({})).toEqual({ ok: true, value: {} });
    expect(parseGrantQuery({ servicePrincipalId: SP })).toEqual({
      ok: true,
      value: { servicePrincipalId: SP.toLowerCase() },
    });
  });

  it.each([
    [{ limit: '5' }, /query parameter "limit" is not allowed/],
    [{ principalId: [P, P] }, /principalId must be given once/],
    [{ principalId: 'nope' }, /principalId must be a GUID/],
  ])('refuses %j', (query, message) => {
    const r = parseGrantQuery(query);
    expect(r.ok ? '' : r.message).toMatch(message);
  });
});

describe('parseGrantId', () => {
  it('accepts a UUID and refuses anything else', () => {
    expect(parseGrantId(P)).toEqual({ ok: true, value: P.toLowerCase() });
    expect(parseGrantId('..%2F')).toEqual({ ok: false, message: 'grantId must be a UUID' });
  });
});

describe('parseEventsQuery', () => {
  it('defaults to 100 and accepts 1-500', () => {
    expect(parseEventsQuery({})).toEqual({ ok: true, value: { limit: 100 } });
    expect(parseEventsQuery({ limit: '500' })).toEqual({ ok: true, value: { limit: 500 } });
  });

  it.each([
    [{ limit: '0' }],
    [{ limit: '501' }],
    [{ limit: '-1' }],
    [{ limit: ['1', '2'] }],
    [{ cursor: 'x' }],
  ])('refuses %j (no clamping)', (query) => {
    expect(parseEventsQuery(query).ok).toBe(false);
  });
});
