import { Client } from 'pg';

/** A clear message and a non-zero exit when the database is missing at boot (start:prod). */
export async function checkDatabase(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM information_schema.tables WHERE table_name = '_prisma_migrations'`,
    );
    if (rows[0]?.n === '0') {
      throw new Error('the database has no migrations applied; run `npm run db:migrate` first');
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`database check failed: ${message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}
