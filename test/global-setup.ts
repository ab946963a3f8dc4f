import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '../libs/persistence/src/migrator';
import { startEmbeddedPostgres } from '../libs/persistence/src/embedded';
import { ADMIN_URL_ENV, TEMPLATE_ENV, adminQuery, withDatabase } from './support/database';

const LOCAL_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function reachable(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Database for the tests: DATABASE_URL, else the server on 127.0.0.1:5432, else an embedded PostgreSQL.
 * One migrated template per run; each test file clones it (test/support/database.ts).
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else if (await reachable(LOCAL_URL)) {
    adminUrl = LOCAL_URL;
  } else {
    const embedded = await startEmbeddedPostgres({ dataDir: '.data/test-postgres' });
    (globalThis as { __SJG_EMBEDDED__?: unknown }).__SJG_EMBEDDED__ = embedded;
    adminUrl = embedded.adminUrl;
  }
  const template = `sjg_template_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${template}"`);
  await migrate(withDatabase(adminUrl, template));
  // Postgres refuses to clone a template that has open connections: migrate() closed its own.
  process.env[ADMIN_URL_ENV] = adminUrl;
  process.env[TEMPLATE_ENV] = template;
}
