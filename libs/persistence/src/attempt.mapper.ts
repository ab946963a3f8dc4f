import type { ActorType, AttemptView, ObservedStatus, Outcome, Trigger } from '@app/common';
import { OBSERVED_STATUSES } from '@app/common';

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
}

function asObserved(value: string | null): ObservedStatus | null {
  if (value === null) {
    return null;
  }
  return (OBSERVED_STATUSES as readonly string[]).includes(value) ? (value as ObservedStatus) : 'unknown';
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
  };
}
