import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client, Pool, type PoolClient, type QueryResultRow } from 'pg';
import { PrismaClient } from './generated/prisma/client';
import type { Sql, SqlRunner } from './sql';

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
 * A node-postgres pool with the library's connection settings; `max` and a longer statement timeout may differ.
 * An idle connection that dies (database restart) must not crash the process: the pool replaces it.
 */
export function createPool(
  options: PersistenceOptions,
  over: { max?: number; statementTimeoutMs?: number } = {},
): Pool {
  const pool = new Pool({
    connectionString: options.connectionString,
    max: over.max ?? options.poolMax ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    statement_timeout: over.statementTimeoutMs ?? options.statementTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', () => undefined);
  // The pool listens for errors of idle clients only. A connection lost while a client is checked out (a
  // restart, a failover, a terminated backend, an idle transaction timed out) would emit an unhandled 'error' and
  // end the process; with this listener the client's queries fail instead, and whoever holds it handles that.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `Sql` on one pooled connection (a transaction's). */
function clientRunner(client: PoolClient): SqlRunner {
  return {
    query: async <T extends QueryResultRow>(statement: Sql, name?: string) =>
      (await client.query<T>({ ...statement.toQuery(), name })).rows,
    execute: async (statement: Sql) => (await client.query(statement.toQuery())).rowCount ?? 0,
  };
}

/**
 * The one PrismaClient of a process, over node-postgres through the driver adapter, and the one pool of the
 * process: raw SQL (the `sql` tag, `SqlRunner`) runs on the same node-postgres pool the adapter uses.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy, SqlRunner {
  private readonly pool: Pool;
  private ended = false;
  private readonly options: PersistenceOptions;

  constructor(@Inject(PERSISTENCE_OPTIONS) options: PersistenceOptions) {
    const pool = createPool(options);
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

  async query<T extends QueryResultRow>(statement: Sql, name?: string): Promise<T[]> {
    const result = await this.pool.query<T>({ ...statement.toQuery(), name });
    return result.rows;
  }

  async execute(statement: Sql): Promise<number> {
    const result = await this.pool.query(statement.toQuery());
    return result.rowCount ?? 0;
  }

  /** Runs `work` in one transaction on one pooled connection: committed when it resolves, else rolled back. */
  async transaction<T>(work: (db: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(clientRunner(client));
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      // A connection whose ROLLBACK fails (lost, or in an unknown state) is discarded, not reused.
      await client.query('ROLLBACK').then(
        () => client.release(),
        () => client.release(true),
      );
      throw error;
    }
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
