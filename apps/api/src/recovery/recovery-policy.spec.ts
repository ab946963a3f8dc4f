import type { AttemptView, Outcome } from '@app/common';
import { GraphError } from '@app/graph';
import {
  type RecoveryRules,
  afterDecision,
  afterRead,
  afterReadError,
  backoffSeconds,
  needsPerson,
  recoveryRefusal,
} from './recovery-policy';
import { attemptView, jobIn, watchRecord } from '../../../../test/support/fixtures';

const rules: RecoveryRules = {
  maxAttempts: 3,
  needsPersonReasons: ['TooManyDeletes', 'QuarantinedOnDemand'],
  backoffSeconds: [300, 900, 3600],
};
const NOW = new Date('2026-11-28T12:00:00.000Z');

const watch = watchRecord;

const job = jobIn;

function attempt(outcome: Outcome, patch: Partial<AttemptView> = {}): AttemptView {
  return attemptView({
    trigger: 'recovery',
    actor: { type: 'scheduler', id: 'a', name: 'recovery' },
    outcome,
    observedStatus: 'quarantine',
    quarantineReason: 'EncounteredQuarantineException',
    message: `it was ${outcome}.`,
    ...patch,
  });
}

describe('recovery policy', () => {
  it('compares needs-a-person reasons case-insensitively', () => {
    expect(needsPerson('toomanydeletes', rules)).toBe(true);
    expect(needsPerson('EncounteredQuarantineException', rules)).toBe(false);
    expect(needsPerson(null, rules)).toBe(false);
  });

  it('adds configured reasons to the built-in ones, which can never be removed', () => {
    const extra: RecoveryRules = { ...rules, needsPersonReasons: ['ingestionINTERRUPTED'] };
    expect(needsPerson('IngestionInterrupted', extra)).toBe(true);
    expect(needsPerson('TooManyDeletes', extra)).toBe(true);
    expect(needsPerson('QuarantinedOnDemand', extra)).toBe(true);
    // Microsoft's pages spell it both ways.
    expect(needsPerson('QuarantineOnDemand', extra)).toBe(true);
    expect(needsPerson('quarantineondemand', { ...rules, needsPersonReasons: [] })).toBe(true);
    expect(needsPerson('EncounteredQuarantineException', extra)).toBe(false);
    expect(
      recoveryRefusal(job('quarantine', 'TOOMANYDELETES'), { ...rules, needsPersonReasons: [] }),
    ).toMatch(/needs a person/);
  });

  it('treats a configured alternative spelling as the reason it names', () => {
    const extra: RecoveryRules = { ...rules, needsPersonReasons: ['EncounteredQuarantineException'] };
    expect(needsPerson('encounteredquarantineexception', extra)).toBe(true);
    expect(needsPerson('EncounteredBaseEscrowThreshold', extra)).toBe(false);
  });

  it('backs off by the n-th step, capped at the last', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffSeconds(n, rules))).toEqual([300, 900, 3600, 3600, 3600]);
  });

  it('lets the guard start only quarantine with a reason a start can fix', () => {
    expect(recoveryRefusal(job('quarantine', 'EncounteredQuarantineException'), rules)).toBeNull();
    expect(recoveryRefusal(job('quarantine', null), rules)).toBeNull();
    expect(recoveryRefusal(job('paused'), rules)).toMatch(/paused/);
    expect(recoveryRefusal(job('active'), rules)).toMatch(/active/);
    expect(recoveryRefusal(job('quarantine', 'QuarantinedOnDemand'), rules)).toMatch(/needs a person/);
  });

  it("never starts Graph's own escrow pause, and says so", () => {
    const escrowPause = { ...job('paused'), escrowsPruned: true };
    expect(recoveryRefusal(escrowPause, rules)).toMatch(/escrowsPruned/);
    expect(afterRead(watch(), escrowPause, NOW, rules)).toMatchObject({
      decide: false,
      record: { state: 'ok', lastMessage: expect.stringMatching(/Graph itself/) as unknown },
    });
  });

  describe('afterRead', () => {
    it('decides on a quarantined job of an ok or backing-off watch', () => {
      expect(afterRead(watch(), job('quarantine', 'X'), NOW, rules)).toMatchObject({
        decide: true,
        tally: 'none',
      });
      const v = afterRead(
        watch({ state: 'backing_off', failedAttempts: 1 }),
        job('quarantine', 'X'),
        NOW,
        rules,
      );
      expect(v.decide).toBe(true);
      expect(v.record).toMatchObject({
        lastSeenStatus: 'quarantine',
        lastQuarantineReason: 'X',
        lastSeenAt: NOW,
      });
    });

    it('leaves reasons that need a person', () => {
      const v = afterRead(watch(), job('quarantine', 'TooManyDeletes'), NOW, rules);
      expect(v).toMatchObject({
        decide: false,
        tally: 'needs_attention',
        record: { state: 'needs_attention' },
      });
    });

    it('resets to ok when the job is not quarantined (paused by a person, active, recovered)', () => {
      const failing = watch({ state: 'backing_off', failedAttempts: 2, nextTryAt: NOW });
      for (const status of ['paused', 'active', 'notRun'] as const) {
        const v = afterRead(failing, job(status), NOW, rules);
        expect(v).toMatchObject({
          decide: false,
          record: { state: 'ok', failedAttempts: 0, nextTryAt: null, lastSeenStatus: status },
        });
      }
      expect(afterRead(watch({ state: 'recovering' }), job('active'), NOW, rules).record.lastMessage).toMatch(
        /Recovered/,
      );
    });

    it('counts a relapse after a start as a failed recovery, and escalates at maxAttempts', () => {
      const v = afterRead(
        watch({ state: 'recovering', lastAttemptId: 'x' }),
        job('quarantine', 'Y'),
        NOW,
        rules,
      );
      expect(v).toMatchObject({
        decide: false,
        tally: 'failed',
        record: { state: 'backing_off', failedAttempts: 1, nextTryAt: new Date(NOW.getTime() + 300_000) },
      });
      const last = afterRead(
        watch({ state: 'recovering', failedAttempts: 2 }),
        job('quarantine', 'Y'),
        NOW,
        rules,
      );
      expect(last).toMatchObject({
        tally: 'needs_attention',
        record: { state: 'needs_attention', failedAttempts: 3 },
      });
    });

    it('keeps an escalated watch with a person while it stays quarantined', () => {
      const v = afterRead(
        watch({ state: 'needs_attention', failedAttempts: 3 }),
        job('quarantine', 'Y'),
        NOW,
        rules,
      );
      expect(v).toMatchObject({
        decide: false,
        tally: 'needs_attention',
        record: { state: 'needs_attention' },
      });
    });

    it('tries again when a person-reason changed to one a start can fix', () => {
      const v = afterRead(
        watch({ state: 'needs_attention' }),
        job('quarantine', 'EncounteredQuarantineException'),
        NOW,
        rules,
      );
      expect(v.decide).toBe(true);
    });
  });

  describe('afterDecision', () => {
    it('held → shown as held, not counted as a failure, tried again next sweep', () => {
      const v = afterDecision(
        watch({ failedAttempts: 2, state: 'backing_off' }),
        { attempt: attempt('held', { holdId: '33333333-3333-4333-8333-333333333333' }), job: null },
        NOW,
        rules,
      );
      expect(v).toMatchObject({
        tally: 'skipped',
        record: {
          state: 'held',
          failedAttempts: 2,
          nextTryAt: null,
          lastMessage: expect.stringMatching(/held/) as unknown,
        },
      });
    });

    it('started → recovering', () => {
      const v = afterDecision(
        watch(),
        { attempt: attempt('started'), job: job('quarantine', 'X') },
        NOW,
        rules,
      );
      expect(v).toMatchObject({
        tally: 'started',
        record: {
          state: 'recovering',
          lastAttemptId: '22222222-2222-4222-8222-222222222222',
          nextTryAt: null,
        },
      });
    });

    it('rate_limited waits for Retry-After without counting a failure', () => {
      const v = afterDecision(
        watch({ failedAttempts: 1, state: 'backing_off' }),
        { attempt: attempt('rate_limited', { retryAfterSeconds: 42 }), job: null },
        NOW,
        rules,
      );
      expect(v).toMatchObject({
        tally: 'skipped',
        record: { state: 'backing_off', failedAttempts: 1, nextTryAt: new Date(NOW.getTime() + 42_000) },
      });
    });

    it.each(['upstream_error', 'unknown', 'forbidden', 'not_found'] as const)('%s backs off', (outcome) => {
      const v = afterDecision(
        watch({ failedAttempts: 1 }),
        { attempt: attempt(outcome), job: null },
        NOW,
        rules,
      );
      expect(v).toMatchObject({
        tally: 'failed',
        record: { state: 'backing_off', failedAttempts: 2, nextTryAt: new Date(NOW.getTime() + 900_000) },
      });
      expect(v.record.lastMessage).toMatch(
        new RegExp(`ended ${outcome}: it was ${outcome}\\. Failed recovery 2 of 3`),
      );
    });

    it('skipped applies the guard’s fresh read (e.g. the job became active, or a person-reason)', () => {
      expect(
        afterDecision(watch(), { attempt: attempt('skipped'), job: job('active') }, NOW, rules),
      ).toMatchObject({ tally: 'skipped', record: { state: 'ok', lastSeenStatus: 'active' } });
      expect(
        afterDecision(
          watch(),
          { attempt: attempt('skipped'), job: job('quarantine', 'TooManyDeletes') },
          NOW,
          rules,
        ),
      ).toMatchObject({ tally: 'needs_attention', record: { state: 'needs_attention' } });
    });
  });

  it('marks a watch whose job Graph does not know as needing a person; other read errors only note it', () => {
    expect(afterReadError(watch(), new GraphError('not_found', 'gone'))).toMatchObject({
      tally: 'needs_attention',
      record: { state: 'needs_attention' },
    });
    expect(
      afterReadError(watch({ state: 'backing_off' }), new GraphError('unavailable', 'down')),
    ).toMatchObject({
      tally: 'error',
      record: { state: 'backing_off', lastMessage: 'Could not read the job: down' },
    });
  });
});
