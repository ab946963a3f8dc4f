import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';

/** Advisory lock key of the retention job ('SJGRETN' as ASCII): one replica deletes at a time. */
export const RETENTION_LOCK_KEY = 0x534a475245544en;

export interface RetentionBatch {
  /** False when another replica holds the retention lock: nothing was deleted. */
  locked: boolean;
  deleted: number;
}

/**
 * Deletes of the audit trail, the only ones the append-only trigger allows: inside a transaction that says
 * `sync_job_guard.retention = on`. Bounded batches, each its own short transaction, oldest first; rows still
 * `pending` (a decision in flight, or one the reconciler has yet to close) are never removed.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly prisma: PrismaService) {}

  async deleteBatch(cutoff: Date, batchSize: number): Promise<RetentionBatch> {
    return this.prisma.$transaction(async (tx) => {
      const lock = await tx.$queryRawUnsafe<{ locked: boolean }[]>(
        'SELECT pg_try_advisory_xact_lock($1::bigint) AS locked',
        RETENTION_LOCK_KEY.toString(),
      );
      if (lock[0]?.locked !== true) {
        return { locked: false, deleted: 0 };
      }
      await tx.$queryRawUnsafe(`SELECT set_config('sync_job_guard.retention', 'on', true)`);
      const deleted = await tx.$executeRawUnsafe(
        `DELETE FROM attempts WHERE id IN (
           SELECT id FROM attempts
           WHERE created_at < $1::timestamptz AND outcome <> 'pending'
           ORDER BY created_at, id
           LIMIT ${Math.max(1, Math.floor(batchSize))}
         )`,
        cutoff.toISOString(),
      );
      return { locked: true, deleted };
    });
  }
}
