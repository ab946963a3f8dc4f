import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client, Pool, type QueryResultRow } from 'pg';
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

/** A LISTEN connection; `close()` ends it for good. */
export interface Listening {
  close(): Promise<void>;
}

/** Wait before a lost LISTEN connection is opened again. */
const LISTEN_RETRY_MS = 1000;

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
  private readonly options: PersistenceOptions;

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
    this.options = options;
  }

  /**
   * LISTENs on `channel` on a dedicated connection, outside the pool, and calls `onNotify` for each
   * notification, and once after each (re)connection (to catch up on what was missed while it was away). A lost
   * connection is opened again after a second, until `close()`.
   */
  listen(channel: string, onNotify: () => void, onError: (error: unknown) => void): Listening {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) {
      throw new Error(`not a channel name: ${channel}`);
    }
    let closed = false;
    let current: Client | null = null;
    let timer: NodeJS.Timeout | undefined;
    const retry = (c: Client): void => {
      if (closed || c !== current || timer !== undefined) {
        return;
      }
      current = null;
      c.end().catch(() => undefined);
      timer = setTimeout(() => {
        timer = undefined;
        void connect();
      }, LISTEN_RETRY_MS);
      timer.unref();
    };
    const connect = async (): Promise<void> => {
      if (closed) {
        return;
      }
      const c = new Client({
        connectionString: this.options.connectionString,
        connectionTimeoutMillis: this.options.connectTimeoutMs ?? 3000,
      });
      current = c;
      c.on('notification', () => onNotify());
      c.on('error', (error) => {
        onError(error);
        retry(c);
      });
      c.on('end', () => retry(c));
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
        if (closed) {
          await c.end();
          return;
        }
        onNotify();
      } catch (error) {
        onError(error);
        retry(c);
      }
    };
    void connect();
    return {
      close: async () => {
        closed = true;
        clearTimeout(timer);
        const c = current;
        current = null;
        await c?.end().catch(() => undefined);
      },
    };
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
