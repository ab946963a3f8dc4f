import { Injectable } from '@nestjs/common';
import type { Actor, ActorType, Operation } from '@app/common';
import { outboxInsert } from './notification.repository';
import { PrismaService } from './prisma.service';
import { type Sql, firstRow, params, sql, trusted } from './sql';

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** An approval request of the two-person rule (DESIGN 2c), as the API shows it. */
export interface ApprovalView {
  approvalId: string;
  servicePrincipalId: string;
  jobId: string;
  operation: Operation;
  resetScope: string[];
  /** The requester's reason for the operation. */
  reason: string | null;
  /** Why the operation needs a second person. */
  why: string;
  state: ApprovalState;
  requestedAt: string;
  expiresAt: string;
  requestedBy: Actor;
  /** The `awaiting_approval` attempt that asked for it. */
  requestAttemptId: string;
  decidedAt: string | null;
  decidedBy: { id: string; name: string | null } | null;
  decisionReason: string | null;
  /** The attempt that ran the operation once approved. */
  attemptId: string | null;
}

/** A new request: what it asks for, who asks, and for how long it stays open. */
export interface CreateApprovalInput extends Pick<
  ApprovalView,
  | 'approvalId'
  | 'servicePrincipalId'
  | 'jobId'
  | 'operation'
  | 'resetScope'
  | 'reason'
  | 'why'
  | 'requestedBy'
  | 'requestAttemptId'
> {
  ttlSeconds: number;
}

export type DecideResult =
  | { ok: true; approval: ApprovalView }
  | {
      ok: false;
      reason: 'not_found' | 'own_request' | 'expired' | 'already_decided';
      approval: ApprovalView | null;
    };

interface ApprovalRow {
  id: string;
  service_principal_id: string;
  job_id: string;
  operation: string;
  reset_scope: string[] | null;
  reason: string | null;
  why: string;
  state: string;
  requested_at: Date;
  expires_at: Date;
  requested_by_type: string;
  requested_by_id: string;
  requested_by_name: string | null;
  request_attempt_id: string;
  decided_at: Date | null;
  decided_by_id: string | null;
  decided_by_name: string | null;
  decision_reason: string | null;
  attempt_id: string | null;
}

/** The data a person acts on, common to both approval events, from a CTE row `a` of approvals. */
const EVENT_DATA = `'approvalId', a.id, 'servicePrincipalId', a.service_principal_id, 'jobId', a.job_id,
  'operation', a.operation::text, 'resetScope', to_jsonb(COALESCE(a.reset_scope, ARRAY[]::text[])),
  'reason', a.reason, 'why', a.why, 'requestedAt', a.requested_at, 'expiresAt', a.expires_at,
  'requestedBy', jsonb_build_object('type', a.requested_by_type::text, 'id', a.requested_by_id, 'name', a.requested_by_name),
  'requestAttemptId', a.request_attempt_id`;

/** `approval.decided` for every row of the CTE `a` (approved, rejected or expired). */
const DECIDED = trusted(
  outboxInsert({
    type: `'approval.decided'`,
    servicePrincipalId: 'a.service_principal_id',
    jobId: 'a.job_id',
    data: `jsonb_build_object(${EVENT_DATA}) || jsonb_build_object('decision', a.state::text, 'decidedAt', a.decided_at,
           'decidedBy', CASE WHEN a.decided_by_id IS NULL THEN NULL
                             ELSE jsonb_build_object('id', a.decided_by_id, 'name', a.decided_by_name) END,
           'decisionReason', a.decision_reason,
           'withdrawn', a.state = 'rejected' AND a.decided_by_id = a.requested_by_id)`,
    from: 'FROM a',
  }),
);

/** `approval.requested` for the row of the CTE `a`. */
const REQUESTED = trusted(
  outboxInsert({
    type: `'approval.requested'`,
    servicePrincipalId: 'a.service_principal_id',
    jobId: 'a.job_id',
    data: `jsonb_build_object(${EVENT_DATA})`,
    from: 'FROM a',
  }),
);

const COLUMNS =
  trusted(`id, service_principal_id, job_id, operation::text AS operation, reset_scope, reason, why, state::text AS state,
  requested_at, expires_at, requested_by_type::text AS requested_by_type, requested_by_id, requested_by_name,
  request_attempt_id, decided_at, decided_by_id, decided_by_name, decision_reason, attempt_id`);

function view(r: ApprovalRow): ApprovalView {
  return {
    approvalId: r.id,
    servicePrincipalId: r.service_principal_id,
    jobId: r.job_id,
    operation: r.operation as Operation,
    resetScope: r.reset_scope ?? [],
    reason: r.reason,
    why: r.why,
    state: r.state as ApprovalState,
    requestedAt: r.requested_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    requestedBy: { type: r.requested_by_type as ActorType, id: r.requested_by_id, name: r.requested_by_name },
    requestAttemptId: r.request_attempt_id,
    decidedAt: r.decided_at ? r.decided_at.toISOString() : null,
    decidedBy: r.decided_by_id === null ? null : { id: r.decided_by_id, name: r.decided_by_name },
    decisionReason: r.decision_reason,
    attemptId: r.attempt_id,
  };
}

