import { describe, expect, it } from 'vitest';
import { filterFromSearch, filterToSearch } from './attempts';
import { toSearch } from './client';

describe('audit filters in the URL', () => {
  it('round-trips every filter of /v1/attempts, repeated outcomes included', () => {
    const url = new URLSearchParams(
      'servicePrincipalId=6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14&jobId=scim.1&outcome=denied&outcome=rate_limited&actor=a&trigger=api&operation=restart&from=2026-11-01&to=2026-11-02&limit=100',
    );
    const f = filterFromSearch(url);
    expect(f).toEqual({
      servicePrincipalId: '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14',
      jobId: 'scim.1',
      outcome: ['denied', 'rate_limited'],
      actor: 'a',
      trigger: 'api',
      operation: 'restart',
      from: '2026-11-01',
      to: '2026-11-02',
      limit: 100,
    });
    expect(filterFromSearch(filterToSearch(f))).toEqual(f);
  });

  it('drops an out-of-range limit and unknown parameters instead of sending them to the API', () => {
    expect(filterFromSearch(new URLSearchParams('limit=501&foo=bar'))).toEqual({});
    expect(filterFromSearch(new URLSearchParams('limit=0'))).toEqual({});
  });

  it('repeats array values and leaves empty ones out of the query string', () => {
    expect(toSearch({ outcome: ['a', 'b'], jobId: '', actor: undefined, limit: 5 })).toBe(
      '?outcome=a&outcome=b&limit=5',
    );
  });
});
