import { DomainError, ErrorCode } from '@app/common';
import { AuditUnavailableError, isAuditStoreFailure } from './guard.errors';

describe('isAuditStoreFailure', () => {
  it('is true for a store failure before the decision and for an unrecorded decision, false otherwise', () => {
    const before = new AuditUnavailableError(new Error('connection refused'));
    const after = new AuditUnavailableError(undefined, {
      attemptId: 'a-1',
      outcome: 'started',
      startSent: true,
    });
    expect([before.code, isAuditStoreFailure(before)]).toEqual([ErrorCode.AUDIT_UNAVAILABLE, true]);
    expect([after.code, isAuditStoreFailure(after)]).toEqual([ErrorCode.ATTEMPT_UNRECORDED, true]);
    expect(isAuditStoreFailure(new DomainError(ErrorCode.INTERNAL, 'internal error'))).toBe(false);
    expect(isAuditStoreFailure(new Error('the audit store is unavailable'))).toBe(false);
  });
});
