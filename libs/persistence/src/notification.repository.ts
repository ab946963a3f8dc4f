import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  NOTIFICATION_DELIVERY_STATES,
  NOTIFICATION_DESTINATION_KINDS,
  type NotificationDeliveryState,
  type NotificationDestinationKind,
  type NotificationEventType,
} from '@app/common';
import { type Listening, PrismaService } from './prisma.service';
import type { KeysetPosition } from './recovery.repository';
import { type SqlRunner, firstRow, params, sql, trusted } from './sql';

/**
 * The notification outbox (DESIGN section 2d).
 *
 * Writing: an event is one row of notification_events, inserted by the same statement or transaction as the
 * change it reports; a trigger fans it out to the matching destinations (notification_deliveries) in that same
 * statement and wakes the dispatchers at commit. Two building blocks:
 * - `outboxInsert(...)`: the SQL of an INSERT to put in a data-modifying CTE of the change's own statement;
 * - `NotificationRepository.enqueueIn(tx, event)`: one INSERT inside the change's transaction
 *   (`PrismaService.transaction`).
 *
 * Delivering: any replica claims due deliveries with FOR UPDATE SKIP LOCKED and takes a lease on each (no
 * transaction is held while the receiver answers); a delivery waits while an earlier one of the same job to the
 * same destination is still pending, so events of a job arrive in order.
 */

/** The channel the fan-out trigger notifies at commit. */
export const NOTIFICATION_CHANNEL = 'sjg_notifications';

/** SQL expressions (not values) of one event, for `outboxInsert`. */
export interface OutboxFragment {
  /** e.g. `'hold.placed'` (a quoted literal) or a CASE expression. */
  type: string;
  servicePrincipalId: string;
  jobId: string;
  /** A jsonb expression, e.g. `jsonb_build_object('holdId', h.id, ...)`. */
  data: string;
  /** The rest of the SELECT: `FROM <cte> WHERE ...`; one event per row it yields. */
  from: string;
}

/**
 * An INSERT of events into the outbox, to be used as a data-modifying CTE of the statement that makes the
 * change (PostgreSQL runs such a CTE even when nothing references it):
 *
 *   WITH placed AS (INSERT INTO holds ... RETURNING *),
 *        notify AS (${outboxInsert({ type: `'hold.placed'`, servicePrincipalId: 'placed.service_principal_id',
 *                     jobId: 'placed.job_id', data: `jsonb_build_object('holdId', placed.id)`, from: 'FROM placed' })})
 *   SELECT * FROM placed
 */
export function outboxInsert(f: OutboxFragment): string {
  return `INSERT INTO notification_events (id, type, service_principal_id, job_id, data)
         SELECT gen_random_uuid(), ${f.type}, ${f.servicePrincipalId}, ${f.jobId}, ${f.data} ${f.from}
         RETURNING id`;
}

export interface NotificationEventInput {
  type: NotificationEventType;
  servicePrincipalId: string | null;
  jobId: string | null;
  data: Record<string, unknown>;
}

export interface DestinationInput {
  kind: NotificationDestinationKind;
  name: string | null;
  url: string;
  secret: string | null;
  eventTypes: string[];
  servicePrincipalIds: string[];
  createdBy: string;
}

/** A destination as the API shows it: never its secret, and its URL only as far as it is not a secret. */
export interface DestinationView {
  destinationId: string;
  kind: NotificationDestinationKind;
  name: string | null;
  url: string;
  hasSecret: boolean;
  eventTypes: string[];
  servicePrincipalIds: string[];
  managed: boolean;
  createdAt: string;
  createdBy: string;
}

export interface DeliveryView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  eventTime: string;
  servicePrincipalId: string | null;
  jobId: string | null;
  destinationId: string;
  destinationKind: NotificationDestinationKind;
  state: NotificationDeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  deadAt: string | null;
}

/** A stored event as the dispatcher hands it to the message builders. */
export interface OutboundEvent {
  eventId: string;
  eventType: string;
  eventTime: Date;
  servicePrincipalId: string | null;
  jobId: string | null;
  data: Record<string, unknown>;
}

/** A claimed delivery: everything the dispatcher needs to send it, leased to one replica. */
export interface ClaimedDelivery extends OutboundEvent {
  deliveryId: string;
  attempt: number;
  destinationId: string;
  kind: NotificationDestinationKind;
  url: string;
  secret: string | null;
}

export interface DeliveryResult {
  deliveryId: string;
  holder: string;
  now: Date;
  status: number | null;
  error: string | null;
  /** delivered; else retry at `retryAt`, or dead when it is null. */
  delivered: boolean;
  retryAt: Date | null;
}

/** The destination NOTIFY_WEBHOOK_URL configures: one fixed id, so every replica upserts the same row. */
export const MANAGED_WEBHOOK_ID = 'e17e0000-0000-4000-8000-000000000001';

