import { Injectable } from '@nestjs/common';
import { RECOVERY_STATES, type RecoveryState } from '@app/common';
import { PrismaService } from './prisma.service';
import type { AdminEventInput } from './grant.repository';
import { outboxInsert } from './notification.repository';
import { type Sql, firstRow, params, sql, trusted } from './sql';

/** A watched job as the API lists it. */
export interface RecoveryWatchView {
  watchId: string;
  servicePrincipalId: string;
  jobId: string;
  createdAt: string;
  createdBy: string;
  state: RecoveryState;
  lastSeenStatus: string | null;
  lastQuarantineReason: string | null;
  lastSeenAt: string | null;
  failedAttempts: number;
  nextTryAt: string | null;
  lastAttemptId: string | null;
  lastMessage: string | null;
}

/** A watch as the sweep reads and rewrites it (every mutable column, so one bulk statement writes it back). */
export interface WatchRecord {
  id: string;
  servicePrincipalId: string;
  jobId: string;
  state: RecoveryState;
  lastSeenStatus: string | null;
  lastQuarantineReason: string | null;
  lastSeenAt: Date | null;
  failedAttempts: number;
  nextTryAt: Date | null;
  lastAttemptId: string | null;
  lastMessage: string | null;
  /** Graph's seriesBegan of the quarantine seen (the quarantine clock); null or absent when not quarantined. */
  quarantineSince?: Date | null;
}

export interface SweepCounts {
  jobsRead: number;
  started: number;
  skipped: number;
  needsAttention: number;
  errors: number;
  graphRequests: number;
  message: string | null;
}

export interface RecoverySweepView extends SweepCounts {
  sweepId: string;
  startedAt: string;
  finishedAt: string | null;
  leader: string;
}

/** Keyset position: the (timestamp, id) of the last row of the previous page. */
export interface KeysetPosition {
  at: Date;
  id: string;
}

interface WatchRow {
  id: string;
  service_principal_id: string;
  job_id: string;
  created_at: Date;
  created_by: string;
  state: string;
  last_seen_status: string | null;
  last_quarantine_reason: string | null;
  last_seen_at: Date | null;
  failed_attempts: number;
  next_try_at: Date | null;
  last_attempt_id: string | null;
  last_message: string | null;
  quarantine_since: Date | null;
}

interface SweepRow {
  id: string;
  started_at: Date;
  finished_at: Date | null;
  leader: string;
  jobs_read: number;
  started: number;
  skipped: number;
  needs_attention: number;
  errors: number;
  graph_requests: number;
  message: string | null;
}

const WATCH_COLUMNS = trusted(`id, service_principal_id, job_id, created_at, created_by, state::text AS state,
  last_seen_status, last_quarantine_reason, last_seen_at, failed_attempts, next_try_at, last_attempt_id, last_message,
  quarantine_since`);

const SWEEP_COLUMNS =
  trusted(`id, started_at, finished_at, leader, jobs_read, started, skipped, needs_attention,
  errors, graph_requests, message`);

/** A leader and its fencing term (a bigint, as text). */
export interface LeaderTerm {
  holder: string;
  term: string;
}

/** The single row of recovery_leader. */
const LEADER_ROW_ID = 1;

function asState(value: string): RecoveryState {
  return (RECOVERY_STATES as readonly string[]).includes(value) ? (value as RecoveryState) : 'ok';
}

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

function watchView(r: WatchRow): RecoveryWatchView {
  return {
    watchId: r.id,
    servicePrincipalId: r.service_principal_id,
    jobId: r.job_id,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    state: asState(r.state),
    lastSeenStatus: r.last_seen_status,
    lastQuarantineReason: r.last_quarantine_reason,
    lastSeenAt: iso(r.last_seen_at),
    failedAttempts: r.failed_attempts,
    nextTryAt: iso(r.next_try_at),
    lastAttemptId: r.last_attempt_id,
    lastMessage: r.last_message,
  };
}

function watchRecord(r: WatchRow): WatchRecord {
  return {
    id: r.id,
    servicePrincipalId: r.service_principal_id,
    jobId: r.job_id,
    state: asState(r.state),
    lastSeenStatus: r.last_seen_status,
    lastQuarantineReason: r.last_quarantine_reason,
    lastSeenAt: r.last_seen_at,
    failedAttempts: r.failed_attempts,
    nextTryAt: r.next_try_at,
    lastAttemptId: r.last_attempt_id,
    lastMessage: r.last_message,
    quarantineSince: r.quarantine_since,
  };
}

