import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { Readable } from 'node:stream';
import { OUTCOMES, type AttemptView, type Operation, type Trigger, GUID_PATTERN } from '@app/common';
import { PERSISTENCE_OPTIONS, type PersistenceOptions, PrismaService, createPool } from './prisma.service';
import {
  ATTEMPT_COLUMNS,
  ATTEMPT_RECORDS,
  PENDING_AS_ATTEMPTS,
  type AttemptRow,
  toAttemptView,
} from './attempt.mapper';
import { type Sql, join, sql, trusted } from './sql';

/** Outcomes as stored: the final ones plus `pending` (a decision in flight, or one a crash left open). */
export const STORED_OUTCOMES = ['pending', ...OUTCOMES] as const;
export type StoredOutcome = (typeof STORED_OUTCOMES)[number];

/** Filters of the audit query (all optional, combined with AND). `from` is inclusive, `to` exclusive. */
export interface AttemptFilter {
  servicePrincipalId?: string;
  jobId?: string;
  outcomes?: StoredOutcome[];
  actorId?: string;
  trigger?: Trigger;
  operation?: Operation;
  from?: Date;
  to?: Date;
}

/** Position in the newest-first order: (created_at, id) descending. */
export interface AttemptKey {
  createdAt: Date;
  id: string;
}

export interface AttemptPage {
  items: AttemptView[];
  /** Key of the last item when more rows follow, else null. */
  next: AttemptKey | null;
}

export type OutcomeCounts = Record<StoredOutcome, number>;

export interface JobGroup {
  servicePrincipalId: string;
  jobId: string;
  total: number;
  byOutcome: OutcomeCounts;
}

export interface ActorGroup {
  actorId: string;
  actorName: string | null;
  total: number;
  byOutcome: OutcomeCounts;
}

export interface AttemptStats {
  total: number;
  byOutcome: OutcomeCounts;
}

/** A running export: `rows` emits AttemptView objects (object mode); `close` ends it early. */
export interface AttemptExport {
  rows: Readable;
  close(): void;
}

/** Rows per keyset batch while exporting. */
export const EXPORT_BATCH_ROWS = 1000;

export function emptyOutcomeCounts(): OutcomeCounts {
  const counts = {} as OutcomeCounts;
  for (const o of STORED_OUTCOMES) {
    counts[o] = 0;
  }
  return counts;
}

function isStoredOutcome(value: string): value is StoredOutcome {
  return (STORED_OUTCOMES as readonly string[]).includes(value);
}

/**
 * WHERE clause of a filter. Every combination is served by an index whose tail is (created_at DESC, id DESC):
 * equality columns first, then the time range and the keyset position, so a page is an ordered index range scan
 * that stops after `limit` rows.
 */
export function whereClause(filter: AttemptFilter, after: AttemptKey | null = null): Sql {
  const parts: Sql[] = [];
  if (filter.servicePrincipalId !== undefined) {
    parts.push(sql`service_principal_id = ${filter.servicePrincipalId}`);
  }
  if (filter.jobId !== undefined) {
    parts.push(sql`job_id = ${filter.jobId}`);
  }
  if (filter.actorId !== undefined) {
    parts.push(sql`actor_id = ${filter.actorId}`);
  }
  if (filter.trigger !== undefined) {
    parts.push(sql`trigger = ${filter.trigger}::"AttemptTrigger"`);
  }
  if (filter.operation !== undefined) {
    parts.push(sql`operation = ${filter.operation}::"AttemptOperation"`);
  }
  const outcomes = filter.outcomes ?? [];
  if (outcomes.length === 1) {
    parts.push(sql`outcome = ${outcomes[0]}::"AttemptOutcome"`);
  } else if (outcomes.length > 1) {
    const list = join(
      outcomes.map((o) => sql`${o}::"AttemptOutcome"`),
      ', ',
    );
    parts.push(sql`outcome IN (${list})`);
  }
  if (filter.from !== undefined) {
    parts.push(sql`created_at >= ${filter.from.toISOString()}::timestamptz`);
  }
  if (filter.to !== undefined) {
    parts.push(sql`created_at < ${filter.to.toISOString()}::timestamptz`);
  }
  if (after !== null) {
    parts.push(sql`(created_at, id) < (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)`);
  }
  return parts.length > 0 ? sql`WHERE ${join(parts, ' AND ')}` : sql``;
}

