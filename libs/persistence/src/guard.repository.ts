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
import { ATTEMPT_SELECT, type AttemptRow, rowToModel, toAttemptView } from './attempt.mapper';
import { outboxInsert } from './notification.repository';

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
}

/**
 * Why a claim was refused, as a stable value (never read from the message): a grant, a hold, the cool-down after a
 * start, another request for the job being decided, or the per-job request limit.
 */
export const CLAIM_REFUSALS = ['grant', 'hold', 'cooldown', 'in_flight', 'limit'] as const;
export type ClaimRefusal = (typeof CLAIM_REFUSALS)[number];

export type ClaimResult =
  | { claimed: true; attempt: AttemptView }
  /**
   * Refused at the claim: the row is already final (denied, rate_limited) with its message and Retry-After,
   * or, past the caller's refusal limit, not stored at all (`stored: false`); `refusal` says why, as a stable value.
   */
  | { claimed: false; attempt: AttemptView; stored: boolean; refusal: ClaimRefusal };

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
  /** Outcome `awaiting_approval`: the approval the decision asked for. */
  approvalId?: string | null;
}

export interface FinalRecordInput extends AttemptIdentity {
  outcome: Outcome;
  observedStatus: ObservedStatus | null;
  message: string;
  retryAfterSeconds: number | null;
  /** Default: every refusal is stored. */
  refusalLimit?: RefusalLimit;
}

const NO_REFUSAL_LIMIT: RefusalLimit = { perCaller: 2_147_483_647, windowSeconds: 60 };

/** The per-caller refusal counter as a CTE `budget`: `from` yields (actor_id, now(), 1) for a refusal to count. */
function refusalBudgetCte(window: string, from: string): string {
  return `budget AS (
         INSERT INTO refusal_budgets AS b (actor_id, window_start, refusals)
         ${from}
         ON CONFLICT (actor_id) DO UPDATE SET
           window_start = CASE WHEN b.window_start <= now() - make_interval(secs => ${window}::int) THEN now()
                               ELSE b.window_start END,
           refusals = CASE WHEN b.window_start <= now() - make_interval(secs => ${window}::int) THEN 1
                           ELSE b.refusals + 1 END
         RETURNING refusals
       )`;
}

/**
 * The attempt's identity as $1..$11 of every statement that writes a new row. GUIDs (the service principal, an
 * actor's object id) are stored in one canonical form, lower-case, whatever casing the caller used.
 */
function identityParams(a: AttemptIdentity): unknown[] {
  return [
    a.attemptId,
    canonicalId(a.servicePrincipalId),
    a.jobId,
    a.trigger,
    a.actor.type,
    canonicalId(a.actor.id),
    a.actor.name,
    a.reason,
    a.dryRun,
    a.requestId,
    a.replicaId,
  ];
}

/** DESIGN 2c columns of a new attempt row, appended after each statement's own parameters. */
function controlParams(a: AttemptIdentity): unknown[] {
  return [
    a.operation ?? 'start',
    a.resetScope ?? [],
    a.approvalId ?? null,
    a.requestedBy?.id ?? null,
    a.requestedBy?.name ?? null,
    a.holdId ?? null,
  ];
}

function firstRow<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (!row) {
    throw new Error(`${what} returned no row`);
  }
  return row;
}

const ATTEMPT_COLUMNS = ATTEMPT_SELECT;

/** The finalise statement's outbox CTE: one `attempt.unknown` event when the outcome is unknown. */
const ATTEMPT_UNKNOWN_EVENT = outboxInsert({
  type: `'attempt.unknown'`,
  servicePrincipalId: 'fin.service_principal_id',
  jobId: 'fin.job_id',
  data: `jsonb_build_object('attemptId', fin.id, 'servicePrincipalId', fin.service_principal_id, 'jobId', fin.job_id,
           'trigger', fin.trigger, 'actor', jsonb_build_object('type', fin.actor_type, 'id', fin.actor_id, 'name', fin.actor_name),
           'operation', fin.operation, 'outcome', fin.outcome, 'observedStatus', fin.observed_status,
           'quarantineReason', fin.quarantine_reason,
           'message', fin.message, 'createdAt', fin.created_at, 'finishedAt', fin.finished_at)`,
  from: `FROM fin WHERE fin.outcome = 'unknown'`,
});