function sweepView(r: SweepRow): RecoverySweepView {
  return {
    sweepId: r.id,
    startedAt: r.started_at.toISOString(),
    finishedAt: iso(r.finished_at),
    leader: r.leader,
    jobsRead: r.jobs_read,
    started: r.started,
    skipped: r.skipped,
    needsAttention: r.needs_attention,
    errors: r.errors,
    graphRequests: r.graph_requests,
    message: r.message,
  };
}

/** True while `leader` still holds the lease with its term: the fence of every write a sweep makes. */
function leaderHolds(leader: LeaderTerm): Sql {
  return sql`EXISTS (SELECT 1 FROM recovery_leader l
                     WHERE l.id = ${LEADER_ROW_ID}::int AND l.holder = ${leader.holder}
                       AND l.term = ${leader.term}::bigint AND l.expires_at > now())`;
}

/** An admin event for every watch of the CTE `w` (created or deleted), written by the same statement. */
function watchEvents(event: Omit<AdminEventInput, 'subjectId' | 'details'>): Sql {
  return sql`INSERT INTO admin_events (id, actor_id, actor_name, action, subject_id, details)
         SELECT gen_random_uuid(), ${event.actorId}, ${event.actorName}, ${event.action}, w.id::text,
                jsonb_build_object('servicePrincipalId', w.service_principal_id, 'jobId', w.job_id)
         FROM w`;
}

/**
 * The notification events a sweep's changes call for (DESIGN 2d), from the CTE `c` (each watch before and after)
 * joined to the watches `saved`.
 */
const WATCH_CHANGE_EVENTS = trusted(
  outboxInsert({
    type: 'ev.type',
    servicePrincipalId: 'c.service_principal_id',
    jobId: 'c.job_id',
    data: `jsonb_build_object('watchId', c.id, 'servicePrincipalId', c.service_principal_id, 'jobId', c.job_id,
                  'recoveryState', c.state, 'observedStatus', c.last_seen_status,
                  'quarantineReason', c.last_quarantine_reason, 'previousQuarantineReason', c.old_reason,
                  'quarantineSince', c.since, 'autoDisableAt', c.disable_at,
                  'daysUntilAutoDisable', CASE WHEN c.disable_at IS NOT NULL
                    THEN greatest(0, floor(extract(epoch FROM c.disable_at - c.as_of) / 86400))::int END,
                  'notice', CASE WHEN ev.type = 'job.auto_disable_approaching' THEN c.notice_due END,
                  'failedAttempts', c.failed_attempts::int, 'lastAttemptId', c.last_attempt_id,
                  'message', c.last_message)`,
    from: `FROM c JOIN saved ON saved.id = c.id::uuid
           CROSS JOIN LATERAL (VALUES
             (1, 'job.quarantined',
                 c.last_seen_status = 'quarantine' AND c.old_status IS DISTINCT FROM 'quarantine'),
             (2, 'job.quarantine_reason_changed',
                 c.last_seen_status = 'quarantine' AND c.old_status = 'quarantine'
                 AND c.last_quarantine_reason IS DISTINCT FROM c.old_reason),
             (3, 'job.needs_attention', c.state = 'needs_attention' AND c.old_state <> 'needs_attention'),
             (4, 'job.auto_disable_approaching',
                 c.notice_due IS NOT NULL AND (c.old_notice IS NULL OR c.notice_due < c.old_notice)),
             (5, 'job.recovered',
                 c.last_seen_status = 'active'
                 AND (c.old_status = 'quarantine' OR c.old_state IN ('recovering', 'backing_off', 'needs_attention')))
           ) AS ev(ord, type, fire)
           WHERE ev.fire
           ORDER BY c.id, ev.ord`,
  }),
);

