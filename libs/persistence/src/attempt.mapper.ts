import type { ActorType, AttemptView, ObservedStatus, Operation, Outcome, Trigger } from '@app/common';
import { OBSERVED_STATUSES, OPERATIONS } from '@app/common';

/** Every column of an attempts row, in one place for every statement that returns attempts. */
export const ATTEMPT_SELECT = `id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type, actor_id, actor_name,
  outcome, observed_status, quarantine_reason, reason, dry_run, message, retry_after_seconds, graph_request_ids, duration_ms,
  would_start, operation, approval_id, hold_id, reset_scope, requested_by_id, requested_by_name`;

/** An attempts row as raw SQL returns it (snake_case). */
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
  operation?: string | null;
  approval_id?: string | null;
  hold_id?: string | null;
  reset_scope?: string[] | null;
  requested_by_id?: string | null;
  requested_by_name?: string | null;
}

/** The same row through Prisma's model API (camelCase). */
export interface AttemptModelLike {
  id: string;
  createdAt: Date;
  finishedAt: Date | null;
  servicePrincipalId: string;
  jobId: string;
  trigger: string;
  actorType: string;
  actorId: string;
  actorName: string | null;
  outcome: string;
  observedStatus: string | null;
  quarantineReason: string | null;
  reason: string | null;
  dryRun: boolean;
  message: string | null;
  retryAfterSeconds: number | null;
  graphRequestIds: string[];
  durationMs: number | null;
  wouldStart: boolean | null;
  operation?: string | null;
  approvalId?: string | null;
  holdId?: string | null;
  resetScope?: string[] | null;
  requestedById?: string | null;
  requestedByName?: string | null;
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

export function rowToModel(row: AttemptRow): AttemptModelLike {
  return {
    id: row.id,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    servicePrincipalId: row.service_principal_id,
    jobId: row.job_id,
    trigger: row.trigger,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    outcome: row.outcome,
    observedStatus: row.observed_status,
    quarantineReason: row.quarantine_reason,
    reason: row.reason,
    dryRun: row.dry_run,
    message: row.message,
    retryAfterSeconds: row.retry_after_seconds,
    graphRequestIds: row.graph_request_ids ?? [],
    durationMs: row.duration_ms,
    wouldStart: row.would_start,
    operation: row.operation ?? null,
    approvalId: row.approval_id ?? null,
    holdId: row.hold_id ?? null,
    resetScope: row.reset_scope ?? [],
    requestedById: row.requested_by_id ?? null,
    requestedByName: row.requested_by_name ?? null,
  };
}

export function toAttemptView(m: AttemptModelLike): AttemptView {
  return {
    attemptId: m.id,
    createdAt: m.createdAt.toISOString(),
    finishedAt: m.finishedAt ? m.finishedAt.toISOString() : null,
    servicePrincipalId: m.servicePrincipalId,
    jobId: m.jobId,
    trigger: m.trigger as Trigger,
    actor: { type: m.actorType as ActorType, id: m.actorId, name: m.actorName },
    outcome: m.outcome as Outcome | 'pending',
    observedStatus: asObserved(m.observedStatus),
    quarantineReason: m.quarantineReason,
    reason: m.reason,
    dryRun: m.dryRun,
    message: m.message,
    retryAfterSeconds: m.retryAfterSeconds,
    graphRequestIds: m.graphRequestIds,
    durationMs: m.durationMs,
    wouldStart: m.wouldStart,
    operation: asOperation(m.operation ?? null),
    approvalId: m.approvalId ?? null,
    holdId: m.holdId ?? null,
    resetScope: m.resetScope ?? [],
    requestedBy:
      m.requestedById === null || m.requestedById === undefined
        ? null
        : { id: m.requestedById, name: m.requestedByName ?? null },
  };
}