interface DestinationRow {
  id: string;
  kind: string;
  name: string | null;
  url: string;
  secret: string | null;
  event_types: string[];
  service_principal_ids: string[];
  managed: boolean;
  created_at: Date;
  created_by: string;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  type: string;
  event_time: Date;
  service_principal_id: string | null;
  job_id: string | null;
  destination_id: string;
  kind: string;
  state: string;
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  dead_at: Date | null;
}

interface ClaimRow {
  id: string;
  attempts: number;
  event_id: string;
  type: string;
  event_time: Date;
  service_principal_id: string | null;
  job_id: string | null;
  data: Record<string, unknown>;
  destination_id: string;
  kind: string;
  url: string;
  secret: string | null;
}

function asKind(value: string): NotificationDestinationKind {
  return (NOTIFICATION_DESTINATION_KINDS as readonly string[]).includes(value)
    ? (value as NotificationDestinationKind)
    : 'webhook';
}

function asState(value: string): NotificationDeliveryState {
  return (NOTIFICATION_DELIVERY_STATES as readonly string[]).includes(value)
    ? (value as NotificationDeliveryState)
    : 'pending';
}

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

/**
 * The part of a destination URL that is not a secret: a webhook's origin and path (its query may carry a
 * token); only the origin of Teams and Slack URLs, whose path and query are the credential.
 */
export function shownUrl(kind: NotificationDestinationKind, url: string): string {
  try {
    const u = new URL(url);
    return kind === 'webhook' ? `${u.origin}${u.pathname}` : `${u.origin}/…`;
  } catch {
    return '…';
  }
}

function destinationView(r: DestinationRow): DestinationView {
  const kind = asKind(r.kind);
  return {
    destinationId: r.id,
    kind,
    name: r.name,
    url: shownUrl(kind, r.url),
    hasSecret: r.secret !== null,
    eventTypes: r.event_types,
    servicePrincipalIds: r.service_principal_ids,
    managed: r.managed,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
  };
}