/** The one statement of `saveWatches`: the records as arrays, fenced by the leader's term, as of `now`. */
function saveWatchesStatement(records: WatchRecord[], leader: LeaderTerm, now: Date): Sql {
  const col = <T>(f: (r: WatchRecord) => T): T[] => records.map(f);
  const asOf = params({ now: now.toISOString() }).now;
  return sql`WITH u AS (
         SELECT * FROM unnest(${col((r) => r.id)}::text[], ${col((r) => r.state)}::text[],
                              ${col((r) => r.lastSeenStatus)}::text[], ${col((r) => r.lastQuarantineReason)}::text[],
                              ${col((r) => iso(r.lastSeenAt))}::text[], ${col((r) => String(r.failedAttempts))}::text[],
                              ${col((r) => iso(r.nextTryAt))}::text[], ${col((r) => r.lastAttemptId)}::text[],
                              ${col((r) => r.lastMessage)}::text[], ${col((r) => iso(r.quarantineSince ?? null))}::text[])
           AS u(id, state, last_seen_status, last_quarantine_reason, last_seen_at, failed_attempts, next_try_at,
                last_attempt_id, last_message, quarantine_since)
       ),
       -- notification outbox (DESIGN 2d): the watch before and after, and the events the change calls for
       old AS (
         SELECT w.id, w.service_principal_id, w.job_id, w.state::text AS state, w.last_seen_status,
                w.last_quarantine_reason, w.quarantine_since, w.auto_disable_notice
         FROM recovery_watches w JOIN u ON w.id = u.id::uuid
         WHERE ${leaderHolds(leader)}
         FOR UPDATE OF w
       ),
       c AS (
         SELECT u.*, o.service_principal_id, o.job_id, o.state AS old_state, o.last_seen_status AS old_status,
                o.last_quarantine_reason AS old_reason, q.since, q.disable_at, ${asOf}::timestamptz AS as_of,
                CASE WHEN q.since IS NOT NULL AND q.since = o.quarantine_since THEN o.auto_disable_notice END AS old_notice,
                (SELECT min(n) FROM unnest(ARRAY[7, 1]) AS n
                  WHERE q.disable_at > ${asOf}::timestamptz
                    AND q.disable_at - ${asOf}::timestamptz <= make_interval(days => n)) AS notice_due
         FROM u JOIN old o ON o.id = u.id::uuid
         CROSS JOIN LATERAL (
           SELECT CASE WHEN u.last_seen_status = 'quarantine' THEN u.quarantine_since::timestamptz END AS since,
                  CASE WHEN u.last_seen_status = 'quarantine'
                       THEN u.quarantine_since::timestamptz + interval '28 days' END AS disable_at
         ) q
       ),
       saved AS (
         UPDATE recovery_watches AS w SET
           state = c.state::"RecoveryState",
           last_seen_status = c.last_seen_status,
           last_quarantine_reason = c.last_quarantine_reason,
           last_seen_at = c.last_seen_at::timestamptz,
           failed_attempts = c.failed_attempts::int,
           next_try_at = c.next_try_at::timestamptz,
           last_attempt_id = c.last_attempt_id::uuid,
           last_message = c.last_message,
           quarantine_since = c.since,
           auto_disable_notice = CASE WHEN c.notice_due IS NULL THEN c.old_notice
                                      ELSE least(c.notice_due, coalesce(c.old_notice, c.notice_due)) END
         FROM c
         WHERE w.id = c.id::uuid
         RETURNING w.id
       ),
       notify AS (${WATCH_CHANGE_EVENTS})
       SELECT count(*) AS n FROM saved`;
}

/**
 * Scheduled recovery's storage (DESIGN section 3a): the watch list, the sweep history and the leader lease.
 *
 * Leadership is a lease row, not an advisory lock: the sweep talks to Graph for seconds or minutes, and a
 * transaction-scoped lock would pin a pooled connection (and a transaction) for all that time. The lease is
 * claimed with one atomic INSERT .. ON CONFLICT DO UPDATE .. WHERE (expired or already ours), so concurrent
 * claims from any number of replicas are serialised by PostgreSQL on the row and exactly one wins.
 */
