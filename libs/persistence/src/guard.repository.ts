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
import { ATTEMPT_COLUMNS, type AttemptRow, toAttemptView } from './attempt.mapper';
import { outboxInsert } from './notification.repository';
import { type Param, type Sql, join, params, sql, trusted } from './sql';

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
 * What the claim knows when it refuses, by name: a refusal's wording may name any of them as `{fact}`.
 * `holdPlacedAt` and `holdUntil` are ISO 8601 (UTC); `secondsLeft` is the cool-down's or the window's rest.
 */
export const CLAIM_FACTS = [
  'caller',
  'servicePrincipalId',
  'holdReason',
  'holdPlacedBy',
  'holdPlacedAt',
  'holdUntil',
  'secondsLeft',
  'cooldownSeconds',
  'limit',
  'windowSeconds',
] as const;
export type ClaimFact = (typeof CLAIM_FACTS)[number];

/**
 * The message of each refusal of the claim, with `{fact}` placeholders (CLAIM_FACTS). The wording belongs to the
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

const NO_REFUSAL_LIMIT: RefusalLimit = { perCaller: 2_147_483_647, windowSeconds: 60 };

/**
 * The attempt's identity as named parameters of every statement that writes a new row. GUIDs (the service
 * principal, an actor's object id) are stored in one canonical form, lower-case, whatever casing the caller used.
 */
function identityValues(a: AttemptIdentity & { refusalLimit?: RefusalLimit }) {
  const limit = a.refusalLimit ?? NO_REFUSAL_LIMIT;
  return {
    attemptId: a.attemptId,
    servicePrincipalId: canonicalId(a.servicePrincipalId),
    jobId: a.jobId,
    trigger: a.trigger,
    actorType: a.actor.type,
    actorId: canonicalId(a.actor.id),
    actorName: a.actor.name,
    reason: a.reason,
    dryRun: a.dryRun,
    requestId: a.requestId,
    replicaId: a.replicaId,
    operation: a.operation ?? 'start',
    resetScope: a.resetScope ?? [],
    approvalId: a.approvalId ?? null,
    requestedById: a.requestedBy?.id ?? null,
    requestedByName: a.requestedBy?.name ?? null,
    holdId: a.holdId ?? null,
    refusalsPerCaller: limit.perCaller,
    refusalWindowSeconds: limit.windowSeconds,
  };
}
type IdentityParams = { readonly [K in keyof ReturnType<typeof identityValues>]: Param };

/** Every parameter of the claim statement, built in this one place. */
function claimParams(input: ClaimInput) {
  return params({
    ...identityValues(input),
    jobKey: input.jobKey,
    limit: input.limit,
    windowSeconds: input.windowSeconds,
    leaseSeconds: input.leaseSeconds,
    cooldownSeconds: input.cooldownSeconds,
    caller: input.grantPrincipalId,
    requireGrants: input.requireGrants,
    ...formatTemplates(input.wording),
  });
}
type ClaimParams = ReturnType<typeof claimParams>;

/** `{fact}` placeholders as PostgreSQL format()'s positional `%n$s`, in CLAIM_FACTS order; `%` stays literal. */
function formatTemplate(template: string): string {
  return template.replace(/%/g, '%%').replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    const n = (CLAIM_FACTS as readonly string[]).indexOf(name);
    if (n < 0) {
      throw new Error(`refusal wording names an unknown fact {${name}}`);
    }
    return `%${n + 1}$s`;
  });
}

function formatTemplates(w: ClaimWording) {
  return {
    sayGrantNarrowed: formatTemplate(w.grantNarrowed),
    sayGrantRequired: formatTemplate(w.grantRequired),
    sayHold: formatTemplate(w.hold),
    sayHoldUntilReleased: formatTemplate(w.holdUntilReleased),
    sayCooldown: formatTemplate(w.cooldown),
    sayInFlight: formatTemplate(w.inFlight),
    sayLimit: formatTemplate(w.limit),
  };
}

const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;

