import type { ActorType, AttemptView, ObservedStatus, Operation, Outcome, Trigger } from '@app/common';
import { OBSERVED_STATUSES, OPERATIONS } from '@app/common';
import { sql, trusted } from './sql';

/** Every column of an attempts row, in one place for every statement that returns attempts. */
export const ATTEMPT_COLUMNS =
  trusted(`id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type,
  actor_id, actor_name, outcome, observed_status, quarantine_reason, reason, dry_run, message, retry_after_seconds,
  graph_request_ids, duration_ms, would_start, operation, approval_id, hold_id, reset_scope, requested_by_id,
  requested_by_name`);

/**
 * A pending_attempts row (a decision in flight) as the same columns, in the same order and types: what the claim
 * returns for the row it wrote, and what audit reads see, outcome `pending`, nothing written by the finalise yet.
 */
export const PENDING_ATTEMPT_COLUMNS =
  trusted(`id, created_at, NULL::timestamptz(3) AS finished_at, service_principal_id, job_id, trigger, actor_type,
  actor_id, actor_name, 'pending'::"AttemptOutcome" AS outcome, NULL::text AS observed_status,
  NULL::text AS quarantine_reason, reason, dry_run, NULL::text AS message, NULL::int AS retry_after_seconds,
  '{}'::text[] AS graph_request_ids, NULL::int AS duration_ms, NULL::boolean AS would_start, operation, approval_id,
  hold_id, reset_scope, requested_by_id, requested_by_name`);

/** The pending rows as attempts rows: a relation with the columns of `attempts` (`FROM ${PENDING_AS_ATTEMPTS}`). */
export const PENDING_AS_ATTEMPTS = sql`(SELECT ${PENDING_ATTEMPT_COLUMNS} FROM pending_attempts) AS pending`;

/**
 * Every attempt, final and pending, as one relation named `attempts` for the audit reads (`FROM ${ATTEMPT_RECORDS}`).
 * A UNION ALL subquery: PostgreSQL pushes the WHERE clause into both branches (on the pending side, a filter on
 * any outcome but `pending` folds to false).
 */
export const ATTEMPT_RECORDS = sql`(SELECT ${ATTEMPT_COLUMNS} FROM attempts
  UNION ALL SELECT ${ATTEMPT_COLUMNS} FROM ${PENDING_AS_ATTEMPTS}) AS attempts`;

/** An attempts row as `ATTEMPT_COLUMNS` returns it (snake_case). */
export interface AttemptRow {
  id: string;
  created_at: Date;
  finished_at: Date | null;
  service_principal_id: string;
  job_id: string;
  trigger: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  outcome: string;
  observed_status: string | null;
  quarantine_reason: string | null;
  reason: string | null;
  dry_run: boolean;
  message: string | null;
  retry_after_seconds: number | null;
  graph_request_ids: string[] | null;
  duration_ms: number | null;
  would_start: boolean | null;
  operation: string | null;
  approval_id: string | null;
  hold_id: string | null;
  reset_scope: string[] | null;
  requested_by_id: string | null;
  requested_by_name: string | null;
}

function asObserved(value: string | null): ObservedStatus | null {
  if (value === null) {
    return null;
  }
  return (OBSERVED_STATUSES as readonly string[]).includes(value) ? (value as ObservedStatus) : 'unknown';
}

/** Rows written before DESIGN 2c have no operation: they were starts. */
function asOperation(value: string | null): Operation {
  return value !== null && (OPERATIONS as readonly string[]).includes(value) ? (value as Operation) : 'start';
}

/** The one mapping of an attempts row to what the API shows. */
export function toAttemptView(row: AttemptRow): AttemptView {
  return {
    attemptId: row.id,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    servicePrincipalId: row.service_principal_id,
    jobId: row.job_id,
    trigger: row.trigger as Trigger,
    actor: { type: row.actor_type as ActorType, id: row.actor_id, name: row.actor_name },
    outcome: row.outcome as Outcome | 'pending',
    observedStatus: asObserved(row.observed_status),
    quarantineReason: row.quarantine_reason,
    reason: row.reason,
    dryRun: row.dry_run,
    message: row.message,
    retryAfterSeconds: row.retry_after_seconds,
    graphRequestIds: row.graph_request_ids ?? [],
    durationMs: row.duration_ms,
    wouldStart: row.would_start,
    operation: asOperation(row.operation),
    approvalId: row.approval_id,
    holdId: row.hold_id,
    resetScope: row.reset_scope ?? [],
    requestedBy:
      row.requested_by_id === null ? null : { id: row.requested_by_id, name: row.requested_by_name },
  };
}
