import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type QueryResultRow } from 'pg';
import { PrismaClient } from './generated/prisma/client';

export const PERSISTENCE_OPTIONS = Symbol('PERSISTENCE_OPTIONS');

export interface PersistenceOptions {
  connectionString: string;
  /** Pool size per process (default 10). */
  poolMax?: number;
  /** Fail a connection attempt after this long (default 3000 ms): a dead database answers 503 quickly. */
  connectTimeoutMs?: number;
  /** Server-side statement timeout (default 5000 ms). */
  statementTimeoutMs?: number;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * The one PrismaClient of a process, over node-postgres through the driver adapter. The node-postgres pool
 * is ours and shared: the guard's two hot statements run on it as named prepared statements (parsed and
 * planned once per connection), everything else goes through Prisma.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  private readonly pool: Pool;
  private ended = false;

  constructor(@Inject(PERSISTENCE_OPTIONS) options: PersistenceOptions) {
    const pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      statement_timeout: options.statementTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that dies (database restart) must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
  }

  /** One round trip of a named prepared statement on the shared pool. */
  async prepared<T extends QueryResultRow>(name: string, text: string, ...values: unknown[]): Promise<T[]> {
    const result = await this.pool.query<T>({ name, text, values });
    return result.rows;
  }

  poolStats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
    if (!this.ended) {
      this.ended = true;
      await this.pool.end().catch(() => undefined);
    }
  }
}