function deliveryView(r: DeliveryRow): DeliveryView {
  const state = asState(r.state);
  return {
    deliveryId: r.id,
    eventId: r.event_id,
    eventType: r.type,
    eventTime: r.event_time.toISOString(),
    servicePrincipalId: r.service_principal_id,
    jobId: r.job_id,
    destinationId: r.destination_id,
    destinationKind: asKind(r.kind),
    state,
    attempts: r.attempts,
    nextAttemptAt: state === 'pending' ? r.next_attempt_at.toISOString() : null,
    lastAttemptAt: iso(r.last_attempt_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    deliveredAt: iso(r.delivered_at),
    deadAt: iso(r.dead_at),
  };
}

const DESTINATION_COLUMNS =
  trusted(`id, kind::text AS kind, name, url, secret, event_types, service_principal_ids,
  managed, created_at, created_by`);

const DELIVERY_SELECT =
  trusted(`SELECT d.id, d.event_id, e.type, e.created_at AS event_time, e.service_principal_id, e.job_id,
    d.destination_id, t.kind::text AS kind, d.state::text AS state, d.attempts, d.next_attempt_at, d.last_attempt_at,
    d.last_status, d.last_error, d.created_at, d.delivered_at, d.dead_at
  FROM notification_deliveries d
  JOIN notification_events e ON e.id = d.event_id
  JOIN notification_destinations t ON t.id = d.destination_id`);

@Injectable()
export class NotificationRepository {
  constructor(private readonly prisma: PrismaService) {}

  // ------------------------------------------------------------------ writing events

  /** Writes one event inside the caller's transaction (`tx`), so it commits or rolls back with the change. */
  static async enqueueIn(tx: Pick<SqlRunner, 'execute'>, event: NotificationEventInput): Promise<string> {
    const id = randomUUID();
    await tx.execute(
      sql`INSERT INTO notification_events (id, type, service_principal_id, job_id, data)
          VALUES (${id}::uuid, ${event.type}, ${event.servicePrincipalId}, ${event.jobId},
                  ${JSON.stringify(event.data)}::jsonb)`,
    );
    return id;
  }

  /** An event that reports no other database change (its own statement). */
  async enqueue(event: NotificationEventInput): Promise<string> {
    return NotificationRepository.enqueueIn(this.prisma, event);
  }

  // ------------------------------------------------------------------ destinations

  async createDestination(input: DestinationInput): Promise<DestinationView> {
    const rows = await this.prisma.query<DestinationRow>(
      sql`INSERT INTO notification_destinations (id, kind, name, url, secret, event_types, service_principal_ids,
                                                 created_by)
          VALUES (${randomUUID()}::uuid, ${input.kind}::"NotificationDestinationKind", ${input.name}, ${input.url},
                  ${input.secret}, ${input.eventTypes}::text[], ${input.servicePrincipalIds}::text[], ${input.createdBy})
          RETURNING ${DESTINATION_COLUMNS}`,
    );
    return destinationView(firstRow(rows, 'destination insert'));
  }

  /** Creates or updates the NOTIFY_WEBHOOK_URL destination (every event, every service principal). */
  async upsertManagedWebhook(url: string, secret: string): Promise<DestinationView> {
    const rows = await this.prisma.query<DestinationRow>(
      sql`INSERT INTO notification_destinations (id, kind, name, url, secret, managed, created_by)
          VALUES (${MANAGED_WEBHOOK_ID}::uuid, 'webhook', 'NOTIFY_WEBHOOK_URL', ${url}, ${secret}, true, 'environment')
          ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret,
            event_types = '{}', service_principal_ids = '{}'
          RETURNING ${DESTINATION_COLUMNS}`,
    );
    return destinationView(firstRow(rows, 'destination upsert'));
  }

  async listDestinations(): Promise<DestinationView[]> {
    const rows = await this.prisma.query<DestinationRow>(
      sql`SELECT ${DESTINATION_COLUMNS} FROM notification_destinations ORDER BY created_at, id`,
    );
    return rows.map(destinationView);
  }

  /** Deletes the destination and its deliveries; null when there was none. */
  async deleteDestination(id: string): Promise<DestinationView | null> {
    const rows = await this.prisma.query<DestinationRow>(
      sql`DELETE FROM notification_destinations WHERE id = ${id}::uuid RETURNING ${DESTINATION_COLUMNS}`,
    );
    return rows[0] ? destinationView(rows[0]) : null;
  }

  // ------------------------------------------------------------------ deliveries (API)

  async listDeliveries(filter: {
    state?: NotificationDeliveryState;
    destinationId?: string;
    eventType?: string;
    before: KeysetPosition | null;
    limit: number;
  }): Promise<DeliveryView[]> {
    const p = params({
      state: filter.state ?? null,
      destinationId: filter.destinationId ?? null,
      eventType: filter.eventType ?? null,
      beforeAt: filter.before?.at.toISOString() ?? null,
      beforeId: filter.before?.id ?? null,
    });
    const rows = await this.prisma.query<DeliveryRow>(
      sql`${DELIVERY_SELECT}
          WHERE (${p.state}::text IS NULL OR d.state = ${p.state}::"NotificationDeliveryState")
            AND (${p.destinationId}::uuid IS NULL OR d.destination_id = ${p.destinationId}::uuid)
            AND (${p.eventType}::text IS NULL OR e.type = ${p.eventType})
            AND (${p.beforeAt}::timestamptz IS NULL OR (d.created_at, d.id) < (${p.beforeAt}::timestamptz, ${p.beforeId}::uuid))
          ORDER BY d.created_at DESC, d.id DESC
          LIMIT ${filter.limit}::int`,
    );
    return rows.map(deliveryView);
  }

  async getDelivery(id: string): Promise<DeliveryView | null> {
    const rows = await this.prisma.query<DeliveryRow>(sql`${DELIVERY_SELECT} WHERE d.id = ${id}::uuid`);
    return rows[0] ? deliveryView(rows[0]) : null;
  }

  /**
   * Puts a delivered or dead-lettered delivery back in the queue, due now, with a fresh retry schedule (the
   * event keeps its id: receivers deduplicate on it). 'pending' when it is still being tried; null when unknown.
   */
  async redeliver(id: string, now: Date): Promise<DeliveryView | 'pending' | null> {
    const updated = await this.prisma.execute(
      sql`UPDATE notification_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ${now.toISOString()}::timestamptz,
            lease_until = NULL, lease_holder = NULL, delivered_at = NULL, dead_at = NULL
          WHERE id = ${id}::uuid AND state <> 'pending'`,
    );
    const view = await this.getDelivery(id);
    if (view === null) {
      return null;
    }
    if (updated === 0) {
      return 'pending';
    }
    await this.prisma.execute(sql`SELECT pg_notify(${NOTIFICATION_CHANNEL}, '')`);
    return view;
  }

  async countByState(): Promise<Record<NotificationDeliveryState, number>> {
    const rows = await this.prisma.query<{ state: string; n: number }>(
      sql`SELECT state::text AS state, count(*)::int AS n FROM notification_deliveries GROUP BY state`,
    );
    const counts: Record<NotificationDeliveryState, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const r of rows) {
      counts[asState(r.state)] = Number(r.n);
    }
    return counts;
  }

  // ------------------------------------------------------------------ the dispatcher

  /** Calls `onWake` when an event is committed (the fan-out trigger's NOTIFY) or a delivery is requeued. */
  listen(onWake: () => void, onError: (error: unknown) => void): Listening {
    return this.prisma.listen(NOTIFICATION_CHANNEL, onWake, onError);
  }

  /**
   * Claims up to `limit` due deliveries for `holder` until now + leaseSeconds: each is the oldest pending one of
   * its job for its destination, and no other replica holds a live lease on it. One statement; the row locks
   * (SKIP LOCKED) last only for it.
   */
  async claimDue(holder: string, now: Date, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    const p = params({ now: now.toISOString(), limit, leaseSeconds, holder });
    const rows = await this.prisma.query<ClaimRow>(
      sql`WITH due AS (
         SELECT d.id FROM notification_deliveries d
         WHERE d.state = 'pending' AND d.next_attempt_at <= ${p.now}::timestamptz
           AND (d.lease_until IS NULL OR d.lease_until <= ${p.now}::timestamptz)
           AND NOT EXISTS (
             SELECT 1 FROM notification_deliveries p
             WHERE p.destination_id = d.destination_id AND p.ordering_key = d.ordering_key
               AND p.seq < d.seq AND p.state = 'pending')
         ORDER BY d.next_attempt_at, d.seq
         LIMIT ${p.limit}::int
         FOR UPDATE OF d SKIP LOCKED
       ),
       claimed AS (
         UPDATE notification_deliveries d SET
           lease_until = ${p.now}::timestamptz + make_interval(secs => ${p.leaseSeconds}::int),
           lease_holder = ${p.holder}::text, attempts = d.attempts + 1, last_attempt_at = ${p.now}::timestamptz
         FROM due WHERE d.id = due.id
         RETURNING d.id, d.attempts, d.event_id, d.destination_id
       )
       SELECT c.id, c.attempts, c.event_id, e.type, e.created_at AS event_time, e.service_principal_id, e.job_id, e.data,
              c.destination_id, t.kind::text AS kind, t.url, t.secret
       FROM claimed c
       JOIN notification_events e ON e.id = c.event_id
       JOIN notification_destinations t ON t.id = c.destination_id
       ORDER BY e.seq`,
      'sjg_notify_claim',
    );
    return rows.map((r) => ({
      deliveryId: r.id,
      attempt: r.attempts,
      eventId: r.event_id,
      eventType: r.type,
      eventTime: r.event_time,
      servicePrincipalId: r.service_principal_id,
      jobId: r.job_id,
      data: r.data,
      destinationId: r.destination_id,
      kind: asKind(r.kind),
      url: r.url,
      secret: r.secret,
    }));
  }

  /** Records a try's result, only while `holder` still holds the lease. False when the lease was lost. */
  async recordResult(r: DeliveryResult): Promise<boolean> {
    const state: NotificationDeliveryState = r.delivered
      ? 'delivered'
      : r.retryAt === null
        ? 'dead'
        : 'pending';
    const p = params({ state, now: r.now.toISOString() });
    const rows = await this.prisma.query<{ id: string }>(
      sql`UPDATE notification_deliveries SET
         state = ${p.state}::"NotificationDeliveryState", lease_until = NULL, lease_holder = NULL,
         last_status = ${r.status}::int, last_error = ${r.error}::text,
         next_attempt_at = COALESCE(${r.retryAt?.toISOString() ?? null}::timestamptz, next_attempt_at),
         delivered_at = CASE WHEN ${p.state}::text = 'delivered' THEN ${p.now}::timestamptz END,
         dead_at = CASE WHEN ${p.state}::text = 'dead' THEN ${p.now}::timestamptz END
       WHERE id = ${r.deliveryId}::uuid AND lease_holder = ${r.holder}::text AND state = 'pending'
       RETURNING id`,
      'sjg_notify_result',
    );
    return rows.length === 1;
  }

  /**
   * Deletes up to `limit` events older than `before` whose every delivery was delivered (or that matched no
   * destination), with their deliveries. Pending and dead-lettered ones stay (visible, redeliverable).
   */
  async purgeDelivered(before: Date, limit: number): Promise<number> {
    return this.prisma.execute(
      sql`DELETE FROM notification_events WHERE id IN (
         SELECT e.id FROM notification_events e
         WHERE e.created_at < ${before.toISOString()}::timestamptz
           AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.event_id = e.id AND d.state <> 'delivered')
         ORDER BY e.created_at
         LIMIT ${limit}::int)`,
    );
  }

  /** Earliest time a pending delivery becomes due (for the dispatcher's next wake-up), or null. */
  async nextDueAt(): Promise<Date | null> {
    const rows = await this.prisma.query<{ at: Date | null }>(
      sql`SELECT min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) AS at
          FROM notification_deliveries WHERE state = 'pending'`,
    );
    return rows[0]?.at ?? null;
  }
}
