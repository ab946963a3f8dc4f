import { DomainError, ErrorCode } from '@app/common';

/** The one message of an unreachable audit store. Before the attempt row exists nothing reaches Graph. */
export const AUDIT_UNAVAILABLE_MESSAGE =
  'The audit store is unavailable, so nothing was sent to Graph; try again later';

/** A decision whose attempt row could not be finalised (the reconciler settles it later). */
export interface UnrecordedDecision {
  attemptId: string;
  outcome: string;
  startSent: boolean;
}

function unrecordedMessage(d: UnrecordedDecision): string {
  const sent = d.startSent
    ? 'a start was sent to Graph (it may have taken effect, so the cool-down applies)'
    : 'no start was sent to Graph';
  return `The decision was made (${d.outcome}; ${sent}) but the audit store became unavailable before it was recorded; attempt ${d.attemptId} will be settled when it is back`;
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
      unrecorded ? unrecordedMessage(unrecorded) : AUDIT_UNAVAILABLE_MESSAGE,
      unrecorded ? { cause, details: { attemptId: unrecorded.attemptId } } : { cause },
    );
    this.name = 'AuditUnavailableError';
  }

  /** The message, safe to show (kept for callers that render it themselves: the Graph door, recovery). */
  get publicMessage(): string {
    return this.message;
  }
}
