import { adviceFor, allReasonAdvice, daysUntilAutoDisable, quarantineClock } from './quarantine';

describe('quarantineClock', () => {
  it('derives since, next retry and the auto-disable date 28 days after the series began', () => {
    const clock = quarantineClock({
      seriesBegan: '2026-11-01T10:00:00Z',
      nextAttempt: '2026-11-01T16:00:00.5Z',
    });
    expect(clock).toEqual({
      since: '2026-11-01T10:00:00.000Z',
      nextEntraRetry: '2026-11-01T16:00:00.500Z',
      autoDisableAt: '2026-11-29T10:00:00.000Z',
    });
    expect(daysUntilAutoDisable(clock, new Date('2026-11-22T10:00:00Z'))).toBe(7);
    expect(daysUntilAutoDisable(clock, new Date('2026-11-28T09:59:59Z'))).toBe(1);
    expect(daysUntilAutoDisable(clock, new Date('2026-12-30T00:00:00Z'))).toBe(0);
  });

  it('is all null without a quarantine or with unreadable times', () => {
    const empty = { since: null, nextEntraRetry: null, autoDisableAt: null };
    expect(quarantineClock(null)).toEqual(empty);
    expect(quarantineClock({ seriesBegan: 'not a date', nextAttempt: null })).toEqual(empty);
    expect(daysUntilAutoDisable(empty, new Date())).toBeNull();
  });
});

describe('adviceFor', () => {
  it('finds every listed reason case-insensitively, and both spellings of QuarantinedOnDemand', () => {
    for (const a of allReasonAdvice()) {
      expect(adviceFor(a.reason.toUpperCase())).toBe(a);
      expect(a.steps.length).toBeGreaterThan(0);
    }
    expect(adviceFor('QuarantineOnDemand').reason).toBe('QuarantinedOnDemand');
    expect(adviceFor('tooManyDeletes').needsPerson).toBe(true);
    expect(adviceFor('EncounteredQuarantineException').needsPerson).toBe(false);
  });

  it('gives the Unknown advice, under the reason as sent, for an unlisted reason', () => {
    const a = adviceFor('SomethingNew');
    expect(a.reason).toBe('SomethingNew');
    expect(a.needsPerson).toBe(false);
    expect(a.steps).toEqual(adviceFor('Unknown').steps);
    expect(adviceFor(null).reason).toBe('Unknown');
  });
});
