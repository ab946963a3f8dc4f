import { Injectable } from '@nestjs/common';
import { outboxInsert } from './notification.repository';
import { PrismaService } from './prisma.service';
import { type Sql, firstRow, join, sql, trusted } from './sql';

/** A hold as the API shows it (DESIGN 2c). `active`: not released and `until` not passed. */
export interface HoldView {
  holdId: string;
  servicePrincipalId: string;
  /** null: every job of the service principal. */
  jobId: string | null;
  reason: string;
  until: string | null;
  placedAt: string;
  placedBy: { id: string; name: string | null };
  releasedAt: string | null;
  releasedBy: { id: string; name: string | null } | null;
  active: boolean;
}

export interface PlaceHoldInput {
  holdId: string;
  servicePrincipalId: string;
  jobId: string | null;
  reason: string;
  until: Date | null;
  placedBy: { id: string; name: string | null };
}

export interface HoldFilter {
  servicePrincipalId?: string;
  jobId?: string;
  /** Only holds that apply now (default), or every hold. */
  activeOnly: boolean;
  limit: number;
}

interface HoldRow {
  id: string;
  service_principal_id: string;
  job_id: string | null;
  reason: string;
  until: Date | null;
  placed_at: Date;
  placed_by_id: string;
  placed_by_name: string | null;
  released_at: Date | null;
  released_by_id: string | null;
  released_by_name: string | null;
  active: boolean;
}

/** Applies now: not released, and `until` not passed. Expired holds stop applying by themselves. */
const ACTIVE = trusted(`released_at IS NULL AND (until IS NULL OR until > now())`);

const HOLD_COLUMNS = sql`id, service_principal_id, job_id, reason, until, placed_at, placed_by_id, placed_by_name,
  released_at, released_by_id, released_by_name, (${ACTIVE}) AS active`;

/** The data of `hold.placed`, and the start of `hold.released`'s, from a CTE row `h` of holds. */
const HOLD_EVENT_DATA = `'holdId', h.id, 'servicePrincipalId', h.service_principal_id, 'jobId', h.job_id,
  'reason', h.reason, 'until', h.until, 'placedAt', h.placed_at,
  'placedBy', jsonb_build_object('id', h.placed_by_id, 'name', h.placed_by_name)`;

/** The statement's admin event and its notification for every row of the CTE `h` (placed or released). */
function holdEvents(action: 'hold.placed' | 'hold.released', actor: Sql, details: string, data: string): Sql {
  return sql`ev AS (
         INSERT INTO admin_events (id, actor_id, actor_name, action, subject_id, details)
         SELECT gen_random_uuid(), ${actor}, ${action}, h.id::text, jsonb_build_object(${trusted(details)})
         FROM h
         RETURNING 1
       ),
       notify AS (${trusted(
         outboxInsert({
           type: `'${action}'`,
           servicePrincipalId: 'h.service_principal_id',
           jobId: 'h.job_id',
           data: `jsonb_build_object(${data})`,
           from: 'FROM h',
         }),
       )})`;
}

function view(r: HoldRow): HoldView {
  return {
    holdId: r.id,
    servicePrincipalId: r.service_principal_id,
    jobId: r.job_id,
    reason: r.reason,
    until: r.until ? r.until.toISOString() : null,
    placedAt: r.placed_at.toISOString(),
    placedBy: { id: r.placed_by_id, name: r.placed_by_name },
    releasedAt: r.released_at ? r.released_at.toISOString() : null,
    releasedBy: r.released_by_id === null ? null : { id: r.released_by_id, name: r.released_by_name },
    active: r.active,
  };
}

/**
 * Holds (DESIGN 2c). The guard's claim statement reads them itself (no extra round trip); this repository
 * places, lists and releases them. Placing and releasing write the admin event and the notification
 * (`hold.placed`, `hold.released`, DESIGN 2d) in the same statement: no event without its change, and no change
 * without its event.
 */
@Injectable()
export class HoldRepository {
  constructor(private readonly prisma: PrismaService) {}

