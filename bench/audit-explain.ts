import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import {
  EXPORT_BATCH_ROWS,
  type AttemptFilter,
  type Sql,
  listQuery,
  migrate,
  statsByActorQuery,
  statsByJobQuery,
  statsQuery,
} from '@app/persistence';
import { benchActor, benchJob, seedAttempts } from './audit.bench';

/**
 * Which indexes of `attempts` the audit queries use, and what each index costs a decision (dev aid):
 *
 *   node -r ./bench/swc-register.js bench/audit-explain.ts [--rows 1000000] [--writes 2000]
 *
 * Seeds a throwaway database as the audit bench does, runs EXPLAIN (ANALYZE, BUFFERS) on exactly the SQL the
 * repository sends (its exported query builders) for every filter the API offers, then lists each index with
 * its size and the queries whose plans use it. With --writes N it also times N claim + finalise pairs shaped
 * like the guard's (a pending_attempts row, then one statement that deletes it and inserts the final attempts
 * row) with every index, and again with the primary key only, measuring the backend's CPU (/proc/<pid>/stat).
 * Writes the report to bench/results/audit-explain.md; the database is dropped at the end.
 */
const ROOT = resolve(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS = arg('--rows', 1_000_000);
const WRITES = arg('--writes', 0);
const DAY_MS = 86_400_000;
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function indexesOf(node: PlanNode, out: Set<string>, kinds: Set<string>): void {
  kinds.add(node['Node Type']);
  if (node['Index Name']) {
    out.add(node['Index Name']);
  }
  for (const child of node.Plans ?? []) {
    indexesOf(child, out, kinds);
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const CLK_TCK = 100;
function backendCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function main(): Promise<void> {
  const name = `sjg_bench_explain_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(ADMIN_URL, name);
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const db = new Client({ connectionString: url });
  const out: string[] = [];
  try {
    await migrate(url);
    const newest = new Date(Date.now() - 60_000);
    const t0 = Date.now();
    await seedAttempts(url, ROWS, newest, (l) => process.stderr.write(`${l}\n`));
    out.push(
      `# attempts: which indexes the audit queries use (${ROWS.toLocaleString('en-US')} rows, seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      '',
    );
    await db.connect();

    const day = (n: number): Date => new Date(newest.getTime() - n * DAY_MS);
    const job = benchJob(4242);
    const page1 = listQuery(job, 50, null);
    const p1 = page1.toQuery();
    const firstPage = await db.query<{ created_at: Date; id: string }>(p1.text, p1.values);
    const last = firstPage.rows[49];
    const month: AttemptFilter = { from: day(30), to: newest };
    const queries: [string, Sql][] = [
      ['page: no filter', listQuery({}, 50, null)],
      ['page: servicePrincipalId+jobId', listQuery(job, 50, null)],
      [
        'page: servicePrincipalId+jobId, second page (cursor)',
        listQuery(job, 50, last ? { createdAt: last.created_at, id: last.id } : null),
      ],
      ['page: servicePrincipalId', listQuery({ servicePrincipalId: job.servicePrincipalId }, 50, null)],
      ['page: jobId', listQuery({ jobId: job.jobId }, 50, null)],
      ['page: actor', listQuery({ actorId: benchActor(17) }, 50, null)],
      ['page: outcome denied (5 %)', listQuery({ outcomes: ['denied'] }, 50, null)],
      ['page: outcome forbidden (1 %)', listQuery({ outcomes: ['forbidden'] }, 50, null)],
      ['page: trigger recovery (5 %)', listQuery({ trigger: 'recovery' }, 50, null)],
      ['page: operation restart (no rows)', listQuery({ operation: 'restart' }, 50, null)],
      ['page: from/to 1 day (30 days ago)', listQuery({ from: day(31), to: day(30) }, 50, null)],
      [
        'page: outcome denied + from/to 7 days',
        listQuery({ outcomes: ['denied'], from: day(37), to: day(30) }, 50, null),
      ],
      [
        'page: outcomes denied, rate_limited + 1 day',
        listQuery({ outcomes: ['denied', 'rate_limited'], from: day(31), to: day(30) }, 50, null),
      ],
      [
        'page: actor + outcome + 7 days',
        listQuery({ actorId: benchActor(17), outcomes: ['denied'], from: day(37), to: day(30) }, 50, null),
      ],
      ['export batch: no filter', listQuery({}, EXPORT_BATCH_ROWS, null)],
      ['export batch: outcome denied', listQuery({ outcomes: ['denied'] }, EXPORT_BATCH_ROWS, null)],
      ['stats: by outcome, 30 days', statsQuery(month)],
      ['stats: by job top 20, 30 days', statsByJobQuery(month, 20)],
      ['stats: by actor top 20, 30 days', statsByActorQuery(month, 20)],
      [
        'stats: refused today by job',
        statsByJobQuery({ from: day(1), to: newest, outcomes: ['denied', 'rate_limited'] }, 20),
      ],
      ['stats: one job, all time', statsQuery(job)],
    ];

    const usedBy = new Map<string, string[]>();
    out.push(
      '| query | plan nodes | indexes used | execution ms | shared buffers hit + read |',
      '|---|---|---|---:|---:|',
    );
    for (const [label, query] of queries) {
      const q = query.toQuery();
      await db.query(q.text, q.values); // warm
      const { rows } = await db.query<{
        'QUERY PLAN': [{ Plan: PlanNode & Record<string, number>; 'Execution Time': number }];
      }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.text}`, q.values);
      const plan = rows[0]?.['QUERY PLAN'][0];
      if (!plan) {
        continue;
      }
      const used = new Set<string>();
      const kinds = new Set<string>();
      indexesOf(plan.Plan, used, kinds);
      for (const i of used) {
        usedBy.set(i, [...(usedBy.get(i) ?? []), label]);
      }
      const buffers = (plan.Plan['Shared Hit Blocks'] ?? 0) + (plan.Plan['Shared Read Blocks'] ?? 0);
      out.push(
        `| ${label} | ${[...kinds].join(', ')} | ${[...used].join(', ') || '(none)'} | ${plan['Execution Time'].toFixed(2)} | ${buffers} |`,
      );
    }

    const { rows: indexes } = await db.query<{ name: string; def: string; mb: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def,
              round(pg_relation_size(quote_ident(i.indexname)::regclass) / 1048576.0, 1)::text AS mb
         FROM pg_indexes i WHERE i.tablename = 'attempts' ORDER BY i.indexname`,
    );
    out.push('', '| index | size MB | used by the audit plans above |', '|---|---:|---|');
    for (const i of indexes) {
      out.push(`| \`${i.name}\` | ${i.mb} | ${(usedBy.get(i.name) ?? []).join('; ') || '**none**'} |`);
    }
    const unused = indexes.filter((i) => !usedBy.has(i.name) && !i.name.endsWith('_pkey')).map((i) => i.name);
    out.push('', `Not used by any audit plan: ${unused.map((u) => `\`${u}\``).join(', ') || 'none'}.`, '');

    if (WRITES > 0) {
      const { rows: pidRow } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const pid = pidRow[0]?.pid ?? 0;
      let pass = 0;
      const writes = async (label: string): Promise<string> => {
        // New statement names each pass: plans made with the dropped indexes are not reused.
        pass += 1;
        const cpu0 = backendCpuSeconds(pid);
        const w0 = performance.now();
        for (let i = 0; i < WRITES; i++) {
          const id = randomUUID();
          const j = benchJob(i % 10_000);
          await db.query({
            name: `claim${pass}`,
            text: `INSERT INTO pending_attempts (id, service_principal_id, job_id, trigger, actor_type, actor_id, actor_name, dry_run, request_id, replica_id, operation)
                   VALUES ($1::uuid, $2, $3, 'api', 'app', $4, 'Bench', false, $5, 'bench', 'start')`,
            values: [id, j.servicePrincipalId, j.jobId, benchActor(i % 200), randomUUID()],
          });
          await db.query({
            name: `fin${pass}`,
            text: `WITH pend AS (DELETE FROM pending_attempts WHERE id = $1::uuid RETURNING *)
                   INSERT INTO attempts (id, created_at, service_principal_id, job_id, trigger, actor_type, actor_id, actor_name, dry_run, request_id, replica_id, operation,
                                         outcome, finished_at, observed_status, message, graph_request_ids, duration_ms)
                   SELECT id, created_at, service_principal_id, job_id, trigger, actor_type, actor_id, actor_name, dry_run, request_id, replica_id, operation,
                          'skipped', now(), 'active', 'job is active', $2::text[], 3 FROM pend`,
            values: [id, [randomUUID()]],
          });
        }
        const cpu = backendCpuSeconds(pid) - cpu0;
        const wall = performance.now() - w0;
        return `| ${label} | ${WRITES} | ${((cpu * 1000) / WRITES).toFixed(3)} | ${(wall / WRITES).toFixed(3)} |`;
      };
      out.push(
        `Claim + finalise pairs on one connection (named prepared statements, default durability): the claim inserts a pending_attempts row, the finalise deletes it and inserts the final attempts row (attempts is insert-only, each index written once). Backend CPU from /proc (${CLK_TCK} Hz ticks):`,
        '',
        '| indexes on attempts | pairs | backend CPU ms per pair | wall ms per pair |',
        '|---|---:|---:|---:|',
      );
      await writes('warm-up (all indexes)');
      out.push(await writes(`all ${indexes.length} (PK + ${indexes.length - 1})`));
      for (const i of indexes) {
        if (!i.name.endsWith('_pkey')) {
          await db.query(`DROP INDEX "${i.name}"`);
        }
      }
      out.push(await writes('primary key only (the floor)'));
    }
  } finally {
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
  const text = out.join('\n');
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'audit-explain.md'), `${text}\n`);
  process.stdout.write(`${text}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `audit-explain: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
