import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { findMigrationsDir, migrate, readMigrations } from '../../libs/persistence/src/migrator';
import { ADMIN_URL_ENV, adminQuery, withDatabase } from '../support/database';

/**
 * Drift check: the database our migrations build must be the one prisma/schema.prisma describes. One throwaway
 * database is migrated by our runner; another is built from `npm run db:diff -- --from-empty` (Prisma's SQL for
 * the whole schema, through tools/prisma-wasm); their catalogs must match. Triggers and functions are written by
 * hand in migrations and are not in the Prisma schema: they are left out of the comparison and checked apart.
 */

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const DB_DIFF = join(ROOT, 'scripts', 'db-diff.js');
const PRISMA_WASM_CLI = join(ROOT, 'tools', 'prisma-wasm', 'node_modules', 'prisma', 'build', 'index.js');
const INSTALL = 'npm ci --prefix tools/prisma-wasm';
const TIMEOUT = 60_000;

/** Category → object identity → one-line definition. */
type Snapshot = Record<string, Map<string, string>>;

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function rows(client: Client, sql: string): Promise<{ key: string; def: string }[]> {
  return (await client.query<{ key: string; def: string }>(sql)).rows;
}

/** The hand-written constraint of the pending_attempts migration. */
const FINAL_ONLY = 'attempts.attempts_final_only';

/** The catalog of schema public, minus Prisma's history table, triggers and functions. */
async function snapshot(url: string): Promise<Snapshot> {
  return withClient(url, async (client) => {
    const user = `n.nspname = 'public' AND c.relname <> '_prisma_migrations'`;
    const queries: Record<string, string> = {
      relation: `
        SELECT c.relname AS key, c.relkind::text AS def
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${user} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')`,
      column: `
        SELECT c.relname || '.' || a.attname AS key,
               format_type(a.atttypid, a.atttypmod)
                 || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
                 || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
                 || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
                 || CASE WHEN a.attgenerated <> '' THEN ' GENERATED ' || a.attgenerated::text ELSE '' END
                 || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                      THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END AS def
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE ${user} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped`,
      // NOT NULL constraints (contype 'n', PostgreSQL 18) are the columns' nullability, compared above.
      constraint: `
        SELECT c.relname || '.' || k.conname AS key, pg_get_constraintdef(k.oid) AS def
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${user} AND k.contype <> 'n'`,
      index: `
        SELECT c.relname AS key, pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class tbl ON tbl.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND tbl.relname <> '_prisma_migrations'`,
      enum: `
        SELECT t.typname AS key, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS def
        FROM pg_type t
        JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public'
        GROUP BY t.typname`,
      extension: `SELECT extname AS key, extversion AS def FROM pg_extension`,
    };
    const snap: Snapshot = {};
    for (const [category, sql] of Object.entries(queries)) {
      snap[category] = new Map((await rows(client, sql)).map((r) => [r.key, r.def]));
    }
    return snap;
  });
}

/** Every difference, one line each; empty when the catalogs match. */
function compare(migrated: Snapshot, fromSchema: Snapshot): string[] {
  const out: string[] = [];
  for (const category of Object.keys({ ...migrated, ...fromSchema })) {
    const a = migrated[category] ?? new Map<string, string>();
    const b = fromSchema[category] ?? new Map<string, string>();
    for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
      const left = a.get(key);
      const right = b.get(key);
      if (left === right) {
        continue;
      }
      if (right === undefined) {
        out.push(`${category} ${key}: only in the migrations (${left})`);
      } else if (left === undefined) {
        out.push(`${category} ${key}: only in schema.prisma (${right})`);
      } else {
        out.push(`${category} ${key}: migrations have "${left}", schema.prisma has "${right}"`);
      }
    }
  }
  return out;
}

function report(differences: string[]): string {
  return differences.length === 0
    ? 'no differences'
    : `prisma/schema.prisma and prisma/migrations disagree (${differences.length}):\n  ${differences.join('\n  ')}`;
}