@Injectable()
export class RecoveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  // ------------------------------------------------------------------ leader lease

  /**
   * Claims or renews the lease for `holder` until now + leaseSeconds. Returns the leader's fencing term, or null when
   * another replica leads. The term is new on every takeover (also when the same holder comes back after its lease
   * ran out) and never reused, so a write fenced with an old term changes nothing.
   */
  async claimLeadership(holder: string, leaseSeconds: number): Promise<LeaderTerm | null> {
    const rows = await this.prisma.query<{ term: string }>(
      sql`INSERT INTO recovery_leader (id, holder, acquired_at, expires_at)
       VALUES (${LEADER_ROW_ID}::int, ${holder}, now(), now() + make_interval(secs => ${leaseSeconds}::int))
       ON CONFLICT (id) DO UPDATE SET
         holder = EXCLUDED.holder,
         expires_at = EXCLUDED.expires_at,
         acquired_at = CASE WHEN recovery_leader.holder = EXCLUDED.holder AND recovery_leader.expires_at >= now()
                            THEN recovery_leader.acquired_at ELSE EXCLUDED.acquired_at END,
         term = CASE WHEN recovery_leader.holder = EXCLUDED.holder AND recovery_leader.expires_at >= now()
                     THEN recovery_leader.term ELSE EXCLUDED.term END
       WHERE recovery_leader.expires_at < now() OR recovery_leader.holder = EXCLUDED.holder
       RETURNING term::text AS term`,
    );
    const row = rows[0];
    return row ? { holder, term: row.term } : null;
  }

  /** The heartbeat: extends the lease only if `leader` still holds it with the same term and it has not run out. */
  async renewLeadership(leader: LeaderTerm, leaseSeconds: number): Promise<boolean> {
    const n = await this.prisma.execute(
      sql`UPDATE recovery_leader SET expires_at = now() + make_interval(secs => ${leaseSeconds}::int)
       WHERE id = ${LEADER_ROW_ID}::int AND holder = ${leader.holder} AND term = ${leader.term}::bigint
         AND expires_at >= now()`,
    );
    return n === 1;
  }

  /** Gives the lease up (only if `holder` still has it), so another replica leads at its next tick. */
  async releaseLeadership(holder: string): Promise<void> {
    await this.prisma.execute(
      sql`DELETE FROM recovery_leader WHERE id = ${LEADER_ROW_ID}::int AND holder = ${holder}`,
    );
  }

  async currentLeader(): Promise<{ holder: string; expiresAt: Date } | null> {
    const rows = await this.prisma.query<{ holder: string; expires_at: Date }>(
      sql`SELECT holder, expires_at FROM recovery_leader WHERE id = ${LEADER_ROW_ID}::int`,
    );
    const row = rows[0];
    return row ? { holder: row.holder, expiresAt: row.expires_at } : null;
  }

  // ------------------------------------------------------------------ watches (API)

  /**
   * Watches the jobs (service principal ids are stored lower-case: GUIDs compare case-insensitively).
   * Existing watches are left as they are. One admin event per created watch, in the same statement.
   */
  async createWatches(
    servicePrincipalId: string,
    jobIds: string[],
    event: Omit<AdminEventInput, 'subjectId' | 'details'>,
  ): Promise<{ watches: RecoveryWatchView[]; created: Set<string> }> {
    const sp = servicePrincipalId.toLowerCase();
    const unique = [...new Set(jobIds)];
    return this.prisma.transaction(async (tx) => {
      const inserted = await tx.query<{ id: string }>(
        sql`WITH w AS (
           INSERT INTO recovery_watches (id, service_principal_id, job_id, created_by)
           SELECT gen_random_uuid(), ${sp}, u.job_id, ${event.actorId}
           FROM unnest(${unique}::text[]) AS u(job_id)
           ON CONFLICT (service_principal_id, job_id) DO NOTHING
           RETURNING id, service_principal_id, job_id
         ),
         ev AS (${watchEvents(event)})
         SELECT id FROM w`,
      );
      const all = await tx.query<WatchRow>(
        sql`SELECT ${WATCH_COLUMNS} FROM recovery_watches
         WHERE service_principal_id = ${sp} AND job_id = ANY(${unique}::text[])
         ORDER BY created_at, id`,
      );
      return { watches: all.map(watchView), created: new Set(inserted.map((w) => w.id)) };
    });
  }

  /** One page of the watch list, oldest first, keyset on (created_at, id). */
  async listWatches(filter: {
    servicePrincipalId?: string;
    state?: RecoveryState;
    after: KeysetPosition | null;
    limit: number;
  }): Promise<RecoveryWatchView[]> {
    const p = params({
      sp: filter.servicePrincipalId?.toLowerCase() ?? null,
      state: filter.state ?? null,
      at: filter.after?.at.toISOString() ?? null,
    });
    const rows = await this.prisma.query<WatchRow>(
      sql`SELECT ${WATCH_COLUMNS} FROM recovery_watches
       WHERE (${p.sp}::text IS NULL OR service_principal_id = ${p.sp})
         AND (${p.state}::text IS NULL OR state = ${p.state}::"RecoveryState")
         AND (${p.at}::timestamptz IS NULL OR (created_at, id) > (${p.at}::timestamptz, ${filter.after?.id ?? null}::uuid))
       ORDER BY created_at, id
       LIMIT ${filter.limit}::int`,
    );
    return rows.map(watchView);
  }

  async getWatch(watchId: string): Promise<RecoveryWatchView | null> {
    const rows = await this.prisma.query<WatchRow>(
      sql`SELECT ${WATCH_COLUMNS} FROM recovery_watches WHERE id = ${watchId}::uuid`,
    );
    return rows[0] ? watchView(rows[0]) : null;
  }

  /** Deletes the watch and records the admin event (one statement); null when there was no such watch. */
  async deleteWatch(
    watchId: string,
    event: Omit<AdminEventInput, 'subjectId' | 'details'>,
  ): Promise<RecoveryWatchView | null> {
    const rows = await this.prisma.query<WatchRow>(
      sql`WITH w AS (DELETE FROM recovery_watches WHERE id = ${watchId}::uuid RETURNING ${WATCH_COLUMNS}),
       ev AS (${watchEvents(event)})
       SELECT * FROM w`,
    );
    return rows[0] ? watchView(rows[0]) : null;
  }

  async countNeedingAttention(): Promise<number> {
    const rows = await this.prisma.query<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM recovery_watches WHERE state = 'needs_attention'`,
    );
    return rows[0]?.n ?? 0;
  }

  // ------------------------------------------------------------------ the sweep

  /** Due watches (next_try_at null or reached), by id after `afterId`: the sweep pages through them. */
  async dueWatches(now: Date, afterId: string | null, limit: number): Promise<WatchRecord[]> {
    const after = params({ id: afterId }).id;
    const rows = await this.prisma.query<WatchRow>(
      sql`SELECT ${WATCH_COLUMNS} FROM recovery_watches
       WHERE (next_try_at IS NULL OR next_try_at <= ${now.toISOString()}::timestamptz)
         AND (${after}::uuid IS NULL OR id > ${after}::uuid)
       ORDER BY id
       LIMIT ${limit}::int`,
    );
    return rows.map(watchRecord);
  }

  /**
   * Writes the sweep's verdicts back in one statement (watches deleted meanwhile are simply skipped), fenced by the
   * leader's term: when `leader` no longer holds the lease (another replica took over), nothing is written, so an
   * old sweep can never overwrite a newer one's state. Returns how many watches were written. The same statement
   * writes the notification events the changes call for (DESIGN 2d): job.quarantined,
   * job.quarantine_reason_changed, job.needs_attention, job.auto_disable_approaching (7 and 1 days before
   * autoDisableAt, once each per quarantine series, as of `now`) and job.recovered.
   */
  async saveWatches(records: WatchRecord[], leader: LeaderTerm, now: Date = new Date()): Promise<number> {
    if (records.length === 0) {
      return 0;
    }
    const rows = await this.prisma.query<{ n: string }>(saveWatchesStatement(records, leader, now));
    return Number(rows[0]?.n ?? 0);
  }

  /** Records the start of a sweep, only while `leader` holds the lease; false when it no longer does. */
  async startSweep(id: string, leader: LeaderTerm, startedAt: Date): Promise<boolean> {
    const n = await this.prisma.execute(
      sql`INSERT INTO recovery_sweeps (id, leader, started_at)
       SELECT ${id}::uuid, ${leader.holder}, ${startedAt.toISOString()}::timestamptz
       WHERE ${leaderHolds(leader)}`,
    );
    return n === 1;
  }

  async finishSweep(id: string, finishedAt: Date, counts: SweepCounts): Promise<RecoverySweepView> {
    const rows = await this.prisma.query<SweepRow>(
      sql`UPDATE recovery_sweeps SET finished_at = ${finishedAt.toISOString()}::timestamptz,
         jobs_read = ${counts.jobsRead}::int, started = ${counts.started}::int, skipped = ${counts.skipped}::int,
         needs_attention = ${counts.needsAttention}::int, errors = ${counts.errors}::int,
         graph_requests = ${counts.graphRequests}::int, message = ${counts.message}
       WHERE id = ${id}::uuid
       RETURNING ${SWEEP_COLUMNS}`,
    );
    return sweepView(firstRow(rows, 'finishing the sweep'));
  }

  /** One page of the sweep history, newest first, keyset on (started_at, id). */
  async listSweeps(filter: { before: KeysetPosition | null; limit: number }): Promise<RecoverySweepView[]> {
    const at = params({ at: filter.before?.at.toISOString() ?? null }).at;
    const rows = await this.prisma.query<SweepRow>(
      sql`SELECT ${SWEEP_COLUMNS} FROM recovery_sweeps
       WHERE (${at}::timestamptz IS NULL OR (started_at, id) < (${at}::timestamptz, ${filter.before?.id ?? null}::uuid))
       ORDER BY started_at DESC, id DESC
       LIMIT ${filter.limit}::int`,
    );
    return rows.map(sweepView);
  }
}
