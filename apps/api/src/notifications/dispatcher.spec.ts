import { retryAfterSeconds } from './dispatcher.service';

describe('retryAfterSeconds', () => {
  const now = new Date('2026-11-29T12:00:00.000Z');

  it.each([
    [null, undefined],
    ['30', 30],
    [' 0 ', 0],
    ['Sun, 29 Nov 2026 12:01:00 GMT', 60],
    ['Sun, 29 Nov 2026 11:00:00 GMT', 0],
    ['999999999', 86_400],
    ['soon', undefined],
    ['-5', undefined],
  ])('Retry-After %p → %p s', (header, seconds) => {
    expect(retryAfterSeconds(header, now)).toBe(seconds);
  });
});
