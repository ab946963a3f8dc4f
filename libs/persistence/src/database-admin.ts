import { Client } from 'pg';

/**
 * Operations on a database as a whole, for the entry points (the production start-up check, the development
 * launcher). Each opens one short connection of its own, outside the pool, and closes it.
 */

async function withClient<T>(
  connectionString: string,
  fn: (client: Client) => Promise<T>,
  connectTimeoutMs?: number,
): Promise<T> {
  const client = new Client({ connectionString, connectionTimeoutMillis: connectTimeoutMs });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects once (throws the driver's error when the database cannot be reached). */
export async function assertReachable(connectionString: string, connectTimeoutMs = 5000): Promise<void> {
  await withClient(connectionString, () => Promise.resolve(), connectTimeoutMs);
}

/** True when the migrations table exists (at least one migration was ever applied). Throws when unreachable. */
export async function hasMigrations(connectionString: string, connectTimeoutMs = 5000): Promise<boolean> {
  return withClient(
    connectionString,
    async (client) => {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM information_schema.tables WHERE table_name = '_prisma_migrations'`,
      );
      return rows[0]?.n !== '0';
    },
    connectTimeoutMs,
  );
}

/** Creates the database `name` on the server of `adminUrl` unless it exists. */
export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`not a database name: ${name}`);
  }
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`);
    }
  });
}

/**
 * Forgets the guard state (request window, lease, cool-down) of every job of one service principal: the
 * development launcher's demo tenant is new at every start, and so are its jobs' guards.
 */
export async function resetJobGuardsOf(
  connectionString: string,
  servicePrincipalId: string,
): Promise<number> {
  return withClient(connectionString, async (client) => {
    const { rowCount } = await client.query('DELETE FROM job_guards WHERE starts_with(job_key, $1)', [
      `${servicePrincipalId.toLowerCase()}/`,
    ]);
    return rowCount ?? 0;
  });
}
