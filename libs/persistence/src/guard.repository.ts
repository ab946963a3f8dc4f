import { Injectable } from '@nestjs/common';
import {
  type Actor,
  type AttemptView,
  type ObservedStatus,
  type Operation,
  type Outcome,
  type Trigger,
  canonicalId,
} from '@app/common';
import { PrismaService } from './prisma.service';
import { PENDING_ATTEMPT_COLUMNS, type AttemptRow, toAttemptView } from './attempt.mapper';
import { claimStatement, finaliseStatement, recordFinalStatement } from './guard.statements';
import { type Sql, firstRow, sql } from './sql';

export { CLAIM_FACTS, type ClaimFact } from './guard.statements';

export interface AttemptIdentity {
  attemptId: string;
  servicePrincipalId: string;
  jobId: string;
  trigger: Trigger;
  actor: Actor;
  reason: string | null;
  dryRun: boolean;
  requestId: string | null;
  replicaId: string;
  // ---- job control (DESIGN 2c): what is asked of Graph, and under which approval or hold.
  /** Default `start`. */
  operation?: Operation;
  resetScope?: string[];
  /** Trigger `approval`: the approval this attempt runs under and the person who asked for it. */
  approvalId?: string | null;
  requestedBy?: { id: string; name: string | null } | null;
  /** A pause that placed a hold in the same step. */
  holdId?: string | null;
}

/**
 * How many refusals of one caller are stored per window. Past it, the refusal is answered as usual but not
 * stored (`stored: false`); the caller counts it in metrics. The scheduler is never limited.
 */
export interface RefusalLimit {
  perCaller: number;
  windowSeconds: number;
}

/**
 * The message of each refusal of the claim, with `{fact}` placeholders (CLAIM_FACTS of guard.statements). The wording belongs to the
 * caller (the guard's policy); the claim statement fills the facts in, so the refused row is written, message and
 * all, in the claim's one round trip.
 */
export interface ClaimWording {
  /** The caller has grants, for other service principals only. */
  grantNarrowed: string;
  /** The caller has no grant at all and grants are required. */
  grantRequired: string;
  hold: string;
  /** A hold without `until`. */
  holdUntilReleased: string;
  cooldown: string;
  inFlight: string;
  limit: string;
}

export interface ClaimInput extends AttemptIdentity {
  jobKey: string;
  limit: number;
  windowSeconds: number;
  leaseSeconds: number;
  /** For the refusal message only: the configured cool-down. */
  cooldownSeconds: number;
  /** Grants: the caller whose grants apply (null for the scheduler) and whether a grant is required. */
  grantPrincipalId: string | null;
  requireGrants: boolean;
  /** Default: every refusal is stored. */
  refusalLimit?: RefusalLimit;
  wording: ClaimWording;
}

/**
 * Why a claim was refused, as a stable value (never read from the message): a grant, a hold, the cool-down after a
 * start, another request for the job being decided, or the per-job request limit.
 */
export const CLAIM_REFUSALS = ['grant', 'hold', 'cooldown', 'in_flight', 'limit'] as const;
export type ClaimRefusal = (typeof CLAIM_REFUSALS)[number];

/** What refused a claim, with the ids and seconds an answer needs. */
export type ClaimRefused =
  | { kind: 'grant'; grant: 'narrowed' | 'required' }
  | { kind: 'hold'; holdId: string }
  | { kind: 'cooldown'; secondsLeft: number }
  | { kind: 'in_flight' }
  | { kind: 'limit'; secondsLeft: number };

export type ClaimResult =
  | { claimed: true; attempt: AttemptView }
  /**
   * Refused at the claim: the row is already final (denied, held, rate_limited) with its message and Retry-After,
   * or, past the caller's refusal limit, not stored at all (`stored: false`).
   */
  | { claimed: false; attempt: AttemptView; stored: boolean; refusal: ClaimRefused };

export interface FinaliseInput {
  attemptId: string;
  jobKey: string;
  outcome: Outcome;
  observedStatus: ObservedStatus | null;
  quarantineReason: string | null;
  message: string;
  retryAfterSeconds: number | null;
  graphRequestIds: string[];
  durationMs: number;
  /** Start the cool-down (a start happened, or may have). */
  cooldownSeconds: number | null;
  /** Dry runs: whether the start would have been sent. */
  wouldStart?: boolean | null;
  /** Outcome `awaiting_approval`: the approval the decision asked for. */
  approvalId?: string | null;
}

/** Keyset position in the pending rows: (created_at, id). */
export interface PendingPosition {
  createdAt: string;
  id: string;
}

export interface FinalRecordInput extends AttemptIdentity {
  outcome: Outcome;
  observedStatus: ObservedStatus | null;
  message: string;
  retryAfterSeconds: number | null;
  /** Default: every refusal is stored. */
  refusalLimit?: RefusalLimit;
}

/** The statements of the guard, as `GuardService` and the reconciler use them (a fake in unit tests). */
export interface GuardStore {
  claim(input: ClaimInput): Promise<ClaimResult>;
  finalise(input: FinaliseInput): Promise<AttemptView>;
}

/** A claim's verdict, and the attempt row it wrote (NULL columns when it was not stored). */
interface ClaimRow extends AttemptRow {
  claimed: boolean;
  stored: boolean;
  kind: string | null;
  grant_refusal: string | null;
  refusal_hold_id: string | null;
  seconds_left: number | null;
  refused_as: 'denied' | 'held' | 'rate_limited';
  refusal_retry_after: number | null;
  refusal_message: string;
}