/**
 * Approvals (DESIGN 2c). Deciding is one conditional UPDATE (pending, not expired, another person): two
 * approvers racing on any replicas get one row between them, so an approval runs its operation once.
 * The statement that requests writes `approval.requested`, and each statement that closes a request writes
 * `approval.decided` for every row it changed (DESIGN 2d): approved, rejected (by another Admin, or withdrawn by
 * the requester: `withdrawn: true`) and expired (its time ran out with no decision). A refused decision changes no
 * row and writes no event.
 */
@Injectable()
export class ApprovalRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(input: CreateApprovalInput): Promise<ApprovalView> {
    const by = input.requestedBy;
    const rows = await this.prisma.query<ApprovalRow>(
      sql`WITH a AS (
         INSERT INTO approvals (id, service_principal_id, job_id, operation, reset_scope, reason, why, expires_at,
                                requested_by_type, requested_by_id, requested_by_name, request_attempt_id)
         VALUES (${input.approvalId}::uuid, ${input.servicePrincipalId}, ${input.jobId},
                 ${input.operation}::"AttemptOperation", ${input.resetScope}::text[], ${input.reason}, ${input.why},
                 now() + make_interval(secs => ${input.ttlSeconds}::int),
                 ${by.type}::"ActorType", ${by.id}, ${by.name}, ${input.requestAttemptId}::uuid)
         RETURNING *
       ),
       notify AS (${REQUESTED})
       SELECT ${COLUMNS} FROM a`,
    );
    return view(firstRow(rows, 'creating the approval'));
  }

  async get(approvalId: string): Promise<ApprovalView | null> {
    const rows = await this.prisma.query<ApprovalRow>(
      sql`SELECT ${COLUMNS} FROM approvals WHERE id = ${approvalId}::uuid`,
    );
    return rows[0] ? view(rows[0]) : null;
  }

  async list(filter: { state?: ApprovalState; limit: number }): Promise<ApprovalView[]> {
    // A pending request past its expiry reads as expired before the timer closes it.
    const where: Sql =
      filter.state === undefined
        ? sql``
        : filter.state === 'pending'
          ? sql`WHERE state = 'pending' AND expires_at > now()`
          : filter.state === 'expired'
            ? sql`WHERE state = 'expired' OR (state = 'pending' AND expires_at <= now())`
            : sql`WHERE state = ${filter.state}::"ApprovalState"`;
    const rows = await this.prisma.query<ApprovalRow>(
      sql`SELECT ${COLUMNS} FROM approvals ${where} ORDER BY requested_at DESC, id DESC LIMIT ${filter.limit}::int`,
    );
    return rows.map(view);
  }

  /**
   * Approves or rejects a pending, unexpired request of another person, atomically. The requester may reject
   * (withdraw) their own request but never approve it.
   */
  async decide(
    approvalId: string,
    decision: 'approved' | 'rejected',
    by: { id: string; name: string | null },
    reason: string | null,
  ): Promise<DecideResult> {
    const p = params({ decision, by: by.id });
    const rows = await this.prisma.query<ApprovalRow>(
      sql`WITH a AS (
         UPDATE approvals SET state = ${p.decision}::"ApprovalState", decided_at = now(), decided_by_id = ${p.by}::text,
                decided_by_name = ${by.name}::text, decision_reason = ${reason}::text
         WHERE id = ${approvalId}::uuid AND state = 'pending' AND expires_at > now()
           AND (${p.decision}::text = 'rejected' OR requested_by_id <> ${p.by}::text)
         RETURNING *
       ),
       notify AS (${DECIDED})
       SELECT ${COLUMNS} FROM a`,
    );
    if (rows[0]) {
      return { ok: true, approval: view(rows[0]) };
    }
    const current = await this.get(approvalId);
    if (current === null) {
      return { ok: false, reason: 'not_found', approval: null };
    }
    if (current.state === 'pending' && Date.parse(current.expiresAt) <= Date.now()) {
      await this.expireDue();
      return { ok: false, reason: 'expired', approval: { ...current, state: 'expired' } };
    }
    if (current.state !== 'pending') {
      return {
        ok: false,
        reason: current.state === 'expired' ? 'expired' : 'already_decided',
        approval: current,
      };
    }
    return { ok: false, reason: 'own_request', approval: current };
  }

  /** Links the attempt that ran an approved operation. */
  async linkAttempt(approvalId: string, attemptId: string): Promise<void> {
    await this.prisma.execute(
      sql`UPDATE approvals SET attempt_id = ${attemptId}::uuid WHERE id = ${approvalId}::uuid AND attempt_id IS NULL`,
    );
  }

  /** Closes pending requests whose time ran out; returns how many. */
  async expireDue(): Promise<number> {
    const rows = await this.prisma.query<{ n: number }>(
      sql`WITH a AS (
         UPDATE approvals SET state = 'expired', decided_at = expires_at
         WHERE state = 'pending' AND expires_at <= now()
         RETURNING *
       ),
       notify AS (${DECIDED})
       SELECT count(*)::int AS n FROM a`,
    );
    return rows[0]?.n ?? 0;
  }
}