/** A row count as SQL text, not a parameter: the planner sees the LIMIT. */
function rowLimit(n: number): Sql {
  return trusted(String(Math.max(0, Math.floor(Number(n)))));
}

/**
 * Where a filter's rows can be: final rows are in attempts, pending ones in pending_attempts. A filter on outcomes
 * reads only the table that can hold them, as one plain statement (the union costs the planner about 0.1 ms).
 */
function tablesOf(filter: AttemptFilter): 'final' | 'pending' | 'both' {
  const outcomes = filter.outcomes ?? [];
  if (outcomes.length === 0) {
    return 'both';
  }
  const pending = outcomes.includes('pending');
  return !pending ? 'final' : outcomes.every((o) => o === 'pending') ? 'pending' : 'both';
}

/** The relation named `attempts` that holds the filter's rows. */
function recordsOf(filter: AttemptFilter): Sql {
  const tables = tablesOf(filter);
  return tables === 'final' ? sql`attempts` : tables === 'pending' ? PENDING_AS_ATTEMPTS : ATTEMPT_RECORDS;
}

/**
 * The statements of the audit reads; exported so tests can EXPLAIN exactly what the repository runs.
 *
 * A page over both tables takes the first rows in its order from attempts and from pending_attempts, each
 * limited, and merges them: the attempts side is the very statement a page of final rows alone would be (an
 * ordered index range that stops after `limit` rows), whatever the planner guesses about the pending side.
 */
export function listQuery(filter: AttemptFilter, limit: number, after: AttemptKey | null): Sql {
  const where = whereClause(filter, after);
  const first = sql`ORDER BY created_at DESC, id DESC LIMIT ${rowLimit(limit + 1)}`;
  if (tablesOf(filter) !== 'both') {
    return sql`SELECT ${ATTEMPT_COLUMNS} FROM ${recordsOf(filter)} ${where} ${first}`;
  }
  return sql`(SELECT ${ATTEMPT_COLUMNS} FROM attempts ${where} ${first})
             UNION ALL (SELECT ${ATTEMPT_COLUMNS} FROM ${PENDING_AS_ATTEMPTS} ${where} ${first})
             ${first}`;
}

export function getQuery(attemptId: string): Sql {
  return sql`SELECT ${ATTEMPT_COLUMNS} FROM ${ATTEMPT_RECORDS} WHERE id = ${attemptId}::uuid`;
}

export function statsQuery(filter: AttemptFilter): Sql {
  return sql`SELECT outcome::text AS outcome, count(*)::int AS n FROM ${recordsOf(filter)} ${whereClause(filter)}
             GROUP BY outcome`;
}

/** Counts by outcome of the `top` groups (jobs or actors) with the most attempts over the filter. */
function groupedStatsQuery(filter: AttemptFilter, top: number, by: 'job' | 'actor'): Sql {
  const keys = trusted(by === 'job' ? 'service_principal_id, job_id' : 'actor_id');
  const name = trusted(by === 'job' ? '' : 'max(actor_name) AS actor_name, ');
  return sql`WITH g AS (
         SELECT ${keys}, ${name}outcome::text AS outcome, count(*)::int AS n
         FROM ${recordsOf(filter)} ${whereClause(filter)}
         GROUP BY ${keys}, outcome
       )
       SELECT ${keys}, ${name}sum(n)::int AS total, jsonb_object_agg(outcome, n) AS by_outcome
       FROM g GROUP BY ${keys}
       ORDER BY total DESC, ${keys}
       LIMIT ${rowLimit(top)}`;
}

export function statsByJobQuery(filter: AttemptFilter, top: number): Sql {
  return groupedStatsQuery(filter, top, 'job');
}

export function statsByActorQuery(filter: AttemptFilter, top: number): Sql {
  return groupedStatsQuery(filter, top, 'actor');
}

/** An export whose consumer stalls this long loses its snapshot (the server ends the idle transaction). */
export const EXPORT_IDLE_TIMEOUT_MS = 300_000;