function refusalOf(row: ClaimRow): ClaimRefused {
  switch (row.kind) {
    case 'grant':
      return { kind: 'grant', grant: row.grant_refusal === 'narrowed' ? 'narrowed' : 'required' };
    case 'hold':
      return { kind: 'hold', holdId: row.refusal_hold_id ?? '' };
    case 'cooldown':
      return { kind: 'cooldown', secondsLeft: row.seconds_left ?? 1 };
    case 'limit':
      return { kind: 'limit', secondsLeft: row.seconds_left ?? 1 };
    default:
      return { kind: 'in_flight' };
  }
}

/** The view of a refusal that was answered but not stored (past the caller's refusal limit). */
function unstoredAttempt(
  input: AttemptIdentity,
  row: {
    outcome: Outcome;
    observedStatus: ObservedStatus | null;
    message: string;
    retryAfterSeconds: number | null;
  },
  holdId: string | null,
): AttemptView {
  const now = new Date().toISOString();
  return {
    attemptId: input.attemptId,
    createdAt: now,
    finishedAt: now,
    servicePrincipalId: canonicalId(input.servicePrincipalId),
    jobId: input.jobId,
    trigger: input.trigger,
    actor: { ...input.actor, id: canonicalId(input.actor.id) },
    ...row,
    quarantineReason: null,
    reason: input.reason,
    dryRun: input.dryRun,
    graphRequestIds: [],
    durationMs: 0,
    wouldStart: null,
    operation: input.operation ?? 'start',
    approvalId: input.approvalId ?? null,
    holdId,
    resetScope: input.resetScope ?? [],
    requestedBy: input.requestedBy ?? null,
  };
}

/**
 * The guard's two database round trips (DESIGN section 3, cost budget): the claim and the finalise, each one
 * statement, run as named prepared statements (parsed and planned once per connection).
 */
@Injectable()
export class GuardRepository implements GuardStore {
  constructor(private readonly prisma: PrismaService) {}

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const rows = await this.prisma.query<ClaimRow>(claimStatement(input), 'sjg_guard_claim');
    const row = firstRow(rows, 'claim');
    if (row.claimed) {
      return { claimed: true, attempt: toAttemptView(row) };
    }
    const refusal = refusalOf(row);
    const attempt = row.stored
      ? toAttemptView(row)
      : unstoredAttempt(
          input,
          {
            outcome: row.refused_as,
            observedStatus: null,
            message: row.refusal_message,
            retryAfterSeconds: row.refusal_retry_after,
          },
          refusal.kind === 'hold' ? refusal.holdId : (input.holdId ?? null),
        );
    return { claimed: false, attempt, stored: row.stored, refusal };
  }

  async finalise(input: FinaliseInput): Promise<AttemptView> {
    const rows = await this.prisma.query<AttemptRow>(finaliseStatement(input), 'sjg_guard_finalise');
    return toAttemptView(firstRow(rows, `attempt ${input.attemptId} was not pending:`));
  }

  /**
   * A decision that never reaches the guard's claim (denied, rejected): one final row, in one statement, unless
   * the caller is past its refusal limit (`stored: false`; the view is then built from the input).
   */
  async recordFinal(input: FinalRecordInput): Promise<{ attempt: AttemptView; stored: boolean }> {
    const rows = await this.prisma.query<AttemptRow>(recordFinalStatement(input), 'sjg_guard_record_final');
    const row = rows[0];
    if (row) {
      return { attempt: toAttemptView(row), stored: true };
    }
    return { attempt: unstoredAttempt(input, input, input.holdId ?? null), stored: false };
  }

  /**
   * One page of attempts still pending after `olderThanSeconds` (left by a crashed process), oldest first, after
   * `after` (keyset: a row that cannot be settled does not hide the ones behind it).
   */
  async findStalePending(
    olderThanSeconds: number,
    after: PendingPosition | null = null,
    limit = 500,
  ): Promise<AttemptView[]> {
    return this.pendingPage(
      sql`created_at < now() - make_interval(secs => ${olderThanSeconds}::int)`,
      after,
      limit,
    );
  }

  /**
   * One page of attempts still pending that this replica id wrote before `createdBefore` (the database's time when
   * this process started): a previous run of the same replica id crashed. Rows of this process's live requests are
   * newer and never returned.
   */
  async findPendingOfReplica(
    replicaId: string,
    createdBefore: Date,
    after: PendingPosition | null = null,
    limit = 500,
  ): Promise<AttemptView[]> {
    return this.pendingPage(
      // created_at is stored rounded to the millisecond and `createdBefore` (read by databaseNow) truncated to it,
      // so a row written just before the start can carry the start's millisecond or the next one. The start waits
      // past that allowance before this process writes a row (ReconcilerService), so no own row falls inside it.
      sql`replica_id = ${replicaId} AND created_at <= ${createdBefore}::timestamptz + interval '1 millisecond'`,
      after,
      limit,
    );
  }

  /** The database's clock: start-up instants are compared with `created_at`, which the database writes. */
  async databaseNow(): Promise<Date> {
    const rows = await this.prisma.query<{ now: Date }>(sql`SELECT now() AS now`);
    return firstRow(rows, 'now').now;
  }

  private async pendingPage(
    where: Sql,
    after: PendingPosition | null,
    limit: number,
  ): Promise<AttemptView[]> {
    const position =
      after === null
        ? sql`true`
        : sql`(created_at, id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)`;
    const rows = await this.prisma.query<AttemptRow>(
      sql`SELECT ${PENDING_ATTEMPT_COLUMNS} FROM pending_attempts
          WHERE ${where} AND ${position}
          ORDER BY created_at, id LIMIT ${limit}::int`,
    );
    return rows.map(toAttemptView);
  }
}
