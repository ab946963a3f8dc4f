import type { SyncJob } from '@app/graph';
import { jobIn } from '../../../../test/support/fixtures';
import {
  isEscrowPause,
  parsePauseBody,
  parsePlaceHoldBody,
  parseResetScope,
  parseRestartBody,
  parseUntil,
  restartApprovalWhy,
  startApprovalWhy,
  toGraphScope,
} from './control-policy';

const NOW = new Date('2026-11-29T12:00:00Z');
const ids = {
  isServicePrincipalId: (v: unknown) => typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v),
  isJobId: (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(v),
};

function job(
  status: SyncJob['observedStatus'],
  reason: string | null = null,
  escrowsPruned: boolean | null = null,
): SyncJob {
  return { ...jobIn(status, reason), escrowsPruned };
}

describe('job control policy (DESIGN 2c)', () => {
  it.each([
    [['Escrows'], ['Escrows']],
    [
      ['escrows', 'QUARANTINESTATE'],
      ['Escrows', 'QuarantineState'],
    ],
    [['ForceDeletes'], ['ForceDeletion']],
    [[' Full '], ['Full']],
  ])('reads the scopes %j as %j', (input, expected) => {
    expect(parseResetScope(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    [undefined, /required/],
    ['Escrows', /not a string/],
    [[], /at least one scope/],
    [['None'], /Microsoft says not to use it/],
    [['connectordatastore'], /Microsoft says not to use it/],
    [['Everything'], /not a scope/],
    [[1], /strings only/],
    [['Full', 'full'], /twice/],
    [{ a: 1 }, /list of scopes/],
  ])('refuses the scopes %j', (input, message) => {
    const r = parseResetScope(input);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(message);
  });

  it("sends ForceDeletion as Graph's ForceDeletes and every other scope as named", () => {
    expect(toGraphScope('ForceDeletion')).toBe('ForceDeletes');
    expect(toGraphScope('Watermark')).toBe('Watermark');
  });

  it('asks for a second person for Full, Watermark and ForceDeletion only', () => {
    expect(restartApprovalWhy(['Escrows', 'QuarantineState'])).toBeNull();
    expect(restartApprovalWhy(['Escrows', 'Watermark'])).toMatch(/Watermark runs a full re-sync/);
    expect(restartApprovalWhy(['ForceDeletion'])).toMatch(/TooManyDeletes threshold/);
  });

  it('asks for a second person to start a job quarantined for a reason that needs a person', () => {
    expect(startApprovalWhy(job('quarantine', 'TooManyDeletes'))).toMatch(/TooManyDeletes/);
    expect(startApprovalWhy(job('quarantine', 'quarantineondemand'))).not.toBeNull();
    expect(startApprovalWhy(job('quarantine', 'EncounteredQuarantineException'))).toBeNull();
    expect(startApprovalWhy(job('paused'))).toBeNull();
  });

  it("tells Graph's own escrow pause from a person's", () => {
    expect(isEscrowPause(job('paused', null, true))).toBe(true);
    expect(isEscrowPause(job('paused', null, false))).toBe(false);
    expect(isEscrowPause(job('quarantine', 'X', true))).toBe(false);
  });

  it('parses until strictly and refuses the past', () => {
    expect(parseUntil('2026-11-30T08:00:00Z', NOW)).toEqual({
      ok: true,
      value: new Date('2026-11-30T08:00:00Z'),
    });
    expect(parseUntil('2026-11-29T11:59:59Z', NOW)).toMatchObject({
      ok: false,
      message: 'until must be in the future',
    });
    expect(parseUntil('tomorrow', NOW)).toMatchObject({ ok: false });
    expect(parseUntil('2026-11-30', NOW)).toMatchObject({ ok: false });
    expect(parseUntil(undefined, NOW)).toEqual({ ok: true, value: null });
  });

  it('parses restart, pause and hold bodies strictly', () => {
    expect(parseRestartBody({ resetScope: ['Escrows'], reason: 'r' })).toEqual({
      ok: true,
      value: { resetScope: ['Escrows'], reason: 'r', dryRun: false },
    });
    expect(parseRestartBody({ resetScope: ['Escrows'], reason: '  ' })).toMatchObject({ ok: false });
    expect(parseRestartBody({ resetScope: ['Escrows'], reason: 'r', x: 1 })).toMatchObject({ ok: false });
    expect(parseRestartBody(null)).toMatchObject({ ok: false });
    expect(parsePauseBody(undefined, NOW)).toEqual({ ok: true, value: { reason: null, hold: null } });
    expect(parsePauseBody({ hold: { reason: 'h', until: '2026-12-01T00:00:00Z' } }, NOW)).toEqual({
      ok: true,
      value: { reason: null, hold: { reason: 'h', until: new Date('2026-12-01T00:00:00Z') } },
    });
    expect(parsePauseBody({ hold: { reason: 'h', x: 1 } }, NOW)).toMatchObject({ ok: false });
    expect(parsePauseBody({ hold: 'yes' }, NOW)).toMatchObject({ ok: false });
    const sp = '6F2D1C3A-1B2C-4D5E-8F90-123456789ABC';
    expect(parsePlaceHoldBody({ servicePrincipalId: sp, reason: 'r' }, NOW, ids)).toEqual({
      ok: true,
      value: { servicePrincipalId: sp.toLowerCase(), jobId: null, reason: 'r', until: null },
    });
    expect(parsePlaceHoldBody({ servicePrincipalId: 'x', reason: 'r' }, NOW, ids)).toMatchObject({
      ok: false,
    });
    expect(parsePlaceHoldBody({ servicePrincipalId: sp }, NOW, ids)).toMatchObject({ ok: false });
  });
});
