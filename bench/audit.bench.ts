import { createHash, randomBytes } from 'node:crypto';
import { type IncomingMessage, get } from 'node:http';
import { Client } from 'pg';
import {
  AttemptRepository,
  type AttemptFilter,
  type Repositories,
  migrate,
  openRepositories,
} from '@app/persistence';
import { startDevIssuer } from '../apps/api/src/dev/dev-issuer';
import { startApp } from '../test/support/harness';

/**
 * Audit benchmark (issue 7): a million attempts across 10,000 jobs and 200 actors over ~60 days, then the
 * latency of a page for each filter combination (in the database through the repository, and over HTTP),
 * paging through one job, statistics over 30 days, and NDJSON export throughput with the process's RSS
 * growth while it runs. Smoke mode: 20,000 rows, correctness checks only.
 */

export interface AuditBenchOptions {
  /** Admin connection (a database is created and dropped): default DATABASE_URL, else the local server. */
  databaseUrl?: string;
  rows: number;
  smoke: boolean;
  log?: (line: string) => void;
}

export interface Percentiles {
  p50: number;
  p95: number;
  n: number;
}

export interface AuditBenchResult {
  rows: number;
  jobs: number;
  actors: number;
  seedSeconds: number;
  pageDb: Record<string, Percentiles>;
  pageHttp: Record<string, Percentiles>;
  jobPaging: { rowsPerJob: number; pages: number; db: Percentiles; http: Percentiles };
  stats: Record<string, { db: Percentiles; http: Percentiles }>;
  export: {
    format: 'ndjson';
    rows: number;
    bytes: number;
    seconds: number;
    rowsPerSecond: number;
    rssBaselineMb: number;
    rssPeakGrowthMb: number;
    /** JS heap in use (live objects and garbage not yet collected). */
    heapPeakGrowthMb: number;
    /** Heap still in use after a full GC once the export ended (null without --expose-gc). */
    heapRetainedMb: number | null;
  };
  checks: string[];
}