/** The SQL of each fact over the claim's `refusal` row `r`, in CLAIM_FACTS order. */
function factColumns(p: ClaimParams): Sql {
  const facts: Record<ClaimFact, Sql> = {
    caller: sql`${p.caller}::text`,
    servicePrincipalId: sql`${p.servicePrincipalId}::text`,
    holdReason: sql`r.hold_reason`,
    holdPlacedBy: sql`r.hold_placed_by`,
    holdPlacedAt: sql`to_char(r.hold_placed_at AT TIME ZONE 'UTC', ${trusted(ISO_UTC)})`,
    holdUntil: sql`to_char(r.hold_until AT TIME ZONE 'UTC', ${trusted(ISO_UTC)})`,
    secondsLeft: sql`r.seconds_left`,
    cooldownSeconds: sql`${p.cooldownSeconds}::int`,
    limit: sql`${p.limit}::int`,
    windowSeconds: sql`${p.windowSeconds}::int`,
  };
  return join(
    CLAIM_FACTS.map((f) => facts[f]),
    ', ',
  );
}

/** The per-caller refusal counter as a CTE `budget`: `from` yields (actor_id, now(), 1) for a refusal to count. */
function budgetCte(p: IdentityParams, from: Sql): Sql {
  const expired = sql`b.window_start <= now() - make_interval(secs => ${p.refusalWindowSeconds}::int)`;
  return sql`budget AS (
         INSERT INTO refusal_budgets AS b (actor_id, window_start, refusals)
         ${from}
         ON CONFLICT (actor_id) DO UPDATE SET
           window_start = CASE WHEN ${expired} THEN now() ELSE b.window_start END,
           refusals = CASE WHEN ${expired} THEN 1 ELSE b.refusals + 1 END
         RETURNING refusals
       )`;
}

/** What a new attempt row holds besides its identity: SQL expressions over the statement's `FROM`. */
interface NewAttempt {
  outcome: Sql;
  observedStatus: Sql;
  message: Sql;
  retryAfterSeconds: Sql;
  holdId: Sql;
  /** A boolean expression: final rows are finished now, in 0 ms; a pending row is finished by the finalise. */
  final: Sql;
}

/** The one INSERT of a new attempt row, returning it: `rest` is `FROM ... WHERE ...` (or just `WHERE`). */
function insertAttempt(p: IdentityParams, row: NewAttempt, rest: Sql): Sql {
  return sql`INSERT INTO attempts (id, service_principal_id, job_id, trigger, actor_type, actor_id, actor_name, reason,
                               dry_run, request_id, replica_id, operation, reset_scope, approval_id,
                               requested_by_id, requested_by_name, hold_id, outcome, observed_status, message,
                               retry_after_seconds, finished_at, duration_ms)
         SELECT ${p.attemptId}::uuid, ${p.servicePrincipalId}::text, ${p.jobId}::text, ${p.trigger}::"AttemptTrigger",
                ${p.actorType}::"ActorType", ${p.actorId}::text, ${p.actorName}::text, ${p.reason}::text,
                ${p.dryRun}::boolean, ${p.requestId}::text, ${p.replicaId}::text, ${p.operation}::"AttemptOperation",
                ${p.resetScope}::text[], ${p.approvalId}::uuid, ${p.requestedById}::text, ${p.requestedByName}::text,
                ${row.holdId}, (${row.outcome})::"AttemptOutcome", ${row.observedStatus}, ${row.message},
                ${row.retryAfterSeconds}, CASE WHEN ${row.final} THEN now() END, CASE WHEN ${row.final} THEN 0 END
         ${rest}
         RETURNING ${ATTEMPT_COLUMNS}`;
}

/**
 * The claim: checks the caller's grants, holds, the cool-down, the single-flight lease and the sliding request
 * window of the job; takes the lease and counts the request when all allow it; and writes the attempt row:
 * `pending` when claimed, else final `denied` (grants), `held` or `rate_limited`, with its message and
 * Retry-After. INSERT .. ON CONFLICT DO UPDATE locks the job's row, so concurrent claims on any replica are
 * serialised by PostgreSQL; no lock or transaction is held afterwards, while Graph answers.
 */