/**
 * The guard's two database round trips (DESIGN section 3, cost budget).
 *
 * claim: one statement that checks the caller's grants, the cool-down, the single-flight lease and the sliding request window of
 * the job, takes the lease and counts the request when all allow it, and writes the attempt row: `pending`
 * when claimed, else final `denied` (grants) or `rate_limited` with the reason and Retry-After. INSERT .. ON CONFLICT DO UPDATE
 * locks the job's row, so concurrent claims on any replica are serialised by PostgreSQL; no lock or
 * transaction is held afterwards, while Graph answers.
 *
 * finalise: one statement that writes the outcome, releases the lease (only if still ours) and starts the
 * cool-down after a start.
 */
@Injectable()
export class GuardRepository {
  constructor(private readonly prisma: PrismaService) {}

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const rows = await this.prisma.prepared<
      AttemptRow & { claimed: boolean; stored: boolean; refusal: string | null }
    >(
      'sjg_guard_claim',
      `WITH prev AS (
         SELECT window_hits, lease_expires_at, cooldown_until FROM job_guards WHERE job_key = $12
       ),
       -- job control (DESIGN 2c): an active hold on the job or its service principal refuses starts and restarts
       -- (never a pause). Expired holds (until passed) stop applying by themselves.
       hold AS (
         SELECT h.id, h.reason, h.placed_at, h.until, coalesce(h.placed_by_name, h.placed_by_id) AS placed_by
         FROM holds h
         WHERE $19::text <> 'pause' AND h.service_principal_id = lower($2)
           AND (h.job_id IS NULL OR h.job_id = $3) AND h.released_at IS NULL AND (h.until IS NULL OR h.until > now())
         ORDER BY h.placed_at, h.id LIMIT 1
       ),
       access AS (
         SELECT CASE
           WHEN $17::text IS NULL THEN NULL
           WHEN EXISTS (SELECT 1 FROM grants WHERE principal_id = lower($17) AND service_principal_id = lower($2)) THEN NULL
           WHEN EXISTS (SELECT 1 FROM grants WHERE principal_id = lower($17)) THEN
             format('Caller %s is narrowed by grants to other service principals, not %s', $17::text, $2::text)
           WHEN $18::boolean THEN
             format('Caller %s has no grant for service principal %s (REQUIRE_GRANTS is on)', $17::text, $2::text)
         END AS denial
       ),
       claim AS (
         INSERT INTO job_guards AS g (job_key, window_hits, lease_attempt_id, lease_expires_at)
         SELECT $12, ARRAY[now()]::timestamptz(3)[], $1::uuid, now() + make_interval(secs => $15::int)
         WHERE (SELECT denial FROM access) IS NULL AND NOT EXISTS (SELECT 1 FROM hold)
         ON CONFLICT (job_key) DO UPDATE SET
           -- a pause takes the lease but neither uses the start allowance nor waits for the cool-down
           window_hits = CASE WHEN $19::text = 'pause' THEN g.window_hits ELSE array_append(
             ARRAY(SELECT h FROM unnest(g.window_hits) AS h WHERE h > now() - make_interval(secs => $14::int)),
             now()::timestamptz(3)) END,
           lease_attempt_id = EXCLUDED.lease_attempt_id,
           lease_expires_at = EXCLUDED.lease_expires_at
         WHERE (g.lease_expires_at IS NULL OR g.lease_expires_at <= now())
           AND (g.lease_attempt_id IS NULL OR NOT EXISTS (
                 SELECT 1 FROM attempts a WHERE a.id = g.lease_attempt_id AND a.outcome = 'pending'))
           AND ($19::text = 'pause' OR g.cooldown_until IS NULL OR g.cooldown_until <= now())
           AND ($19::text = 'pause' OR cardinality(ARRAY(SELECT h FROM unnest(g.window_hits) AS h
                                 WHERE h > now() - make_interval(secs => $14::int))) < $13::int)
         RETURNING 1
       ),
       verdict AS (
         SELECT
           EXISTS (SELECT 1 FROM claim) AS claimed,
           (SELECT cooldown_until FROM prev) AS cooldown_until,
           (SELECT lease_expires_at FROM prev) AS lease_expires_at,
           (SELECT min(h) FROM prev, unnest(prev.window_hits) AS h
             WHERE h > now() - make_interval(secs => $14::int)) AS oldest_hit,
           (SELECT count(*) FROM prev, unnest(prev.window_hits) AS h
             WHERE h > now() - make_interval(secs => $14::int)) AS hits
       ),
       refusal AS (
         SELECT v.claimed, a.denial, (SELECT id FROM hold) AS hold_id,
           CASE
             WHEN v.claimed THEN NULL
             WHEN a.denial IS NOT NULL THEN a.denial
             WHEN EXISTS (SELECT 1 FROM hold) THEN (
               SELECT format('Job is on hold: %s (placed by %s at %s, %s)', h.reason, h.placed_by,
                        to_char(h.placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                        CASE WHEN h.until IS NULL THEN 'until released'
                             ELSE 'until ' || to_char(h.until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END)
               FROM hold h)
             WHEN v.cooldown_until > now() THEN
               format('Job was started recently; it is in its %s s cool-down for %s more seconds, while Graph may still report the old status',
                      $16::int, ceil(extract(epoch FROM v.cooldown_until - now()))::int)
             WHEN v.lease_expires_at > now() THEN
               'Another request for this job is being decided right now; try again shortly'
             WHEN v.hits >= $13::int THEN
               format('Rate limit reached: at most %s requests per %s s for this job', $13::int, $14::int)
             ELSE 'Another request for this job is being decided right now; try again shortly'
           END AS message,
           CASE
             WHEN v.claimed OR a.denial IS NOT NULL OR EXISTS (SELECT 1 FROM hold) THEN NULL
             WHEN v.cooldown_until > now() THEN greatest(1, ceil(extract(epoch FROM v.cooldown_until - now())))::int
             WHEN v.lease_expires_at > now() THEN 1
             WHEN v.hits >= $13::int THEN
               greatest(1, ceil(extract(epoch FROM v.oldest_hit + make_interval(secs => $14::int) - now())))::int
             ELSE 1
           END AS retry_after
         FROM verdict v, access a
       ),
       -- The refusal as a stable value, in the same order as the message above.
       refusal_kind AS (
         SELECT CASE
           WHEN v.claimed THEN NULL
           WHEN a.denial IS NOT NULL THEN 'grant'
           WHEN EXISTS (SELECT 1 FROM hold) THEN 'hold'
           WHEN v.cooldown_until > now() THEN 'cooldown'
           WHEN v.lease_expires_at > now() THEN 'in_flight'
           WHEN v.hits >= $13::int THEN 'limit'
           ELSE 'in_flight'
         END AS refusal
         FROM verdict v, access a
       ),
       ${refusalBudgetCte('$26', 'SELECT $6, now(), 1 FROM refusal r WHERE NOT r.claimed AND $17::text IS NOT NULL')},
       ins AS (
         INSERT INTO attempts (id, service_principal_id, job_id, trigger, actor_type, actor_id, actor_name, outcome,
                               reason, dry_run, request_id, replica_id, message, retry_after_seconds, finished_at, duration_ms,
                               operation, reset_scope, approval_id, requested_by_id, requested_by_name, hold_id)
         SELECT $1::uuid, $2, $3, $4::"AttemptTrigger", $5::"ActorType", $6, $7,
                (CASE WHEN r.claimed THEN 'pending' WHEN r.denial IS NOT NULL THEN 'denied'
                      WHEN r.hold_id IS NOT NULL THEN 'held' ELSE 'rate_limited' END)::"AttemptOutcome",
                $8, $9::boolean, $10, $11, r.message, r.retry_after,
                CASE WHEN r.claimed THEN NULL ELSE now() END,
                CASE WHEN r.claimed THEN NULL ELSE 0 END,
                $19::"AttemptOperation", $20::text[], $21::uuid, $22, $23,
                CASE WHEN r.denial IS NULL AND r.hold_id IS NOT NULL THEN r.hold_id ELSE $24::uuid END
         FROM refusal r
         WHERE r.claimed OR coalesce((SELECT refusals FROM budget), 0) <= $25::int
         RETURNING ${ATTEMPT_COLUMNS}, (outcome = 'pending') AS claimed, true AS stored
       )
       SELECT ins.*, k.refusal FROM ins, refusal_kind k
       UNION ALL
       SELECT $1::uuid, now()::timestamptz(3), now()::timestamptz(3), $2, $3, $4::"AttemptTrigger", $5::"ActorType", $6, $7,
              (CASE WHEN r.denial IS NOT NULL THEN 'denied' WHEN r.hold_id IS NOT NULL THEN 'held'
                    ELSE 'rate_limited' END)::"AttemptOutcome",
              NULL::text, NULL::text, $8, $9::boolean, r.message, r.retry_after, '{}'::text[], 0, NULL::boolean,
              $19::"AttemptOperation", $21::uuid,
              CASE WHEN r.denial IS NULL AND r.hold_id IS NOT NULL THEN r.hold_id ELSE $24::uuid END,
              $20::text[], $22, $23,
              false, false, k.refusal
       FROM refusal r, refusal_kind k WHERE NOT EXISTS (SELECT 1 FROM ins)`,
      ...identityParams(input),
      input.jobKey,
      input.limit,
      input.windowSeconds,
      input.leaseSeconds,
      input.cooldownSeconds,
      input.grantPrincipalId,
      input.requireGrants,
      ...controlParams(input),
      (input.refusalLimit ?? NO_REFUSAL_LIMIT).perCaller,
      (input.refusalLimit ?? NO_REFUSAL_LIMIT).windowSeconds,
    );
    const row = firstRow(rows, 'claim');
    const attempt = toAttemptView(rowToModel(row));
    if (row.claimed) {
      return { claimed: true, attempt };
    }
    const refusal = CLAIM_REFUSALS.find((r) => r === row.refusal) ?? 'in_flight';
    return { claimed: false, attempt, stored: row.stored, refusal };
  }

  async finalise(input: FinaliseInput): Promise<AttemptView> {
    const rows = await this.prisma.prepared<AttemptRow>(
      'sjg_guard_finalise',
      `WITH fin AS (
         UPDATE attempts SET outcome = $2::"AttemptOutcome", finished_at = now(), observed_status = $3,
                quarantine_reason = $4, message = $5, retry_after_seconds = $6, graph_request_ids = $7::text[],
                duration_ms = least(greatest($8::bigint, 0), 2147483647)::int, would_start = $11, approval_id = coalesce(approval_id, $12::uuid)
         WHERE id = $1::uuid AND outcome = 'pending'
         RETURNING ${ATTEMPT_COLUMNS}
       ),
       rel AS (
         UPDATE job_guards SET
           lease_attempt_id = CASE WHEN lease_attempt_id = $1::uuid THEN NULL ELSE lease_attempt_id END,
           lease_expires_at = CASE WHEN lease_attempt_id = $1::uuid THEN NULL ELSE lease_expires_at END,
           cooldown_until = CASE WHEN $10::int IS NULL THEN cooldown_until
                                 ELSE greatest(cooldown_until, now() + make_interval(secs => $10::int)) END
         WHERE job_key = $9 AND (lease_attempt_id = $1::uuid OR $10::int IS NOT NULL)
         RETURNING 1
       ),
       -- notification outbox (DESIGN 2d): an attempt finalised as unknown is reported by this same statement
       notify AS (${ATTEMPT_UNKNOWN_EVENT})
       SELECT fin.* FROM fin LEFT JOIN (SELECT count(*) AS n FROM rel) r ON true`,
      input.attemptId,
      input.outcome,
      input.observedStatus,
      input.quarantineReason,
      input.message,
      input.retryAfterSeconds,
      input.graphRequestIds,
      input.durationMs,
      input.jobKey,
      input.cooldownSeconds,
      input.wouldStart ?? null,
      input.approvalId ?? null,
    );
    return toAttemptView(rowToModel(firstRow(rows, `attempt ${input.attemptId} was not pending:`)));
  }

  /**
   * A decision that never reaches the guard's claim (denied, rejected): one final row, in one statement, unless
   * the caller is past its refusal limit (`stored: false`; the view is then built from the input).
   */
  async recordFinal(input: FinalRecordInput): Promise<{ attempt: AttemptView; stored: boolean }> {
    const rows = await this.prisma.prepared<AttemptRow>(
      'sjg_guard_record_final',
      `WITH ${refusalBudgetCte('$23', 'VALUES ($6, now(), 1)')}
       INSERT INTO attempts (id, service_principal_id, job_id, trigger, actor_type, actor_id, actor_name, reason, dry_run,
                             request_id, replica_id, outcome, observed_status, message, retry_after_seconds,
                             finished_at, duration_ms,
                             operation, reset_scope, approval_id, requested_by_id, requested_by_name, hold_id)
       SELECT $1::uuid, $2, $3, $4::"AttemptTrigger", $5::"ActorType", $6, $7, $8, $9::boolean, $10, $11,
               $12::"AttemptOutcome", $13, $14, $15, now(), 0,
               $16::"AttemptOperation", $17::text[], $18::uuid, $19, $20, $21::uuid
       WHERE (SELECT refusals FROM budget) <= $22::int
       RETURNING ${ATTEMPT_COLUMNS}`,
      ...identityParams(input),
      input.outcome,
      input.observedStatus,
      input.message,
      input.retryAfterSeconds,
      ...controlParams(input),
      (input.refusalLimit ?? NO_REFUSAL_LIMIT).perCaller,
      (input.refusalLimit ?? NO_REFUSAL_LIMIT).windowSeconds,
    );
    const row = rows[0];
    if (row) {
      return { attempt: toAttemptView(rowToModel(row)), stored: true };
    }
    const now = new Date().toISOString();
    return {
      attempt: {
        attemptId: input.attemptId,
        createdAt: now,
        finishedAt: now,
        servicePrincipalId: input.servicePrincipalId,
        jobId: input.jobId,
        trigger: input.trigger,
        actor: input.actor,
        outcome: input.outcome,
        observedStatus: input.observedStatus,
        quarantineReason: null,
        reason: input.reason,
        dryRun: input.dryRun,
        message: input.message,
        retryAfterSeconds: input.retryAfterSeconds,
        graphRequestIds: [],
        durationMs: 0,
        wouldStart: null,
        operation: input.operation ?? 'start',
        approvalId: input.approvalId ?? null,
        holdId: input.holdId ?? null,
        resetScope: input.resetScope ?? [],
        requestedBy: input.requestedBy ?? null,
      },
      stored: false,
    };
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
    const rows = await this.prisma.$queryRawUnsafe<AttemptRow[]>(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts
       WHERE outcome = 'pending' AND created_at < now() - make_interval(secs => $1::int)
         AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
       ORDER BY created_at, id LIMIT $4`,
      olderThanSeconds,
      after?.createdAt ?? null,
      after?.id ?? null,
      limit,
    );
    return rows.map((r) => toAttemptView(rowToModel(r)));
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
    const rows = await this.prisma.$queryRawUnsafe<AttemptRow[]>(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts
       WHERE outcome = 'pending' AND replica_id = $1 AND created_at < $2::timestamptz
         AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::uuid))
       ORDER BY created_at, id LIMIT $5`,
      replicaId,
      createdBefore,
      after?.createdAt ?? null,
      after?.id ?? null,
      limit,
    );
    return rows.map((r) => toAttemptView(rowToModel(r)));
  }

  /** The database's clock: start-up instants are compared with `created_at`, which the database writes. */
  async databaseNow(): Promise<Date> {
    const rows = await this.prisma.$queryRawUnsafe<{ now: Date }[]>(`SELECT now() AS now`);
    return firstRow(rows, 'now').now;
  }
}
