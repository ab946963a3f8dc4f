import { type BatchItem, parseBatch, runBatch } from './door-batch';
import type { DoorAnswer } from './door-answers';

const get = (id: string, extra: Record<string, unknown> = {}) => ({ id, method: 'GET', url: '/x', ...extra });

describe('parseBatch (Graph JSON batching)', () => {
  it('accepts up to 20 requests and normalises urls, methods and header names', () => {
    const r = parseBatch({
      requests: [
        {
          id: '1',
          method: 'post',
          url: 'servicePrincipals/a/start',
          headers: { 'Content-Type': 'application/json' },
          body: {},
        },
        { id: '2', method: 'GET', url: '/v1.0/servicePrincipals/a', dependsOn: ['1'] },
        { id: '3', method: 'GET', url: '/beta/servicePrincipals/b?x=1' },
      ],
    });
    expect(r).toEqual({
      ok: true,
      items: [
        {
          id: '1',
          method: 'POST',
          url: '/servicePrincipals/a/start',
          headers: { 'content-type': 'application/json' },
          body: {},
          dependsOn: [],
        },
        {
          id: '2',
          method: 'GET',
          url: '/servicePrincipals/a',
          headers: {},
          body: undefined,
          dependsOn: ['1'],
        },
        {
          id: '3',
          method: 'GET',
          url: '/servicePrincipals/b?x=1',
          headers: {},
          body: undefined,
          dependsOn: [],
        },
      ],
    });
    expect(parseBatch({ requests: Array.from({ length: 20 }, (_, i) => get(String(i))) }).ok).toBe(true);
  });

  it.each([
    [null, /"requests" array/],
    [{ requests: [] }, /no requests/],
    [{ requests: Array.from({ length: 21 }, (_, i) => get(String(i))) }, /maximum of 20/],
    [{ requests: [get('a'), get('a')] }, /unique/],
    [{ requests: [{ method: 'GET', url: '/x' }] }, /id must be/],
    [{ requests: [get('a', { method: 'TRACE' })] }, /method must be/],
    [{ requests: [get('a', { url: 'https://graph.microsoft.com/v1.0/users' })] }, /relative URL/],
    [{ requests: [get('a', { headers: { n: 1 } })] }, /headers.n must be a string/],
    [{ requests: [get('a', { dependsOn: ['b'] })] }, /unknown request "b"/],
    [{ requests: [get('a', { dependsOn: ['b'] }), get('b', { dependsOn: ['a'] })] }, /cycle/],
    [{ requests: [get('a', { dependsOn: ['a'] })] }, /cycle/],
    [{ requests: [get('a', { extra: 1 })] }, /"extra" is not allowed/],
    [{ requests: [get('a')], more: 1 }, /"more" is not allowed/],
  ])('refuses %j', (body, message) => {
    const r = parseBatch(body);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(message);
  });
});

describe('runBatch', () => {
  const items = (specs: [string, string[]][]): BatchItem[] =>
    specs.map(([id, dependsOn]) => ({
      id,
      method: 'GET',
      url: '/x',
      headers: {},
      body: undefined,
      dependsOn,
    }));
  const failed = (item: BatchItem, dep: string): DoorAnswer => ({
    status: 424,
    headers: {},
    body: { item: item.id, dep },
  });

  it('runs each request after its dependencies; a failed dependency makes its dependants 424 without running them', async () => {
    const order: string[] = [];
    const statuses: Record<string, number> = { a: 204, b: 409, c: 200, d: 200, e: 200 };
    const run = async (item: BatchItem): Promise<DoorAnswer> => {
      await new Promise((r) => setImmediate(r));
      order.push(item.id);
      return { status: statuses[item.id] ?? 500, headers: { h: item.id } };
    };
    const out = await runBatch(
      items([
        ['c', ['a']],
        ['a', []],
        ['b', []],
        ['d', ['b']],
        ['e', ['d']],
      ]),
      run,
      failed,
    );
    expect(out.map((r) => [r.id, r.status])).toEqual([
      ['c', 200],
      ['a', 204],
      ['b', 409],
      ['d', 424],
      ['e', 424],
    ]);
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('c'));
    expect(order).not.toContain('d');
    expect(order).not.toContain('e');
    expect(out[3]).toEqual({
      id: 'd',
      status: 424,
      headers: { 'Content-Type': 'application/json' },
      body: { item: 'd', dep: 'b' },
    });
    expect(out[1]).toEqual({ id: 'a', status: 204, headers: { h: 'a' } });
  });
});