  async place(input: PlaceHoldInput): Promise<HoldView> {
    const rows = await this.prisma.query<HoldRow>(
      sql`WITH h AS (
         INSERT INTO holds (id, service_principal_id, job_id, reason, until, placed_by_id, placed_by_name)
         VALUES (${input.holdId}::uuid, lower(${input.servicePrincipalId}), ${input.jobId}, ${input.reason},
                 ${input.until ? input.until.toISOString() : null}::timestamptz, ${input.placedBy.id},
                 ${input.placedBy.name})
         RETURNING ${HOLD_COLUMNS}
       ),
       ${holdEvents(
         'hold.placed',
         sql`h.placed_by_id, h.placed_by_name`,
         `'servicePrincipalId', h.service_principal_id, 'jobId', h.job_id, 'reason', h.reason, 'until', h.until`,
         HOLD_EVENT_DATA,
       )}
       SELECT h.* FROM h`,
    );
    return view(firstRow(rows, 'placing the hold'));
  }

  async get(holdId: string): Promise<HoldView | null> {
    const rows = await this.prisma.query<HoldRow>(
      sql`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = ${holdId}::uuid`,
    );
    return rows[0] ? view(rows[0]) : null;
  }

  async list(filter: HoldFilter): Promise<HoldView[]> {
    const where: Sql[] = [sql`true`];
    if (filter.servicePrincipalId !== undefined) {
      where.push(sql`service_principal_id = ${filter.servicePrincipalId.toLowerCase()}`);
    }
    if (filter.jobId !== undefined) {
      // A hold on the whole service principal applies to the job too.
      where.push(sql`(job_id IS NULL OR job_id = ${filter.jobId})`);
    }
    if (filter.activeOnly) {
      where.push(ACTIVE);
    }
    const rows = await this.prisma.query<HoldRow>(
      sql`SELECT ${HOLD_COLUMNS} FROM holds WHERE ${join(where, ' AND ')}
          ORDER BY placed_at DESC, id DESC LIMIT ${filter.limit}::int`,
    );
    return rows.map(view);
  }

  /** Active holds of the given service principals (job views and watch lists), oldest first. */
  async activeFor(servicePrincipalIds: string[]): Promise<HoldView[]> {
    if (servicePrincipalIds.length === 0) {
      return [];
    }
    const ids = servicePrincipalIds.map((s) => s.toLowerCase());
    const rows = await this.prisma.query<HoldRow>(
      sql`SELECT ${HOLD_COLUMNS} FROM holds WHERE service_principal_id = ANY(${ids}::text[]) AND ${ACTIVE}
          ORDER BY placed_at, id`,
    );
    return rows.map(view);
  }

  /** Releases an unreleased hold (and writes `hold.released`); null when it was not found or already released. */
  async release(holdId: string, by: { id: string; name: string | null }): Promise<HoldView | null> {
    const rows = await this.prisma.query<HoldRow>(
      sql`WITH h AS (
         UPDATE holds SET released_at = now(), released_by_id = ${by.id}::text, released_by_name = ${by.name}::text
         WHERE id = ${holdId}::uuid AND released_at IS NULL
         RETURNING ${HOLD_COLUMNS}
       ),
       ${holdEvents(
         'hold.released',
         sql`h.released_by_id, h.released_by_name`,
         `'servicePrincipalId', h.service_principal_id, 'jobId', h.job_id, 'reason', h.reason, 'placedBy', h.placed_by_id`,
         `${HOLD_EVENT_DATA}, 'releasedAt', h.released_at,
          'releasedBy', jsonb_build_object('id', h.released_by_id, 'name', h.released_by_name)`,
       )}
       SELECT h.* FROM h`,
    );
    return rows[0] ? view(rows[0]) : null;
  }
}

/** The first active hold that applies to a job among `holds` (a job hold or its service principal's), or null. */
export function holdApplying(holds: HoldView[], servicePrincipalId: string, jobId: string): HoldView | null {
  const sp = servicePrincipalId.toLowerCase();
  return (
    holds.find((h) => h.active && h.servicePrincipalId === sp && (h.jobId === null || h.jobId === jobId)) ??
    null
  );
}
