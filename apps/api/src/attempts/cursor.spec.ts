import { CursorCodec, InvalidCursorError, canonicalFilter } from './cursor';

const KEY = { createdAt: new Date('2026-11-28T16:00:00.123Z'), id: '6f2d1c3a-1b2c-4d5e-8f90-123456789abc' };

describe('CursorCodec', () => {
  const codec = new CursorCodec(undefined);

  it('round-trips a position for the same filters, whatever their order', () => {
    const c = codec.encode(KEY, { jobId: 'j', outcomes: ['denied', 'started'] });
    expect(c).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(codec.decode(c, { outcomes: ['started', 'denied'], jobId: 'j' })).toEqual(KEY);
  });

  it('refuses a cursor used with other filters', () => {
    const c = codec.encode(KEY, { jobId: 'j' });
    expect(() => codec.decode(c, { jobId: 'k' })).toThrow(InvalidCursorError);
    expect(() => codec.decode(c, {})).toThrow(InvalidCursorError);
    expect(() => codec.decode(c, { jobId: 'j', from: new Date(0) })).toThrow(InvalidCursorError);
  });

  it('refuses forged, truncated and garbled cursors, and cursors of another key', () => {
    const c = codec.encode(KEY, {});
    const [v, payload, mac] = c.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ t: '2030-01-01T00:00:00.000Z', i: KEY.id })).toString(
      'base64url',
    );
    for (const bad of [
      `${v}.${forged}.${mac}`,
      `${v}.${payload}.${mac.slice(1)}`,
      `${v}.${payload}`,
      `${c}.x`,
      'v1..',
      '',
      '%%%',
      `v1.${payload}.${mac}=`,
    ]) {
      expect(() => codec.decode(bad, {})).toThrow(InvalidCursorError);
    }
    expect(() => new CursorCodec('another deployment').decode(c, {})).toThrow(InvalidCursorError);
    expect(new CursorCodec('k1').decode(new CursorCodec('k1').encode(KEY, {}), {})).toEqual(KEY);
  });

  it('canonicalises filters', () => {
    expect(canonicalFilter({ outcomes: ['skipped', 'denied'] })).toBe(
      canonicalFilter({ outcomes: ['denied', 'skipped'] }),
    );
    expect(canonicalFilter({ jobId: 'a' })).not.toBe(canonicalFilter({ actorId: 'a' }));
  });
});