const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const JOBS = 10_000;
const ACTORS = 200;
const SERVICE_PRINCIPALS = 20;
const DAYS = 60;
const DAY_MS = 86_400_000;
const SEED_CHUNK = 100_000;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin(url: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** md5 as a GUID: the same ids PostgreSQL derives with md5(text)::uuid. */
function md5Uuid(text: string): string {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function benchJob(j: number): { servicePrincipalId: string; jobId: string } {
  return {
    servicePrincipalId: md5Uuid(`sp${j % SERVICE_PRINCIPALS}`),
    jobId: `scim.${createHash('md5').update(`job${j}`).digest('hex')}`,
  };
}

export function benchActor(a: number): string {
  return md5Uuid(`actor${a}`);
}

/** Seeds `count` rows in chunks; row g is (g × step) before `newest` (also used by bench/audit-explain.ts). */
export async function seedAttempts(
  url: string,
  count: number,
  newest: Date,
  log: (s: string) => void,
): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const stepMs = (DAYS * DAY_MS) / count;
  try {
    for (let start = 1; start <= count; start += SEED_CHUNK) {
      const end = Math.min(count, start + SEED_CHUNK - 1);
      await c.query(
        `INSERT INTO attempts (id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type, actor_id,
           actor_name, outcome, observed_status, quarantine_reason, reason, dry_run, message, retry_after_seconds,
           graph_request_ids, duration_ms, request_id, replica_id)
         SELECT gen_random_uuid(), t.ts, t.ts + make_interval(secs => 0.1 + (g % 7) / 10.0),
           md5('sp' || (t.j % ${SERVICE_PRINCIPALS}))::uuid::text,
           'scim.' || md5('job' || t.j),
           (CASE WHEN t.rec THEN 'recovery' ELSE 'api' END)::"AttemptTrigger",
           (CASE WHEN t.rec THEN 'scheduler' WHEN g % 3 = 0 THEN 'app' ELSE 'user' END)::"ActorType",
           CASE WHEN t.rec THEN 'replica-' || (g % 3) ELSE md5('actor' || t.a)::uuid::text END,
           CASE WHEN t.rec THEN NULL ELSE 'Person ' || t.a END,
           o.outcome::"AttemptOutcome",
           CASE WHEN o.outcome IN ('started', 'dry_run') THEN 'paused' WHEN o.outcome = 'skipped' THEN 'active' ELSE NULL END,
           CASE WHEN t.rec THEN 'EncounteredQuarantineException' ELSE NULL END,
           CASE WHEN g % 4 = 0 THEN 'ticket CHG' || g || ', "nightly" run' ELSE NULL END,
           o.outcome = 'dry_run',
           'seeded attempt ' || o.outcome,
           CASE WHEN o.outcome = 'rate_limited' THEN 60 ELSE NULL END,
           ARRAY[md5('r' || g)::uuid::text],
           80 + g % 400,
           md5('q' || g)::uuid::text,
           'bench'
         FROM generate_series($1::bigint, $2::bigint) AS g,
           LATERAL (SELECT $3::timestamptz - make_interval(secs => g * $4::float8 / 1000.0) AS ts,
                           (g * 7919) % ${JOBS} AS j, (g * 104729) % ${ACTORS} AS a, g % 20 = 0 AS rec,
                           (g * 31) % 100 AS h) AS t,
           LATERAL (SELECT CASE
              WHEN t.h < 50 THEN 'skipped' WHEN t.h < 70 THEN 'started' WHEN t.h < 80 THEN 'rate_limited'
              WHEN t.h < 85 THEN 'dry_run' WHEN t.h < 90 THEN 'denied' WHEN t.h < 93 THEN 'upstream_error'
              WHEN t.h < 96 THEN 'not_found' WHEN t.h < 98 THEN 'rejected' WHEN t.h < 99 THEN 'forbidden'
              ELSE 'unknown' END AS outcome) AS o`,
        [start, end, newest.toISOString(), stepMs],
      );
      log(`  seeded ${end.toLocaleString('en-US')} rows`);
    }
    await c.query('VACUUM ANALYZE attempts');
  } finally {
    await c.end();
  }
}

function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
  return { p50: round(at(0.5)), p95: round(at(0.95)), n: s.length };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Deterministic pseudo-random numbers (the same workload on every run). */
function rng(seedValue: number): () => number {
  let x = seedValue >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function filterToQuery(f: AttemptFilter, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  if (f.servicePrincipalId) {
    p.set('servicePrincipalId', f.servicePrincipalId);
  }
  if (f.jobId) {
    p.set('jobId', f.jobId);
  }
  for (const o of f.outcomes ?? []) {
    p.append('outcome', o);
  }
  if (f.actorId) {
    p.set('actor', f.actorId);
  }
  if (f.trigger) {
    p.set('trigger', f.trigger);
  }
  if (f.from) {
    p.set('from', f.from.toISOString());
  }
  if (f.to) {
    p.set('to', f.to.toISOString());
  }
  for (const [k, v] of Object.entries(extra)) {
    p.set(k, v);
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export async function runAuditBench(opts: AuditBenchOptions): Promise<AuditBenchResult> {
  const log = opts.log ?? (() => undefined);
  const adminUrl = opts.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL;
  const name = `sjg_bench_audit_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(adminUrl, name);
  const rows = opts.rows;
  const iterations = opts.smoke ? 3 : 40;
  const checks: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) {
      throw new Error(`check failed: ${what}`);
    }
    checks.push(what);
  };

  await admin(adminUrl, `CREATE DATABASE "${name}"`);
  let repos: Repositories | null = null;
  let app: Awaited<ReturnType<typeof startApp>> | null = null;
  let issuer: Awaited<ReturnType<typeof startDevIssuer>> | null = null;
  try {
    await migrate(url);
    const newest = new Date(Date.now() - 60_000);
    log(`seeding ${rows.toLocaleString('en-US')} attempts into ${name}`);
    const t0 = Date.now();
    await seedAttempts(url, rows, newest, log);
    const seedSeconds = round((Date.now() - t0) / 1000, 1);

    repos = openRepositories({ connectionString: url, poolMax: 5, statementTimeoutMs: 30_000 });
    const r = repos.attempts;
    issuer = await startDevIssuer();
    app = await startApp({ databaseUrl: url, issuer, env: { LOG_LEVEL: 'warn' } });
    const base = app.url;
    const token = await issuer.sign({ roles: ['JobControl.Read'], name: 'Bench' });
    const headers = { authorization: `Bearer ${token}` };
    const getJson = async (path: string): Promise<Record<string, unknown>> => {
      const res = await fetch(`${base}${path}`, { headers });
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) {
        throw new Error(`GET ${path} → ${res.status}: ${JSON.stringify(body)}`);
      }
      return body;
    };

    const random = rng(42);
    const pick = (n: number) => Math.floor(random() * n);
    const windowStart = (days: number) =>
      new Date(newest.getTime() - (days + pick(DAYS - days)) * DAY_MS - pick(DAY_MS));
    const combos: Record<string, () => AttemptFilter> = {
      none: () => ({}),
      'servicePrincipalId+jobId': () => benchJob(pick(JOBS)),
      actor: () => ({ actorId: benchActor(pick(ACTORS)) }),
      outcome: () => ({
        outcomes: [(['denied', 'started', 'forbidden', 'rate_limited'] as const)[pick(4)] ?? 'denied'],
      }),
      trigger: () => ({ trigger: 'recovery' }),
      'from/to (1 day)': () => {
        const from = windowStart(1);
        return { from, to: new Date(from.getTime() + DAY_MS) };
      },
      'outcome+from/to (7 days)': () => {
        const from = windowStart(7);
        return { outcomes: ['denied'], from, to: new Date(from.getTime() + 7 * DAY_MS) };
      },
      'outcomes×2+from/to (1 day)': () => {
        const from = windowStart(1);
        return { outcomes: ['denied', 'rate_limited'], from, to: new Date(from.getTime() + DAY_MS) };
      },
    };

    log('measuring pages (limit 50)');
    const pageDb: Record<string, Percentiles> = {};
    const pageHttp: Record<string, Percentiles> = {};
    for (const [label, make] of Object.entries(combos)) {
      const dbSamples: number[] = [];
      const httpSamples: number[] = [];
      await r.list(make(), 50, null); // warm-up
      for (let i = 0; i < iterations; i++) {
        const f = make();
        let page: Awaited<ReturnType<AttemptRepository['list']>> | null = null;
        dbSamples.push(
          await timed(async () => {
            page = await r.list(f, 50, null);
          }),
        );
        let body: Record<string, unknown> = {};
        httpSamples.push(
          await timed(async () => {
            body = await getJson(`/v1/attempts${filterToQuery(f, { limit: '50' })}`);
          }),
        );
        const items = body.items as { attemptId: string }[];
        const dbItems = (page as { items: { attemptId: string }[] } | null)?.items ?? [];
        if (opts.smoke) {
          check(
            JSON.stringify(items.map((x) => x.attemptId)) === JSON.stringify(dbItems.map((x) => x.attemptId)),
            `page "${label}" #${i}: HTTP and repository agree (${items.length} items)`,
          );
        }
      }
      pageDb[label] = percentiles(dbSamples);
      pageHttp[label] = percentiles(httpSamples);
    }

    log('paging through single jobs');
    const pagingDb: number[] = [];
    const pagingHttp: number[] = [];
    let rowsPerJob = 0;
    let pages = 0;
    const counter = new Client({ connectionString: url });
    await counter.connect();
    try {
      for (let i = 0; i < Math.max(iterations / 2, 3); i++) {
        const job = benchJob(pick(JOBS));
        const expected = Number(
          (
            await counter.query<{ n: string }>(
              'SELECT count(*) AS n FROM attempts WHERE service_principal_id = $1 AND job_id = $2',
              [job.servicePrincipalId, job.jobId],
            )
          ).rows[0]?.n ?? 0,
        );
        const seen = new Set<string>();
        pagingDb.push(
          await timed(async () => {
            let after = null;
            do {
              const page: Awaited<ReturnType<AttemptRepository['list']>> = await r.list(job, 50, after);
              after = page.next;
            } while (after !== null);
          }),
        );
        let n = 0;
        pagingHttp.push(
          await timed(async () => {
            let cursor: string | null = null;
            n = 0;
            do {
              const body = await getJson(
                `/v1/attempts${filterToQuery(job, cursor ? { limit: '50', cursor } : { limit: '50' })}`,
              );
              for (const it of body.items as { attemptId: string }[]) {
                seen.add(it.attemptId);
              }
              cursor = body.nextCursor as string | null;
              n++;
            } while (cursor !== null);
          }),
        );
        check(
          seen.size === expected,
          `paging job ${job.jobId.slice(0, 13)}…: ${seen.size} of ${expected} rows`,
        );
        rowsPerJob = expected;
        pages = n;
      }
    } finally {
      await counter.end();
    }

    log('measuring statistics over 30 days');
    const stats: AuditBenchResult['stats'] = {};
    const to = newest;
    const from = new Date(newest.getTime() - 30 * DAY_MS);
    const statsCombos: [string, AttemptFilter, string, () => Promise<unknown>][] = [
      ['by outcome, 30 days', { from, to }, '', () => r.stats({ from, to })],
      ['by job (top 20), 30 days', { from, to }, 'job', () => r.statsByJob({ from, to }, 20)],
      ['by actor (top 20), 30 days', { from, to }, 'actor', () => r.statsByActor({ from, to }, 20)],
      [
        'refused today by job',
        { from: new Date(newest.getTime() - DAY_MS), to, outcomes: ['denied', 'rate_limited'] },
        'job',
        () =>
          r.statsByJob(
            { from: new Date(newest.getTime() - DAY_MS), to, outcomes: ['denied', 'rate_limited'] },
            20,
          ),
      ],
    ];
    for (const [label, f, groupBy, dbCall] of statsCombos) {
      const db: number[] = [];
      const http: number[] = [];
      const n = opts.smoke ? 2 : 5;
      for (let i = 0; i < n; i++) {
        db.push(await timed(dbCall));
        let body: Record<string, unknown> = {};
        http.push(
          await timed(async () => {
            body = await getJson(`/v1/attempts/stats${filterToQuery(f, groupBy ? { groupBy } : {})}`);
          }),
        );
        if (opts.smoke && i === 0 && !groupBy) {
          const c = new Client({ connectionString: url });
          await c.connect();
          const expected = Number(
            (
              await c.query<{ n: string }>(
                'SELECT count(*) AS n FROM attempts WHERE created_at >= $1 AND created_at < $2',
                [from, to],
              )
            ).rows[0]?.n,
          );
          await c.end();
          check(body.total === expected, `stats ${label}: total ${String(body.total)} = ${expected}`);
        }
      }
      stats[label] = { db: percentiles(db), http: percentiles(http) };
    }

    log('exporting every row as NDJSON over HTTP');
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const baseline = process.memoryUsage().rss;
    const heapBaseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    let heapPeak = heapBaseline;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapUsed);
    }, 50);
    let exported = 0;
    let bytes = 0;
    let previous: string | null = null;
    let tail = '';
    const ids = opts.smoke ? new Set<string>() : null;
    const tExport = process.hrtime.bigint();
    try {
      // node:http rather than fetch: classic streams with socket backpressure, and little client-side buffering.
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        get(`${base}/v1/attempts/export?format=ndjson`, { headers }, resolve).on('error', reject);
      });
      check(res.statusCode === 200, 'export answers 200');
      check(
        String(res.headers['content-type'] ?? '').startsWith('application/x-ndjson'),
        'export is application/x-ndjson',
      );
      const decoder = new TextDecoder();
      for await (const chunk of res) {
        const value = chunk as Buffer;
        bytes += value.byteLength;
        for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) {
          exported++;
        }
        if (opts.smoke) {
          // Correctness: every line is an Attempt, newest first, each once.
          tail += decoder.decode(value, { stream: true });
          const lines = tail.split('\n');
          tail = lines.pop() ?? '';
          for (const line of lines) {
            const a = JSON.parse(line) as { attemptId: string; createdAt: string };
            if (previous !== null && a.createdAt > previous) {
              throw new Error('export is not newest first');
            }
            previous = a.createdAt;
            ids?.add(a.attemptId);
          }
        }
      }
    } finally {
      clearInterval(sampler);
    }
    const seconds = Number(process.hrtime.bigint() - tExport) / 1e9;
    peak = Math.max(peak, process.memoryUsage().rss);
    // What the export left behind once garbage is collected (needs --expose-gc): a leak would show here.
    gc?.();
    const heapRetained = process.memoryUsage().heapUsed - heapBaseline;
    check(
      exported === rows,
      `export wrote ${exported.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows`,
    );
    if (ids) {
      check(
        ids.size === rows && tail === '',
        'export: every row once, newest first, each line a JSON Attempt',
      );
    }

    return {
      rows,
      jobs: JOBS,
      actors: ACTORS,
      seedSeconds,
      pageDb,
      pageHttp,
      jobPaging: { rowsPerJob, pages, db: percentiles(pagingDb), http: percentiles(pagingHttp) },
      stats,
      export: {
        format: 'ndjson',
        rows: exported,
        bytes,
        seconds: round(seconds, 2),
        rowsPerSecond: Math.round(exported / seconds),
        rssBaselineMb: round(baseline / 1048576, 1),
        rssPeakGrowthMb: round((peak - baseline) / 1048576, 1),
        heapPeakGrowthMb: round((heapPeak - heapBaseline) / 1048576, 1),
        heapRetainedMb: gc ? round(heapRetained / 1048576, 1) : null,
      },
      checks,
    };
  } finally {
    await app?.close().catch(() => undefined);
    await issuer?.close().catch(() => undefined);
    await repos?.close().catch(() => undefined);
    await admin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

/** The result as a markdown report. */
export function auditBenchMarkdown(r: AuditBenchResult): string {
  const lines: string[] = [];
  lines.push(
    `### Audit benchmark: ${r.rows.toLocaleString('en-US')} attempts, ${r.jobs.toLocaleString('en-US')} jobs, ${r.actors} actors, ${DAYS} days (seeded in ${r.seedSeconds} s)`,
    '',
    '| Page (limit 50) | DB p50 ms | DB p95 ms | HTTP p50 ms | HTTP p95 ms |',
    '|---|---:|---:|---:|---:|',
  );
  for (const [label, db] of Object.entries(r.pageDb)) {
    const http = r.pageHttp[label];
    lines.push(`| ${label} | ${db.p50} | ${db.p95} | ${http?.p50 ?? '-'} | ${http?.p95 ?? '-'} |`);
  }
  lines.push(
    `| all pages of one job (${r.jobPaging.rowsPerJob} rows, ${r.jobPaging.pages} pages) | ${r.jobPaging.db.p50} | ${r.jobPaging.db.p95} | ${r.jobPaging.http.p50} | ${r.jobPaging.http.p95} |`,
    '',
    '| Statistics | DB p50 ms | DB p95 ms | HTTP p50 ms | HTTP p95 ms |',
    '|---|---:|---:|---:|---:|',
  );
  for (const [label, s] of Object.entries(r.stats)) {
    lines.push(`| ${label} | ${s.db.p50} | ${s.db.p95} | ${s.http.p50} | ${s.http.p95} |`);
  }
  const e = r.export;
  lines.push(
    '',
    '| Export | rows | MB | seconds | rows/s | RSS growth (MB) | heap growth (MB) | heap retained after GC (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| NDJSON over HTTP | ${e.rows.toLocaleString('en-US')} | ${round(e.bytes / 1048576, 1)} | ${e.seconds} | ${e.rowsPerSecond.toLocaleString('en-US')} | ${e.rssPeakGrowthMb} (baseline ${e.rssBaselineMb}) | ${e.heapPeakGrowthMb} | ${e.heapRetainedMb ?? '-'} |`,
  );
  return lines.join('\n');
}