/**
 * Every row matching a filter, newest first, read in keyset batches of `batchSize` rows (each one an ordered
 * index range scan, like a page), all inside one REPEATABLE READ, READ ONLY transaction: the export is one
 * consistent snapshot of the moment it began (a row committed later, even with an older created_at, or a
 * pending row finalised meanwhile, does not change it). Backpressure: the next batch is read only when the
 * consumer has drained the previous one; the export holds one connection of the export pool (never the
 * guard's) until it ends, is closed, or its consumer stalls past EXPORT_IDLE_TIMEOUT_MS.
 */
class KeysetExport extends Readable {
  private after: AttemptKey | null = null;
  private reading = false;
  private done = false;
  /** The next batch, read while the consumer works through the current one (at most one ahead). */
  private next: Promise<AttemptRow[]> | null = null;
  private client: PoolClient | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly where: AttemptFilter,
    private readonly batchSize: number,
  ) {
    super({ objectMode: true, highWaterMark: batchSize });
  }

  /** Takes a connection and opens the snapshot; the first batch's query fixes it. */
  async begin(): Promise<void> {
    const client = await this.pool.connect();
    this.client = client;
    // A connection lost while the consumer stalls (the idle timeout below, a restart) ends this export at once,
    // instead of at the consumer's next read.
    client.on('error', this.lost);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${EXPORT_IDLE_TIMEOUT_MS}`);
    } catch (error) {
      this.releaseClient(true);
      throw error;
    }
  }

  /** Reads one batch after the current position, in the export's snapshot. */
  async fetch(): Promise<AttemptRow[]> {
    const client = this.client;
    if (client === null) {
      throw new Error('export is closed');
    }
    const { rows } = await client.query<AttemptRow>(
      listQuery(this.where, this.batchSize, this.after).toQuery(),
    );
    return rows;
  }

  private readonly lost = (error: Error): void => {
    this.destroy(error);
  };

  /** Ends the snapshot: COMMIT and back to the pool when it completed, else the connection is discarded. */
  private releaseClient(discard: boolean): void {
    const client = this.client;
    this.client = null;
    if (client === null) {
      return;
    }
    client.off('error', this.lost);
    if (discard) {
      client.release(true);
      return;
    }
    client.query('COMMIT').then(
      () => client.release(),
      () => client.release(true),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Closed early or failed: a query may still be in flight, so the connection is discarded, not reused.
    this.releaseClient(true);
    callback(error);
  }

  /** Moves past `rows`, starts reading the batch after them, and hands them to the consumer. */
  pushBatch(rows: AttemptRow[]): void {
    const more = rows.length > this.batchSize;
    const batch = more ? rows.slice(0, this.batchSize) : rows;
    const last = batch[batch.length - 1];
    if (last) {
      this.after = { createdAt: last.created_at, id: last.id };
    }
    this.done = !more;
    if (this.done) {
      this.releaseClient(false);
    } else {
      const next = this.fetch();
      // Awaited by _read; a failure after the consumer went away must not be an unhandled rejection.
      next.catch(() => undefined);
      this.next = next;
    }
    for (const row of batch) {
      this.push(toAttemptView(row));
    }
    if (this.done) {
      this.push(null);
    }
  }

  override _read(): void {
    if (this.reading || this.done || this.destroyed) {
      return;
    }
    const next = this.next ?? this.fetch();
    this.next = null;
    this.reading = true;
    next.then(
      (rows) => {
        this.reading = false;
        if (!this.destroyed) {
          this.pushBatch(rows);
        }
      },
      (error: unknown) => {
        this.reading = false;
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }
}

/**
 * Read side of the audit trail (DESIGN section 2). Pages and statistics run on the shared pool. The export reads
 * keyset batches holding a bounded number of rows in memory whatever its size, on a pool of its own.
 *
 * Why a second pool: an export holds one connection (and its REPEATABLE READ snapshot) for as long as its
 * consumer takes to download, minutes for a large audit. On the shared pool, a few concurrent exports would take
 * the connections the guard's claim and finalise need and turn starts into 503s; on this pool of 4 they only
 * wait for each other. Its statements may also run longer than the guard's timeout allows.
 */
@Injectable()
export class AttemptRepository implements OnModuleDestroy {
  private exportPool: Pool | null = null;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(PERSISTENCE_OPTIONS) private readonly options: PersistenceOptions,
  ) {}

  async onModuleDestroy(): Promise<void> {
    const pool = this.exportPool;
    this.exportPool = null;
    if (pool) {
      await pool.end();
    }
  }

  /** One page, newest first, strictly after `after`. */
  async list(filter: AttemptFilter, limit: number, after: AttemptKey | null): Promise<AttemptPage> {
    const rows = await this.prisma.query<AttemptRow>(listQuery(filter, limit, after));
    const more = rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map(toAttemptView);
    const last = more ? rows[limit - 1] : undefined;
    return { items, next: last ? { createdAt: last.created_at, id: last.id } : null };
  }

  async get(attemptId: string): Promise<AttemptView | null> {
    if (!GUID_PATTERN.test(attemptId)) {
      return null;
    }
    const rows = await this.prisma.query<AttemptRow>(getQuery(attemptId));
    const row = rows[0];
    return row ? toAttemptView(row) : null;
  }

  /** Counts by outcome over the filter. */
  async stats(filter: AttemptFilter): Promise<AttemptStats> {
    const rows = await this.prisma.query<{ outcome: string; n: number }>(statsQuery(filter));
    const byOutcome = emptyOutcomeCounts();
    let total = 0;
    for (const r of rows) {
      if (isStoredOutcome(r.outcome)) {
        byOutcome[r.outcome] = Number(r.n);
        total += Number(r.n);
      }
    }
    return { total, byOutcome };
  }

  /** The `top` jobs with the most attempts over the filter, with their counts by outcome. */
  async statsByJob(filter: AttemptFilter, top: number): Promise<JobGroup[]> {
    const rows = await this.prisma.query<GroupRow & { service_principal_id: string; job_id: string }>(
      statsByJobQuery(filter, top),
    );
    return rows.map((r) => ({
      servicePrincipalId: r.service_principal_id,
      jobId: r.job_id,
      ...groupCounts(r),
    }));
  }

  /** The `top` actors with the most attempts over the filter, with their counts by outcome. */
  async statsByActor(filter: AttemptFilter, top: number): Promise<ActorGroup[]> {
    const rows = await this.prisma.query<GroupRow & { actor_id: string; actor_name: string | null }>(
      statsByActorQuery(filter, top),
    );
    return rows.map((r) => ({ actorId: r.actor_id, actorName: r.actor_name, ...groupCounts(r) }));
  }

  /**
   * Every attempt matching the filter, newest first, streamed in keyset batches. The first batch is read
   * here: when the database cannot be reached this throws before anything was sent (the caller answers 503).
   */
  async openExport(filter: AttemptFilter, batchSize = EXPORT_BATCH_ROWS): Promise<AttemptExport> {
    const rows = new KeysetExport(this.pool(), filter, batchSize);
    await rows.begin();
    try {
      rows.pushBatch(await rows.fetch());
    } catch (error) {
      rows.destroy();
      throw error;
    }
    return { rows, close: () => rows.destroy() };
  }

  private pool(): Pool {
    if (this.exportPool === null) {
      this.exportPool = createPool(this.options, {
        max: 4,
        statementTimeoutMs: Math.max(this.options.statementTimeoutMs ?? 5000, 30_000),
      });
    }
    return this.exportPool;
  }
}

/** The counts of one group of the grouped statistics. */
interface GroupRow {
  total: number;
  by_outcome: Record<string, number> | null;
}

function groupCounts(r: GroupRow): { total: number; byOutcome: OutcomeCounts } {
  return { total: Number(r.total), byOutcome: toCounts(r.by_outcome) };
}

function toCounts(value: Record<string, number> | null): OutcomeCounts {
  const counts = emptyOutcomeCounts();
  for (const [k, v] of Object.entries(value ?? {})) {
    if (isStoredOutcome(k)) {
      counts[k] = Number(v);
    }
  }
  return counts;
}
