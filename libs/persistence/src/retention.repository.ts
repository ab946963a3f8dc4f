import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';
import { sql, trusted } from './sql';

/** Advisory lock key of the retention job ('SJGRETN' as ASCII): one replica deletes at a time. */
export const RETENTION_LOCK_KEY = 0x534a475245544en;

export interface RetentionBatch {
  /** False when another replica holds the retention lock: nothing was deleted. */
  locked: boolean;
  deleted: number;
}

/**
 * Deletes of the audit trail, the only ones the append-only trigger allows: inside a transaction that says
 * `sync_job_guard.retention = on`. Bounded batches, each its own short transaction, oldest first. Decisions still
 * pending (in flight, or left for the reconciler to close) are in pending_attempts, which retention never touches;
 * the outcome test below stays as a second guard.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly prisma: PrismaService) {}

  async deleteBatch(cutoff: Date, batchSize: number): Promise<RetentionBatch> {
    return this.prisma.transaction(async (tx) => {
      const lock = await tx.query<{ locked: boolean }>(
        sql`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY.toString()}::bigint) AS locked`,
      );
      if (lock[0]?.locked !== true) {
        return { locked: false, deleted: 0 };
      }
      await tx.query(sql`SELECT set_config('sync_job_guard.retention', 'on', true)`);
      const deleted = await tx.execute(
        sql`DELETE FROM attempts WHERE id IN (
           SELECT id FROM attempts
           WHERE created_at < ${cutoff.toISOString()}::timestamptz AND outcome <> 'pending'
           ORDER BY created_at, id
           LIMIT ${trusted(String(Math.max(1, Math.floor(batchSize))))}
         )`,
      );
      return { locked: true, deleted };
    });
  }
}
