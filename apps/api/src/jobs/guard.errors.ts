import { DomainError, ErrorCode, isDomainError, type Outcome } from '@app/common';
import { AUDIT_UNAVAILABLE_BEFORE, auditLostAfter } from './guard-policy';

/** A decision whose attempt row could not be finalised (the reconciler settles it later). */
export interface UnrecordedDecision {
  attemptId: string;
  outcome: Outcome;
  startSent: boolean;
}

/**
 * The audit store (PostgreSQL) could not be used: 503 (`AUDIT_UNAVAILABLE`), and the guard does not call Graph.
 * With `unrecorded`, the decision was already made and only its record failed (`ATTEMPT_UNRECORDED`, 503).
 * The errors filter also answers with it for any database failure that reaches it.
 */
export class AuditUnavailableError extends DomainError {
  constructor(cause?: unknown, unrecorded?: UnrecordedDecision) {
    super(
      unrecorded ? ErrorCode.ATTEMPT_UNRECORDED : ErrorCode.AUDIT_UNAVAILABLE,
      unrecorded
        ? auditLostAfter(unrecorded.outcome, unrecorded.startSent, unrecorded.attemptId)
        : AUDIT_UNAVAILABLE_BEFORE,
      unrecorded ? { cause, details: { attemptId: unrecorded.attemptId } } : { cause },
    );
    this.name = 'AuditUnavailableError';
  }
}

/**
 * The audit store failed, before the decision (`AUDIT_UNAVAILABLE`) or while recording it (`ATTEMPT_UNRECORDED`):
 * its message is safe to show, for callers that render it themselves (the Graph door, recovery).
 */
export function isAuditStoreFailure(error: unknown): error is DomainError {
  return (
    isDomainError(error, ErrorCode.AUDIT_UNAVAILABLE) || isDomainError(error, ErrorCode.ATTEMPT_UNRECORDED)
  );
}