function claimStatement(p: ClaimParams): Sql {
  const inWindow = sql`h > now() - make_interval(secs => ${p.windowSeconds}::int)`;
  const isPause = sql`${p.operation}::text = 'pause'`;
  return sql`WITH prev AS (
         SELECT window_hits, lease_expires_at, cooldown_until FROM job_guards WHERE job_key = ${p.jobKey}
       ),
       -- job control (DESIGN 2c): an active hold on the job or its service principal refuses starts and restarts
       -- (never a pause). Expired holds (until passed) stop applying by themselves.
       hold AS (
         SELECT h.id, h.reason, h.placed_at, h.until, coalesce(h.placed_by_name, h.placed_by_id) AS placed_by
         FROM holds h
         WHERE NOT (${isPause}) AND h.service_principal_id = lower(${p.servicePrincipalId})
           AND (h.job_id IS NULL OR h.job_id = ${p.jobId}) AND h.released_at IS NULL
           AND (h.until IS NULL OR h.until > now())
         ORDER BY h.placed_at, h.id LIMIT 1
       ),
       access AS (
         SELECT CASE
           WHEN ${p.caller}::text IS NULL THEN NULL
           WHEN EXISTS (SELECT 1 FROM grants WHERE principal_id = lower(${p.caller})
                          AND service_principal_id = lower(${p.servicePrincipalId})) THEN NULL
           WHEN EXISTS (SELECT 1 FROM grants WHERE principal_id = lower(${p.caller})) THEN 'narrowed'
           WHEN ${p.requireGrants}::boolean THEN 'required'
         END AS grant_refusal
       ),
       claim AS (
         INSERT INTO job_guards AS g (job_key, window_hits, lease_attempt_id, lease_expires_at)
         SELECT ${p.jobKey}, ARRAY[now()]::timestamptz(3)[], ${p.attemptId}::uuid,
                now() + make_interval(secs => ${p.leaseSeconds}::int)
         WHERE (SELECT grant_refusal FROM access) IS NULL AND NOT EXISTS (SELECT 1 FROM hold)
         ON CONFLICT (job_key) DO UPDATE SET
           -- a pause takes the lease but neither uses the start allowance nor waits for the cool-down
           window_hits = CASE WHEN ${isPause} THEN g.window_hits ELSE array_append(
             ARRAY(SELECT h FROM unnest(g.window_hits) AS h WHERE ${inWindow}), now()::timestamptz(3)) END,
           lease_attempt_id = EXCLUDED.lease_attempt_id,
           lease_expires_at = EXCLUDED.lease_expires_at
         WHERE (g.lease_expires_at IS NULL OR g.lease_expires_at <= now())
           AND (g.lease_attempt_id IS NULL OR NOT EXISTS (
                 SELECT 1 FROM attempts a WHERE a.id = g.lease_attempt_id AND a.outcome = 'pending'))
           AND (${isPause} OR g.cooldown_until IS NULL OR g.cooldown_until <= now())
           AND (${isPause} OR cardinality(ARRAY(SELECT h FROM unnest(g.window_hits) AS h WHERE ${inWindow}))
                                   < ${p.limit}::int)
         RETURNING 1
       ),
       verdict AS (
         SELECT
           EXISTS (SELECT 1 FROM claim) AS claimed,
           (SELECT cooldown_until FROM prev) AS cooldown_until,
           (SELECT lease_expires_at FROM prev) AS lease_expires_at,
           (SELECT min(h) FROM prev, unnest(prev.window_hits) AS h WHERE ${inWindow}) AS oldest_hit,
           (SELECT count(*) FROM prev, unnest(prev.window_hits) AS h WHERE ${inWindow}) AS hits
       ),
       -- What refused, the first that applies: a grant, a hold, the cool-down, a decision in flight, the limit
       -- (a lease left by a crash, expired but still pending, reads as in flight too).
       kind AS (
         SELECT v.*, a.grant_refusal, h.id AS hold_id, h.reason AS hold_reason, h.placed_by AS hold_placed_by,
                h.placed_at AS hold_placed_at, h.until AS hold_until,
                CASE
                  WHEN v.claimed THEN NULL
                  WHEN a.grant_refusal IS NOT NULL THEN 'grant'
                  WHEN h.id IS NOT NULL THEN 'hold'
                  WHEN v.cooldown_until > now() THEN 'cooldown'
                  WHEN v.lease_expires_at > now() THEN 'in_flight'
                  WHEN v.hits >= ${p.limit}::int THEN 'limit'
                  ELSE 'in_flight'
                END AS kind
         FROM verdict v CROSS JOIN access a LEFT JOIN hold h ON true
       ),
       refusal AS (
         SELECT k.*,
                CASE k.kind
                  WHEN 'cooldown' THEN greatest(1, ceil(extract(epoch FROM k.cooldown_until - now())))::int
                  WHEN 'limit' THEN greatest(1, ceil(extract(epoch FROM
                                      k.oldest_hit + make_interval(secs => ${p.windowSeconds}::int) - now())))::int
                END AS seconds_left,
                CASE k.kind WHEN 'grant' THEN 'denied' WHEN 'hold' THEN 'held' ELSE 'rate_limited' END AS refused_as
         FROM kind k
       ),
       answer AS (
         SELECT r.claimed, r.kind, r.grant_refusal, r.hold_id, r.seconds_left, r.refused_as,
                CASE WHEN r.kind IN ('cooldown', 'limit') THEN r.seconds_left WHEN r.kind = 'in_flight' THEN 1
                END AS retry_after,
                format(CASE
                         WHEN r.kind = 'grant' AND r.grant_refusal = 'narrowed' THEN ${p.sayGrantNarrowed}::text
                         WHEN r.kind = 'grant' THEN ${p.sayGrantRequired}::text
                         WHEN r.kind = 'hold' AND r.hold_until IS NULL THEN ${p.sayHoldUntilReleased}::text
                         WHEN r.kind = 'hold' THEN ${p.sayHold}::text
                         WHEN r.kind = 'cooldown' THEN ${p.sayCooldown}::text
                         WHEN r.kind = 'in_flight' THEN ${p.sayInFlight}::text
                         WHEN r.kind = 'limit' THEN ${p.sayLimit}::text
                       END, ${factColumns(p)}) AS refusal_message
         FROM refusal r
       ),
       ${budgetCte(p, sql`SELECT ${p.actorId}, now(), 1 FROM answer r WHERE NOT r.claimed AND ${p.caller}::text IS NOT NULL`)},
       ins AS (
         ${insertAttempt(
           p,
           {
             outcome: sql`CASE WHEN r.claimed THEN 'pending' ELSE r.refused_as END`,
             observedStatus: sql`NULL::text`,
             message: sql`r.refusal_message`,
             retryAfterSeconds: sql`r.retry_after`,
             holdId: sql`CASE WHEN r.kind = 'hold' THEN r.hold_id ELSE ${p.holdId}::uuid END`,
             final: sql`NOT r.claimed`,
           },
           sql`FROM answer r WHERE r.claimed OR coalesce((SELECT refusals FROM budget), 0) <= ${p.refusalsPerCaller}::int`,
         )}
       )
       -- the attempt's columns are NULL when a refusal past the caller's limit was not stored
       SELECT a.claimed, a.kind, a.grant_refusal, a.hold_id AS refusal_hold_id, a.seconds_left, a.refused_as,
              a.retry_after AS refusal_retry_after, a.refusal_message, ins.id IS NOT NULL AS stored, ins.*
       FROM answer a LEFT JOIN ins ON true`;
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

/** The finalise's outbox CTE: one `attempt.unknown` event when the outcome is unknown. */
const ATTEMPT_UNKNOWN_EVENT = trusted(
  outboxInsert({
    type: `'attempt.unknown'`,
    servicePrincipalId: 'fin.service_principal_id',
    jobId: 'fin.job_id',
    data: `jsonb_build_object('attemptId', fin.id, 'servicePrincipalId', fin.service_principal_id, 'jobId', fin.job_id,
           'trigger', fin.trigger, 'actor', jsonb_build_object('type', fin.actor_type, 'id', fin.actor_id, 'name', fin.actor_name),
           'operation', fin.operation, 'outcome', fin.outcome, 'observedStatus', fin.observed_status,
           'quarantineReason', fin.quarantine_reason,
           'message', fin.message, 'createdAt', fin.created_at, 'finishedAt', fin.finished_at)`,
    from: `FROM fin WHERE fin.outcome = 'unknown'`,
  }),
);

/**
 * The finalise: writes the outcome, releases the lease (only if still ours), starts the cool-down after a start,
 * and reports an unknown outcome to the notification outbox (DESIGN 2d).
 */
function finaliseStatement(input: FinaliseInput): Sql {
  const p = params({
    attemptId: input.attemptId,
    outcome: input.outcome,
    observedStatus: input.observedStatus,
    quarantineReason: input.quarantineReason,
    message: input.message,
    retryAfterSeconds: input.retryAfterSeconds,
    graphRequestIds: input.graphRequestIds,
    durationMs: input.durationMs,
    jobKey: input.jobKey,
    cooldownSeconds: input.cooldownSeconds,
    wouldStart: input.wouldStart ?? null,
    approvalId: input.approvalId ?? null,
  });
  const ours = sql`lease_attempt_id = ${p.attemptId}::uuid`;
  return sql`WITH fin AS (
         UPDATE attempts SET outcome = ${p.outcome}::"AttemptOutcome", finished_at = now(),
                observed_status = ${p.observedStatus}::text, quarantine_reason = ${p.quarantineReason}::text,
                message = ${p.message}::text, retry_after_seconds = ${p.retryAfterSeconds}::int,
                graph_request_ids = ${p.graphRequestIds}::text[],
                duration_ms = least(greatest(${p.durationMs}::bigint, 0), 2147483647)::int,
                would_start = ${p.wouldStart}::boolean, approval_id = coalesce(approval_id, ${p.approvalId}::uuid)
         WHERE id = ${p.attemptId}::uuid AND outcome = 'pending'
         RETURNING ${ATTEMPT_COLUMNS}
       ),
       rel AS (
         UPDATE job_guards SET
           lease_attempt_id = CASE WHEN ${ours} THEN NULL ELSE lease_attempt_id END,
           lease_expires_at = CASE WHEN ${ours} THEN NULL ELSE lease_expires_at END,
           cooldown_until = CASE WHEN ${p.cooldownSeconds}::int IS NULL THEN cooldown_until
                                 ELSE greatest(cooldown_until, now() + make_interval(secs => ${p.cooldownSeconds}::int)) END
         WHERE job_key = ${p.jobKey}::text AND (${ours} OR ${p.cooldownSeconds}::int IS NOT NULL)
         RETURNING 1
       ),
       notify AS (${ATTEMPT_UNKNOWN_EVENT})
       SELECT fin.* FROM fin LEFT JOIN (SELECT count(*) AS n FROM rel) r ON true`;
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

function firstRow<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (!row) {
    throw new Error(`${what} returned no row`);
  }
  return row;
}

/**
 * The guard's two database round trips (DESIGN section 3, cost budget): the claim and the finalise, each one
 * statement, run as named prepared statements (parsed and planned once per connection).
 */
@Injectable()
export class GuardRepository implements GuardStore {
  constructor(private readonly prisma: PrismaService) {}

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const rows = await this.prisma.query<ClaimRow>(claimStatement(claimParams(input)), 'sjg_guard_claim');
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
    const p = params({
      ...identityValues(input),
      outcome: input.outcome,
      observedStatus: input.observedStatus,
      message: input.message,
      retryAfterSeconds: input.retryAfterSeconds,
    });
    const statement = sql`WITH ${budgetCte(p, sql`VALUES (${p.actorId}, now(), 1)`)}
       ${insertAttempt(
         p,
         {
           outcome: sql`${p.outcome}::text`,
           observedStatus: sql`${p.observedStatus}::text`,
           message: sql`${p.message}::text`,
           retryAfterSeconds: sql`${p.retryAfterSeconds}::int`,
           holdId: sql`${p.holdId}::uuid`,
           final: sql`true`,
         },
         sql`WHERE (SELECT refusals FROM budget) <= ${p.refusalsPerCaller}::int`,
       )}`;
    const rows = await this.prisma.query<AttemptRow>(statement, 'sjg_guard_record_final');
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
      sql`replica_id = ${replicaId} AND created_at < ${createdBefore}::timestamptz`,
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
      sql`SELECT ${ATTEMPT_COLUMNS} FROM attempts
          WHERE outcome = 'pending' AND ${where} AND ${position}
          ORDER BY created_at, id LIMIT ${limit}::int`,
    );
    return rows.map(toAttemptView);
  }
}
