import { randomUUID } from 'node:crypto';
import {
  ADMIN_URL_ENV,
  type TestDatabase,
  createTestDatabase,
  withDatabase,
  adminQuery,
} from '../../../test/support/database';
import { sql } from '../../../test/support/sql';
import { freePort } from './embedded';
import { assertReachable, createDatabaseIfMissing, hasMigrations, resetJobGuardsOf } from './database-admin';

describe('database administration for the entry points (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db.drop();
  });

  it('reaches a database, and throws the driver error when nothing listens', async () => {
    await expect(assertReachable(db.url)).resolves.toBeUndefined();
    const port = await freePort();
    await expect(assertReachable(`postgres://postgres@127.0.0.1:${port}/none`, 2000)).rejects.toThrow();
  });

  it('creates a database once, and tells a migrated database from an empty one', async () => {
    const adminUrl = process.env[ADMIN_URL_ENV] ?? '';
    const name = `admin_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    try {
      await createDatabaseIfMissing(adminUrl, name);
      await createDatabaseIfMissing(adminUrl, name);
      expect(await hasMigrations(withDatabase(adminUrl, name))).toBe(false);
      expect(await hasMigrations(db.url)).toBe(true);
    } finally {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
    await expect(createDatabaseIfMissing(adminUrl, 'x"; DROP DATABASE postgres; --')).rejects.toThrow(
      'not a database name',
    );
  });

  it('forgets the guard state of one service principal only', async () => {
    const sp = '6D3F8A52-1C4B-4E8A-9F27-3B5C0D9E7A14';
    const other = '11111111-2222-4333-8444-555555555555';
    await sql(db.url, `INSERT INTO job_guards (job_key) VALUES ($1), ($2), ($3)`, [
      `${sp.toLowerCase()}/scim.a`,
      `${sp.toLowerCase()}/scim.b`,
      `${other}/scim.a`,
    ]);
    expect(await resetJobGuardsOf(db.url, sp)).toBe(2);
    const left = await sql<{ job_key: string }>(db.url, 'SELECT job_key FROM job_guards ORDER BY job_key');
    expect(left.map((r) => r.job_key)).toEqual([`${other}/scim.a`]);
  });
});