describe('schema drift: prisma/migrations against prisma/schema.prisma', () => {
  let adminUrl: string;
  const created: string[] = [];
  let migratedUrl: string;
  let fromSchemaUrl: string;
  let schemaSql: string;

  async function createDatabase(template = 'template0'): Promise<string> {
    const name = `sjg_drift_${randomBytes(6).toString('hex')}`;
    await adminQuery(adminUrl, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    created.push(name);
    return name;
  }

  beforeAll(async () => {
    if (!existsSync(PRISMA_WASM_CLI)) {
      throw new Error(
        `the drift check needs tools/prisma-wasm (Prisma 6's WebAssembly schema engine); install it with: ${INSTALL}`,
      );
    }
    const url = process.env[ADMIN_URL_ENV];
    if (!url) {
      throw new Error('test database environment missing: run through jest (test/global-setup.ts)');
    }
    adminUrl = url;

    const { stdout } = await execFileAsync(process.execPath, [DB_DIFF, '--from-empty'], {
      cwd: ROOT,
      env: { ...process.env, PRISMA_WASM_DATABASE_URL: adminUrl },
      maxBuffer: 64 * 1024 * 1024,
    });
    schemaSql = stdout;

    migratedUrl = withDatabase(adminUrl, await createDatabase());
    await migrate(migratedUrl);

    fromSchemaUrl = withDatabase(adminUrl, await createDatabase());
    await withClient(fromSchemaUrl, (client) => client.query(schemaSql));
  }, TIMEOUT);

  afterAll(async () => {
    if (adminUrl) {
      for (const name of created) {
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }
    }
  }, TIMEOUT);

  it('db:diff --from-empty gives the SQL of every model in schema.prisma', () => {
    for (const table of ['attempts', 'job_guards', 'grants', 'admin_events', 'recovery_watches']) {
      expect(schemaSql).toContain(`CREATE TABLE "${table}"`);
    }
  });

  it('our runner applied every migration folder', async () => {
    const names = (await readMigrations(findMigrationsDir(join(ROOT, 'libs', 'persistence', 'src')))).map(
      (m) => m.name,
    );
    const applied = await withClient(migratedUrl, async (client) =>
      (
        await client.query<{ migration_name: string }>(
          'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name',
        )
      ).rows.map((r) => r.migration_name),
    );
    expect(applied).toEqual(names);
  });

  it('the migrated database has exactly the tables, columns, constraints, indexes and enums of schema.prisma', async () => {
    const migrated = await snapshot(migratedUrl);
    const fromSchema = await snapshot(fromSchemaUrl);
    expect(migrated.relation?.size).toBeGreaterThan(0);
    expect(migrated.index?.size).toBeGreaterThan(0);
    expect(migrated.enum?.size).toBeGreaterThan(0);
    // Hand-written (Prisma has no CHECK constraints): checked on its own below.
    expect(migrated.constraint?.delete(FINAL_ONLY)).toBe(true);
    expect(report(compare(migrated, fromSchema))).toBe('no differences');
  });

  it('the hand-written CHECK keeps pending rows out of attempts (they live in pending_attempts)', async () => {
    const migrated = await snapshot(migratedUrl);
    expect(migrated.constraint?.get(FINAL_ONLY)).toBe(
      `CHECK ((outcome <> 'pending'::"AttemptOutcome")) NOT VALID`,
    );
  });

  it('the hand-written append-only triggers of attempts exist on the migrated database', async () => {
    const triggers = await withClient(
      migratedUrl,
      async (client) =>
        (
          await client.query<{ name: string; fn: string; def: string }>(
            `SELECT t.tgname AS name, p.proname AS fn, pg_get_triggerdef(t.oid) AS def
           FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
           WHERE t.tgrelid = 'public.attempts'::regclass AND NOT t.tgisinternal
           ORDER BY t.tgname`,
          )
        ).rows,
    );
    expect(triggers.map((t) => [t.name, t.fn])).toEqual([
      ['attempts_immutable_delete', 'attempts_guard_immutable'],
      ['attempts_immutable_update', 'attempts_guard_immutable'],
      ['attempts_no_truncate', 'attempts_guard_immutable'],
    ]);
    expect(triggers.find((t) => t.name === 'attempts_immutable_update')?.def).toMatch(
      /BEFORE UPDATE .* FOR EACH ROW/,
    );
    expect(triggers.find((t) => t.name === 'attempts_no_truncate')?.def).toMatch(
      /BEFORE TRUNCATE .* FOR EACH STATEMENT/,
    );
  });

  it('the comparison reports each kind of difference', async () => {
    // The check itself, proven on a copy of the migrated database changed behind the schema's back.
    const changed = withDatabase(adminUrl, await createDatabase(new URL(migratedUrl).pathname.slice(1)));
    await withClient(changed, (client) =>
      client.query(`
        DROP INDEX "attempts_created_idx";
        CREATE INDEX "attempts_created_idx" ON "attempts"("created_at");
        ALTER TABLE "grants" ALTER COLUMN "created_by" DROP NOT NULL;
        ALTER TABLE "job_guards" ALTER COLUMN "window_hits" TYPE TIMESTAMPTZ(6)[];
        ALTER TABLE "admin_events" ADD COLUMN "extra" TEXT DEFAULT 'x';
        ALTER TABLE "grants" DROP CONSTRAINT "grants_pkey";
        ALTER TYPE "ActorType" ADD VALUE 'robot' BEFORE 'scheduler';
        CREATE TABLE "stray" ("id" INTEGER PRIMARY KEY);
      `),
    );
    const differences = compare(await snapshot(changed), await snapshot(fromSchemaUrl));
    const text = report(differences);
    expect(text).toContain('index attempts_created_idx: migrations have "CREATE INDEX attempts_created_idx');
    expect(text).toContain('column grants.created_by: migrations have "text NULL"');
    expect(text).toContain('column job_guards.window_hits: migrations have "timestamp(6) with time zone[]');
    expect(text).toContain(`column admin_events.extra: only in the migrations (text NULL DEFAULT 'x'::text)`);
    expect(text).toContain('constraint grants.grants_pkey: only in schema.prisma (PRIMARY KEY (id))');
    expect(text).toContain('enum ActorType: migrations have "user, app, robot, scheduler"');
    expect(text).toContain('relation stray: only in the migrations');
  });
});
