import { Injectable } from '@nestjs/common';
import { outboxInsert } from './notification.repository';
import { PrismaService } from './prisma.service';

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

const HOLD_COLUMNS = `id, service_principal_id, job_id, reason, until, placed_at, placed_by_id, placed_by_name,
  released_at, released_by_id, released_by_name,
  (released_at IS NULL AND (until IS NULL OR until > now())) AS active`;

/** Applies now: not released, and `until` not passed. Expired holds stop applying by themselves. */
const ACTIVE = `released_at IS NULL AND (until IS NULL OR until > now())`;

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
    const rows = await this.prisma.$queryRawUnsafe<HoldRow[]>(
      `WITH h AS (
         INSERT INTO holds (id, service_principal_id, job_id, reason, until, placed_by_id, placed_by_name)
         VALUES ($1::uuid, lower($2), $3, $4, $5::timestamptz, $6, $7)
         RETURNING ${HOLD_COLUMNS}
       ),
       ev AS (
         INSERT INTO admin_events (id, actor_id, actor_name, action, subject_id, details)
         SELECT gen_random_uuid(), h.placed_by_id, h.placed_by_name, 'hold.placed', h.id::text,
                jsonb_build_object('servicePrincipalId', h.service_principal_id, 'jobId', h.job_id,
                                   'reason', h.reason, 'until', h.until)
         FROM h
         RETURNING 1
       ),
       notify AS (${outboxInsert({
         type: `'hold.placed'`,
         servicePrincipalId: 'h.service_principal_id',
         jobId: 'h.job_id',
         data: `jsonb_build_object('holdId', h.id, 'servicePrincipalId', h.service_principal_id, 'jobId', h.job_id,
                  'reason', h.reason, 'until', h.until, 'placedAt', h.placed_at,
                  'placedBy', jsonb_build_object('id', h.placed_by_id, 'name', h.placed_by_name))`,
         from: 'FROM h',
       })})
       SELECT h.* FROM h`,
      input.holdId,
      input.servicePrincipalId,
      input.jobId,
      input.reason,
      input.until ? input.until.toISOString() : null,
      input.placedBy.id,
      input.placedBy.name,
    );
    const row = rows[0];
    if (!row) {
      throw new Error('placing the hold returned no row');
    }
    return view(row);
  }

  async get(holdId: string): Promise<HoldView | null> {
    const rows = await this.prisma.$queryRawUnsafe<HoldRow[]>(
      `SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1::uuid`,
      holdId,
    );
    return rows[0] ? view(rows[0]) : null;
  }

  async list(filter: HoldFilter): Promise<HoldView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.servicePrincipalId !== undefined) {
      params.push(filter.servicePrincipalId.toLowerCase());
      where.push(`service_principal_id = $${params.length}`);
    }
    if (filter.jobId !== undefined) {
      params.push(filter.jobId);
      // A hold on the whole service principal applies to the job too.
      where.push(`(job_id IS NULL OR job_id = $${params.length})`);
    }
    if (filter.activeOnly) {
      where.push(ACTIVE);
    }
    const rows = await this.prisma.$queryRawUnsafe<HoldRow[]>(
      `SELECT ${HOLD_COLUMNS} FROM holds ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY placed_at DESC, id DESC LIMIT ${Math.floor(filter.limit)}`,
      ...params,
    );
    return rows.map(view);
  }

  /** Active holds of the given service principals (job views and watch lists), oldest first. */
  async activeFor(servicePrincipalIds: string[]): Promise<HoldView[]> {
    if (servicePrincipalIds.length === 0) {
      return [];
    }
    const rows = await this.prisma.$queryRawUnsafe<HoldRow[]>(
      `SELECT ${HOLD_COLUMNS} FROM holds WHERE service_principal_id = ANY($1::text[]) AND ${ACTIVE}
       ORDER BY placed_at, id`,
      servicePrincipalIds.map((s) => s.toLowerCase()),
    );
    return rows.map(view);
  }

  /** Releases an unreleased hold (and writes `hold.released`); null when it was not found or already released. */
  async release(holdId: string, by: { id: string; name: string | null }): Promise<HoldView | null> {
    const rows = await this.prisma.$queryRawUnsafe<HoldRow[]>(
      `WITH h AS (
         UPDATE holds SET released_at = now(), released_by_id = $2, released_by_name = $3
         WHERE id = $1::uuid AND released_at IS NULL
         RETURNING ${HOLD_COLUMNS}
       ),
       ev AS (
         INSERT INTO admin_events (id, actor_id, actor_name, action, subject_id, details)
         SELECT gen_random_uuid(), $2, $3, 'hold.released', h.id::text,
                jsonb_build_object('servicePrincipalId', h.service_principal_id, 'jobId', h.job_id,
                                   'reason', h.reason, 'placedBy', h.placed_by_id)
         FROM h
         RETURNING 1
       ),
       notify AS (${outboxInsert({
         type: `'hold.released'`,
         servicePrincipalId: 'h.service_principal_id',
         jobId: 'h.job_id',
         data: `jsonb_build_object('holdId', h.id, 'servicePrincipalId', h.service_principal_id, 'jobId', h.job_id,
                  'reason', h.reason, 'until', h.until, 'placedAt', h.placed_at,
                  'placedBy', jsonb_build_object('id', h.placed_by_id, 'name', h.placed_by_name),
                  'releasedAt', h.released_at,
                  'releasedBy', jsonb_build_object('id', h.released_by_id, 'name', h.released_by_name))`,
         from: 'FROM h',
       })})
       SELECT h.* FROM h`,
      holdId,
      by.id,
      by.name,
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
