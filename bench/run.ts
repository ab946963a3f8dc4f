import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { startDevIssuer, type DevIssuer } from '../apps/api/src/dev/dev-issuer';
import { summariseProfile } from './lib/cpu-profile';
import { GUARD_SETTINGS } from './lib/guard-settings';
import { runLoad, type LoadResult } from './lib/load';
import { startPgProxy } from './lib/pg-proxy';
import {
  CLK_TCK,
  cpuSeconds,
  freePort,
  rssMb,
  rssSampler,
  startProc,
  stopProc,
  waitForHttp200,
  waitForOutput,
  type Proc,
} from './lib/procs';
import { renderReport } from './lib/report';
import type {
  BenchReport,
  CpuUse,
  DbWork,
  DoorBench,
  Footprint,
  HotJob,
  Run,
  Scenario,
  Variant,
} from './lib/types';

/** The same audit cursor key on every replica of a run, as production requires. */
const CURSOR_KEY = randomBytes(32).toString('base64');

/**
 * `npm run bench [-- --smoke]`: the guard's cost against a bare pass-through, side by side in one run (issue 9).
 * Everything runs as it does in production: the built API (NODE_ENV=production) on a throwaway PostgreSQL
 * database, the Graph simulator as its own process over HTTP, tokens from a dev issuer, the load generator in
 * its own process. Writes BENCHMARKS.md (full run) or bench/results/smoke.md (smoke: correctness checks only,
 * exits non-zero when one fails).
 */

const ROOT = resolve(__dirname, '..');
const RESULTS = join(ROOT, 'bench', 'results');
const LOGS = join(RESULTS, 'logs');
const API_MAIN = join(ROOT, 'dist/apps/api/apps/api/src/main.js');
/** Experiments (dev aid): `--api-dist <dir>` runs the API from another build, `--api-env K=V,...` adds settings. */
const API_DIST = process.argv.includes('--api-dist')
  ? process.argv[process.argv.indexOf('--api-dist') + 1]
  : undefined;
/** The node flags the product starts the API with (package.json start:prod, the Dockerfile's CMD). */
const PRODUCT_NODE_ARGS = ['--max-semi-space-size=32'];
const MIGRATE = join(ROOT, 'dist/apps/api/apps/api/src/cli/migrate.js');
const SIM_MAIN = join(ROOT, 'dist/apps/graph-simulator/apps/graph-simulator/src/main.js');
const SWC_REGISTER = join(ROOT, 'bench/swc-register.js');
const PASSTHROUGH = join(ROOT, 'bench/passthrough.ts');
const BARE_PASSTHROUGH = join(ROOT, 'bench/bare-passthrough.ts');
const PROFILE_EXIT = join(ROOT, 'bench/lib/profile-exit.js');
const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

const args = process.argv.slice(2);
const SMOKE = args.includes('--smoke');
/**
 * Development aids: `--only sidebyside,dbwork,hotjob,profile,recovery,audit`, `--rounds N`, `--duration S`,
 * `--latencies 100,0`, `--paths skip,start`; `--render` rewrites BENCHMARKS.md from bench/results/bench.json.
 */
function argValue(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const EXTRA_API_ENV: Record<string, string> = Object.fromEntries(
  (argValue('--api-env') ?? '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const ONLY = argValue('--only')?.split(',') ?? null;
const part = (name: string): boolean => ONLY === null || ONLY.includes(name);
const LATENCIES = (argValue('--latencies') ?? '100,0').split(',').map(Number);
const PATHS = (argValue('--paths') ?? 'skip,start')
  .split(',')
  .filter((x): x is 'skip' | 'start' => x === 'skip' || x === 'start');
const ROUNDS = Number(argValue('--rounds') ?? (SMOKE ? 1 : 3));
const DURATION_S = Number(argValue('--duration') ?? (SMOKE ? 1 : 10));
const WARMUP_S = SMOKE ? 1 : 3;
const CONNECTIONS = 50;
const SKIP_JOBS = 1000;
/** Paused jobs per start-path run: more than one run can use, so every request finds its job paused. */
const START_JOBS = SMOKE ? 10_000 : 60_000;
const HOT_REQUESTS = 300;
const DISTINCT_JOBS = 100;
const RECOVERY_JOBS = 10_000;
const AUDIT_ROWS = SMOKE ? 20_000 : 1_000_000;

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

interface Sim {
  proc: Proc;
  origin: string;
  env: Record<string, string>;
}

class Bench {
  readonly checks: { ok: boolean; what: string }[] = [];
  readonly procs: Proc[] = [];
  readonly adminUrl = process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL;
  readonly dbName = `sjg_bench_${randomBytes(4).toString('hex')}`;
  readonly dbUrl = withDatabase(this.adminUrl, this.dbName);
  admin!: Client;
  sim!: Sim;
  issuer!: DevIssuer;
  token = '';

  check(ok: boolean, what: string): boolean {
    this.checks.push({ ok, what });
    log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    return ok;
  }

  async setup(): Promise<void> {
    mkdirSync(LOGS, { recursive: true });
    this.admin = new Client({ connectionString: this.adminUrl });
    await this.admin.connect();
    await this.admin.query(`CREATE DATABASE "${this.dbName}"`);
    log(`database ${this.dbName} created`);
    const migrate = startProc(
      'migrate',
      [MIGRATE],
      { ...process.env, DATABASE_URL: this.dbUrl },
      join(LOGS, 'migrate.log'),
    );
    const code = await migrate.exited;
    if (code !== 0) {
      throw new Error(`npm run db:migrate failed (exit ${String(code)}); see bench/results/logs/migrate.log`);
    }
    const caFile = join(RESULTS, 'graph-simulator-ca.pem');
    const sim = startProc(
      'simulator',
      [SIM_MAIN],
      { ...process.env, PORT: '0', SIM_SEED: 'empty', SIM_LATENCY_MS: '0', SIM_CA_FILE: caFile },
      join(LOGS, 'simulator.log'),
    );
    this.procs.push(sim);
    const printed = (await waitForOutput(sim, /admin: .*\n/))[0] && sim.output();
    const value = (name: string): string => {
      const m = new RegExp(`${name}=(\\S+)`).exec(printed);
      if (!m?.[1]) {
        throw new Error(`the simulator did not print ${name}`);
      }
      return m[1];
    };
    const origin = /listening on (https?:\/\/[^\s]+)/.exec(printed)?.[1] ?? '';
    this.sim = {
      proc: sim,
      origin: origin.replace(/^https:/, 'http:'),
      env: {
        GRAPH_BASE_URL: value('GRAPH_BASE_URL'),
        AZURE_AUTHORITY_HOST: value('AZURE_AUTHORITY_HOST'),
        AZURE_TENANT_ID: value('AZURE_TENANT_ID'),
        AZURE_CLIENT_ID: value('AZURE_CLIENT_ID'),
        AZURE_CLIENT_SECRET: value('AZURE_CLIENT_SECRET'),
        NODE_EXTRA_CA_CERTS: caFile,
        SIM_CA_FILE: caFile,
      },
    };
    this.issuer = await startDevIssuer();
    this.token = await this.issuer.sign({
      roles: ['JobControl.Start'],
      name: 'Bench caller',
      expiresIn: 3 * 3600,
    });
    log(`simulator on ${this.sim.origin}, dev issuer on ${this.issuer.issuer}`);
  }

  async simAdmin(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.sim.origin}/__sim/${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const json: unknown = await res.json();
    if (res.status >= 300) {
      throw new Error(`simulator ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    }
    return json;
  }

  async simCounters(): Promise<{ reads: number; starts: number; harmfulStarts: number; gets: number }> {
    return (await this.simAdmin('GET', 'counters')) as {
      reads: number;
      starts: number;
      harmfulStarts: number;
      gets: number;
    };
  }

  async setLatency(ms: number): Promise<void> {
    await this.simAdmin('POST', 'latency', { latencyMs: ms });
  }

  async seed(sp: string, count: number, status: 'Active' | 'Paused'): Promise<void> {
    await this.simAdmin('POST', 'jobs', { servicePrincipalId: sp, count, status });
  }

  apiEnv(port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) {
      // Nothing from the caller's environment may change what is measured.
      if (
        /^(AZURE_|AUTH_|GRAPH_|RATE_LIMIT|START_COOLDOWN|RECOVERY_|LOG_LEVEL|REPLICA_ID|NODE_OPTIONS)/.test(
          key,
        )
      ) {
        delete env[key];
      }
    }
    return {
      ...env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: this.dbUrl,
      ...this.sim.env,
      AUTH_ISSUER: this.issuer.issuer,
      AUTH_AUDIENCE: this.issuer.audience,
      AUTH_JWKS_URI: this.issuer.jwksUri,
      AUDIT_CURSOR_KEY: CURSOR_KEY,
      ...GUARD_SETTINGS,
      ...EXTRA_API_ENV,
      ...extra,
    };
  }

  async startApi(
    name: string,
    extra: Record<string, string> = {},
    nodeArgs: string[] = [],
  ): Promise<{ proc: Proc; origin: string; readyMs: number }> {
    const port = await freePort();
    const main = API_DIST ? resolve(API_DIST, 'apps/api/apps/api/src/main.js') : API_MAIN;
    const proc = startProc(
      name,
      [...PRODUCT_NODE_ARGS, ...nodeArgs, main],
      this.apiEnv(port, extra),
      join(LOGS, `${name}.log`),
      {
        captureStdout: false,
      },
    );
    this.procs.push(proc);
    const origin = `http://127.0.0.1:${port}`;
    const readyMs = await waitForHttp200(proc, `${origin}/health/ready`);
    return { proc, origin, readyMs };
  }

  async startPassthrough(): Promise<{ proc: Proc; origin: string }> {
    const proc = startProc(
      'passthrough',
      ['-r', SWC_REGISTER, PASSTHROUGH],
      { ...process.env, ...this.sim.env, PORT: '0' },
      join(LOGS, 'passthrough.log'),
    );
    this.procs.push(proc);
    const m = await waitForOutput(proc, /passthrough listening on (\d+)/);
    return { proc, origin: `http://127.0.0.1:${m[1] ?? ''}` };
  }

  async startBarePassthrough(): Promise<{ proc: Proc; origin: string }> {
    const proc = startProc(
      'bare-passthrough',
      ['-r', SWC_REGISTER, BARE_PASSTHROUGH],
      { ...process.env, ...this.sim.env, PORT: '0' },
      join(LOGS, 'bare-passthrough.log'),
    );
    this.procs.push(proc);
    const m = await waitForOutput(proc, /bare passthrough listening on (\d+)/);
    return { proc, origin: `http://127.0.0.1:${m[1] ?? ''}` };
  }

  async stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopProc(p, signal);
    const i = this.procs.indexOf(p);
    if (i >= 0) {
      this.procs.splice(i, 1);
    }
  }

  /** CPU seconds per process, plus per backend pid of the bench database. */
  async cpuSnapshot(
    pids: Partial<Record<keyof CpuUse, number>>,
  ): Promise<{ procs: Record<string, number>; pg: Map<number, number> }> {
    const procs: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      procs[name] = pid === undefined ? 0 : (cpuSeconds(pid) ?? 0);
    }
    const { rows } = await this.admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [this.dbName],
    );
    const pg = new Map<number, number>();
    for (const r of rows) {
      const c = cpuSeconds(r.pid);
      if (c !== null) {
        pg.set(r.pid, c);
      }
    }
    return { procs, pg };
  }

  cpuDelta(
    a: { procs: Record<string, number>; pg: Map<number, number> },
    b: { procs: Record<string, number>; pg: Map<number, number> },
    loadCpu: number,
  ): CpuUse {
    let pg = 0;
    for (const [pid, c] of b.pg) {
      pg += c - (a.pg.get(pid) ?? 0);
    }
    const d = (k: string): number => (b.procs[k] ?? 0) - (a.procs[k] ?? 0);
    return {
      api: d('api'),
      passthrough: d('passthrough'),
      bare: d('bare'),
      simulator: d('simulator'),
      postgres: pg,
      load: loadCpu,
    };
  }

  async xactCount(): Promise<number> {
    const { rows } = await this.admin.query<{ n: string }>(
      'SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = $1',
      [this.dbName],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    for (const p of [...this.procs].reverse()) {
      await stopProc(p).catch(() => undefined);
    }
    this.procs.length = 0;
    await this.issuer?.close().catch(() => undefined);
    if (this.admin) {
      await this.admin
        .query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`)
        .catch((e: unknown) => log(`could not drop ${this.dbName}: ${String(e)}`));
      await this.admin.end().catch(() => undefined);
      log(`database ${this.dbName} dropped`);
    }
  }
}

// ------------------------------------------------------------------ side by side

interface Targets {
  guard: Proc;
  guardOrigin: string;
  passthrough: Proc;
  passthroughOrigin: string;
  bare: Proc;
  bareOrigin: string;
}

const VARIANT_ORDER: Variant[] = ['guard', 'passthrough', 'bare'];

async function measureRun(
  b: Bench,
  t: Targets,
  s: Scenario,
  sp: string,
  variant: Variant,
  round: number,
  seconds: number,
): Promise<Run> {
  // Let the previous run's last requests (still in flight when its load stopped) finish first: they would
  // start re-paused jobs of this run, and land in its counters.
  await sleep(500 + 3 * s.latencyMs);
  if (s.path === 'start') {
    await b.seed(sp, s.jobs, 'Paused');
  }
  await b.simAdmin('DELETE', 'counters');
  await b.simAdmin('DELETE', 'requests');
  const pids = {
    api: t.guard.pid,
    passthrough: t.passthrough.pid,
    bare: t.bare.pid,
    simulator: b.sim.proc.pid,
  };
  const before = await b.cpuSnapshot(pids);
  const load = await runLoad({
    mode: 'sustained',
    origin: variant === 'guard' ? t.guardOrigin : variant === 'bare' ? t.bareOrigin : t.passthroughOrigin,
    servicePrincipalId: sp,
    jobCount: s.jobs,
    connections: s.connections,
    durationSeconds: seconds,
    headers: { authorization: `Bearer ${b.token}` },
  });
  const after = await b.cpuSnapshot(pids);
  const c = await b.simCounters();
  return {
    variant,
    round,
    load,
    cpu: b.cpuDelta(before, after, load.cpuSeconds),
    graph: { reads: c.gets, starts: c.starts, harmfulStarts: c.harmfulStarts },
  };
}

function checkRun(b: Bench, s: Scenario, r: Run): void {
  const expected = s.path === 'skip' ? '409' : '200';
  const codes = Object.keys(r.load.statusCodes);
  const label = `${s.key} ${r.variant} round ${r.round}`;
  b.check(
    r.load.requests > 0 && r.load.errors === 0 && r.load.timeouts === 0,
    `${label}: ${r.load.requests} responses, no errors or timeouts`,
  );
  b.check(
    codes.length === 1 && codes[0] === expected,
    `${label}: every response ${expected} (${JSON.stringify(r.load.statusCodes)})`,
  );
  // Requests still in flight when the load stops are served but not counted as responses: up to one per connection.
  const within = (n: number, want: number): boolean => n >= want && n <= want + s.connections;
  b.check(
    within(r.graph.reads, r.load.requests),
    `${label}: one Graph status read per request (${r.graph.reads} reads)`,
  );
  const wantStarts = s.path === 'skip' ? 0 : r.load.requests;
  b.check(
    within(r.graph.starts, wantStarts) && r.graph.harmfulStarts === 0,
    `${label}: ${r.graph.starts} Graph starts for ${wantStarts} started responses, none harmful`,
  );
}

async function sideBySide(
  b: Bench,
  t: Targets,
  latencyMs: number,
  path: 'skip' | 'start',
): Promise<Scenario> {
  const sp = randomUUID();
  const s: Scenario = {
    key: `${path}-${latencyMs}ms`,
    title:
      path === 'skip'
        ? `Skip path (every job Active: status read, attempt row, 409), Graph latency ${latencyMs} ms`
        : `Start path (every job Paused: status read + start, attempt row, 200), Graph latency ${latencyMs} ms`,
    path,
    latencyMs,
    jobs: path === 'skip' ? SKIP_JOBS : START_JOBS,
    connections: CONNECTIONS,
    durationSeconds: DURATION_S,
    runs: [],
  };
  await b.setLatency(latencyMs);
  if (path === 'skip') {
    await b.seed(sp, s.jobs, 'Active');
  }
  log(`${s.key}: warm-up`);
  for (const v of VARIANT_ORDER) {
    await measureRun(b, t, s, sp, v, 0, WARMUP_S);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    // ABC CBA: the order reverses between rounds, so no variant always runs first or last.
    const order: Variant[] = round % 2 === 1 ? VARIANT_ORDER : [...VARIANT_ORDER].reverse();
    for (const v of order) {
      const r = await measureRun(b, t, s, sp, v, round, DURATION_S);
      log(
        `${s.key} round ${round} ${v.padEnd(11)} ${r.load.rps.toFixed(0).padStart(6)} req/s  p50 ${r.load.latencyMs.p50?.toFixed(2)} ms  p99 ${r.load.latencyMs.p99?.toFixed(2)} ms  cpu api ${r.cpu.api.toFixed(2)} pt ${r.cpu.passthrough.toFixed(2)} bare ${(r.cpu.bare ?? 0).toFixed(2)} sim ${r.cpu.simulator.toFixed(2)} pg ${r.cpu.postgres.toFixed(2)} s`,
      );
      checkRun(b, s, r);
      s.runs.push(r);
    }
  }
  return s;
}

// ------------------------------------------------------------------ the Graph-compatible door next to /v1

/**
 * The same guard process answers POST /v1/…/start and POST /v1.0/…/start (the door) in alternation (ABBA), at the
 * first configured Graph latency: the difference is what the door's HTTP shape costs on top of the same decision.
 */
async function doorVsV1(b: Bench): Promise<DoorBench> {
  const latencyMs = LATENCIES[0] ?? 100;
  const api = await b.startApi('api-door', { REPLICA_ID: 'bench-door' });
  await b.setLatency(latencyMs);
  const report: DoorBench = { latencyMs, paths: [] };
  for (const path of PATHS) {
    const sp = randomUUID();
    const jobs = path === 'skip' ? SKIP_JOBS : START_JOBS;
    if (path === 'skip') {
      await b.seed(sp, jobs, 'Active');
    }
    const run = async (prefix: '/v1' | '/v1.0', seconds: number): Promise<LoadResult> => {
      await sleep(500 + 3 * latencyMs);
      if (path === 'start') {
        await b.seed(sp, jobs, 'Paused');
      }
      return runLoad({
        mode: 'sustained',
        origin: api.origin,
        prefix,
        servicePrincipalId: sp,
        jobCount: jobs,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        headers: { authorization: `Bearer ${b.token}` },
      });
    };
    log(`door-${path}-${latencyMs}ms: warm-up`);
    await run('/v1', WARMUP_S);
    await run('/v1.0', WARMUP_S);
    const rounds: DoorBench['paths'][number]['rounds'] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order: ('/v1' | '/v1.0')[] = round % 2 === 1 ? ['/v1', '/v1.0'] : ['/v1.0', '/v1'];
      const results: Partial<Record<'/v1' | '/v1.0', LoadResult>> = {};
      for (const prefix of order) {
        const r = await run(prefix, DURATION_S);
        results[prefix] = r;
        const want = path === 'skip' ? '409' : prefix === '/v1' ? '200' : '204';
        const codes = Object.keys(r.statusCodes);
        b.check(
          r.requests > 0 && r.errors === 0 && codes.length === 1 && codes[0] === want,
          `door-${path} round ${round} ${prefix}: every response ${want} (${JSON.stringify(r.statusCodes)})`,
        );
        log(
          `door-${path} round ${round} ${prefix.padEnd(5)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.latencyMs.p50?.toFixed(2)} ms  p99 ${r.latencyMs.p99?.toFixed(2)} ms`,
        );
      }
      rounds.push({ round, v1: results['/v1'] as LoadResult, door: results['/v1.0'] as LoadResult });
    }
    report.paths.push({ path, rounds });
  }
  await b.stop(api.proc);
  return report;
}

// ------------------------------------------------------------------ database work per decision

async function dbWork(b: Bench): Promise<DbWork> {
  const pgUrl = new URL(b.dbUrl);
  const proxy = await startPgProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  const proxied = new URL(b.dbUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  // Default cool-down (600 s) here, so a second request for a started job is refused at the claim.
  const api = await b.startApi('api-dbwork', {
    DATABASE_URL: proxied.toString(),
    START_COOLDOWN_SECONDS: '600',
    REPLICA_ID: 'dbwork',
  });
  try {
    await b.setLatency(0);
    const n = SMOKE ? 100 : 1000;
    const spSkip = randomUUID();
    const spStart = randomUUID();
    await b.seed(spSkip, n, 'Active');
    await b.seed(spStart, n, 'Paused');
    const headers = { authorization: `Bearer ${b.token}` };
    const batches: DbWork['batches'] = [];
    await sleep(200);
    const xact0 = await b.xactCount();
    const batch = async (label: string, sp: string, expected: string): Promise<void> => {
      proxy.reset();
      const r: LoadResult = await runLoad({
        mode: 'sustained',
        origin: api.origin,
        servicePrincipalId: sp,
        jobCount: n,
        connections: 10,
        amount: n,
        headers,
      });
      const counts = proxy.counts();
      batches.push({
        label,
        requests: r.requests,
        statusCodes: r.statusCodes,
        counts,
        perRequest: counts.roundTrips / r.requests,
      });
      b.check(
        r.requests === n && Object.keys(r.statusCodes).join() === expected,
        `db work, ${label}: ${n} requests, all ${expected} (${JSON.stringify(r.statusCodes)})`,
      );
      log(
        `db work, ${label}: ${counts.roundTrips} round trips for ${r.requests} requests (${(counts.roundTrips / r.requests).toFixed(3)} each), ${counts.begins} BEGINs`,
      );
    };
    await batch('skip path (job Active)', spSkip, '409');
    await batch('start path (job Paused)', spStart, '200');
    await batch('refused at the claim (cool-down → rate_limited)', spStart, '429');
    // pg_stat_database is flushed by each backend when it goes idle, at most every 10 s: wait for it.
    await sleep(SMOKE ? 1500 : 11_500);
    const xact1 = await b.xactCount();
    const [skip, start, refused] = batches;
    b.check(
      skip?.perRequest === 2 && start?.perRequest === 2,
      'db work: exactly 2 round trips per decision (skip and start)',
    );
    b.check((refused?.perRequest ?? 99) <= 1, 'db work: a refusal at the claim costs 1 round trip');
    b.check(
      batches.every((x) => x.counts.begins === 0),
      'db work: no explicit transactions (each round trip is one autocommit statement)',
    );
    return { batches, xactDelta: xact1 - xact0, xactRequests: batches.reduce((a, x) => a + x.requests, 0) };
  } finally {
    await b.stop(api.proc);
    await proxy.close();
  }
}

// ------------------------------------------------------------------ hot job

/**
 * Attempts per outcome for one service principal, final and pending (a client on the bench database itself).
 */
async function outcomesFor(b: Bench, sp: string): Promise<Record<string, number>> {
  const db = new Client({ connectionString: b.dbUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ outcome: string; n: string }>(
      `SELECT outcome, count(*)::text AS n FROM (
         SELECT outcome::text AS outcome FROM attempts WHERE service_principal_id = $1
         UNION ALL SELECT 'pending' FROM pending_attempts WHERE service_principal_id = $1) AS a
       GROUP BY 1 ORDER BY 1`,
      [sp],
    );
    const out: Record<string, number> = {};
    for (const r of rows) {
      out[r.outcome] = Number(r.n);
    }
    return out;
  } finally {
    await db.end();
  }
}

const total = (o: Record<string, number>): number => Object.values(o).reduce((a, n) => a + n, 0);

async function hotJob(b: Bench): Promise<{ hot: HotJob; replicaReadyMs: number[] }> {
  const latencyMs = 100;
  await b.setLatency(latencyMs);
  log('hot job: starting replicas a, b, c');
  const replicas = await Promise.all(
    ['a', 'b', 'c'].map((id) =>
      b.startApi(`api-replica-${id}`, {
        REPLICA_ID: id,
        START_COOLDOWN_SECONDS: '600',
        RATE_LIMIT_WINDOW_SECONDS: '300',
      }),
    ),
  );
  try {
    const origins = replicas.map((r) => r.origin);
    const headers = { authorization: `Bearer ${b.token}` };

    const sp = randomUUID();
    await b.seed(sp, 1, 'Paused');
    await b.simAdmin('DELETE', 'counters');
    await b.simAdmin('DELETE', 'requests');
    const one = await runLoad({
      mode: 'burst',
      origins,
      servicePrincipalId: sp,
      jobCount: 1,
      count: HOT_REQUESTS,
      headers,
    });
    const c1 = await b.simCounters();
    const o1 = await outcomesFor(b, sp);
    b.check(
      c1.starts === 1 && c1.harmfulStarts === 0,
      `hot job: ${HOT_REQUESTS} concurrent requests on 3 replicas → ${c1.starts} Graph start (must be 1)`,
    );
    b.check(
      total(o1) === HOT_REQUESTS,
      `hot job: ${total(o1)} rows in attempts (must be ${HOT_REQUESTS}) ${JSON.stringify(o1)}`,
    );
    b.check(
      one.errors === 0 && (one.statusCodes['200'] ?? 0) === 1,
      `hot job: exactly one 200, no connection errors ${JSON.stringify(one.statusCodes)}`,
    );

    const sp2 = randomUUID();
    await b.seed(sp2, DISTINCT_JOBS, 'Paused');
    await b.simAdmin('DELETE', 'counters');
    const many = await runLoad({
      mode: 'burst',
      origins,
      servicePrincipalId: sp2,
      jobCount: DISTINCT_JOBS,
      count: DISTINCT_JOBS,
      headers,
    });
    const c2 = await b.simCounters();
    const o2 = await outcomesFor(b, sp2);
    b.check(
      c2.starts === DISTINCT_JOBS && c2.harmfulStarts === 0,
      `${DISTINCT_JOBS} distinct paused jobs at once → ${c2.starts} Graph starts (must be ${DISTINCT_JOBS})`,
    );
    b.check(
      total(o2) === DISTINCT_JOBS && (o2.started ?? 0) === DISTINCT_JOBS,
      `${DISTINCT_JOBS} distinct jobs: ${JSON.stringify(o2)}`,
    );
    return {
      replicaReadyMs: replicas.map((r) => r.readyMs),
      hot: {
        replicas: replicas.length,
        latencyMs,
        oneJob: {
          requests: one.requests,
          statusCodes: one.statusCodes,
          outcomes: o1,
          rows: total(o1),
          starts: c1.starts,
          reads: c1.gets,
          harmfulStarts: c1.harmfulStarts,
          p50: one.latencyMs.p50,
          p99: one.latencyMs.p99,
          max: one.latencyMs.max,
        },
        distinct: {
          jobs: DISTINCT_JOBS,
          statusCodes: many.statusCodes,
          starts: c2.starts,
          rows: total(o2),
          harmfulStarts: c2.harmfulStarts,
          p50: many.latencyMs.p50,
          p99: many.latencyMs.p99,
        },
      },
    };
  } finally {
    for (const r of replicas) {
      await b.stop(r.proc);
    }
  }
}

// ------------------------------------------------------------------ profile

async function profile(b: Bench): Promise<NonNullable<BenchReport['profile']>> {
  const dir = join(RESULTS, 'profile');
  mkdirSync(dir, { recursive: true });
  await b.setLatency(0);
  const api = await b.startApi('api-profiled', {}, [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    '-r',
    PROFILE_EXIT,
  ]);
  const sp = randomUUID();
  await b.seed(sp, SKIP_JOBS, 'Active');
  const headers = { authorization: `Bearer ${b.token}` };
  let load: LoadResult;
  try {
    // Warm-up (JIT, pools, Graph token), then the profiled load.
    await runLoad({
      mode: 'sustained',
      origin: api.origin,
      servicePrincipalId: sp,
      jobCount: SKIP_JOBS,
      connections: CONNECTIONS,
      durationSeconds: WARMUP_S,
      headers,
    });
    load = await runLoad({
      mode: 'sustained',
      origin: api.origin,
      servicePrincipalId: sp,
      jobCount: SKIP_JOBS,
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      headers,
    });
  } finally {
    await b.stop(api.proc, 'SIGUSR2');
  }
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${api.proc.pid}.`))
    .map((f) => join(dir, f))
    .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0];
  if (!file) {
    throw new Error('the profiled API wrote no .cpuprofile');
  }
  b.check(
    load.errors === 0 && Object.keys(load.statusCodes).join() === '409',
    `profiled run: ${load.requests} requests, all 409`,
  );
  return {
    summary: summariseProfile(file),
    file: file.slice(ROOT.length + 1),
    requests: load.requests,
    rps: load.rps,
  };
}

// ------------------------------------------------------------------ the other helpers' benches

async function optionalModule(file: string): Promise<Record<string, unknown> | null> {
  try {
    statSync(join(ROOT, 'bench', `${file}.ts`));
  } catch {
    return null;
  }
  const mod: unknown = await import(`./${file}`);
  return mod as Record<string, unknown>;
}

async function recovery(b: Bench): Promise<BenchReport['recovery']> {
  const mod = await optionalModule('recovery.bench');
  const fn = mod?.runRecoveryBench;
  if (typeof fn !== 'function') {
    return { missing: 'bench/recovery.bench.ts with runRecoveryBench() is not there yet' };
  }
  log(`recovery: one sweep over ${SMOKE ? 'a few' : RECOVERY_JOBS} watched jobs`);
  try {
    const run = fn as (o: {
      databaseUrl: string;
      jobs: number;
      smoke: boolean;
    }) => Promise<Record<string, unknown>>;
    const result = await run({ databaseUrl: b.dbUrl, jobs: RECOVERY_JOBS, smoke: SMOKE });
    b.check(true, `recovery bench ran: ${JSON.stringify(result)}`);
    return { result };
  } catch (error) {
    b.check(false, `recovery bench failed: ${error instanceof Error ? error.message : String(error)}`);
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function audit(b: Bench): Promise<BenchReport['audit']> {
  const mod = await optionalModule('audit.bench');
  const fn = mod?.runAuditBench;
  const md = mod?.auditBenchMarkdown;
  if (typeof fn !== 'function') {
    return { missing: 'bench/audit.bench.ts with runAuditBench() is not there yet' };
  }
  log(`audit: ${AUDIT_ROWS.toLocaleString('en-US')} attempts`);
  try {
    const run = fn as (o: {
      databaseUrl: string;
      rows: number;
      smoke: boolean;
      log: (l: string) => void;
    }) => Promise<{ checks?: string[] }>;
    const result = await run({
      databaseUrl: b.adminUrl,
      rows: AUDIT_ROWS,
      smoke: SMOKE,
      log: (l) => log(`audit: ${l}`),
    });
    b.check(true, `audit bench ran (${result.checks?.length ?? 0} checks of its own passed)`);
    const markdown =
      typeof md === 'function'
        ? (md as (r: unknown) => string)(result)
        : `\`\`\`json\n${JSON.stringify(result, null, 2)}\n\`\`\``;
    return { markdown };
  } catch (error) {
    b.check(false, `audit bench failed: ${error instanceof Error ? error.message : String(error)}`);
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  if (args.includes('--render')) {
    // Re-renders BENCHMARKS.md from the last full run's figures (after editing the report's text).
    const saved = JSON.parse(readFileSync(join(RESULTS, 'bench.json'), 'utf8')) as BenchReport;
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), renderReport(saved));
    log('BENCHMARKS.md re-rendered from bench/results/bench.json');
    return;
  }
  const t0 = performance.now();
  const b = new Bench();
  const report: BenchReport = {
    smoke: SMOKE,
    machine: {
      nproc: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      postgres: '',
      loadAvgStart: loadavg(),
      loadAvgEnd: [],
      date: new Date().toISOString(),
      clkTck: CLK_TCK,
    },
    settings: {
      ...GUARD_SETTINGS,
      ...EXTRA_API_ENV,
      ...(API_DIST ? { apiDist: API_DIST } : {}),
      connections: String(CONNECTIONS),
      durationSeconds: String(DURATION_S),
      rounds: String(ROUNDS),
    },
    scenarios: [],
    dbWork: null,
    hotJob: null,
    footprint: null,
    profile: null,
    audit: null,
    recovery: null,
    door: null,
    checks: b.checks,
    wallSeconds: 0,
  };
  let failure: unknown = null;
  const onSignal = (): void => {
    log('interrupted: stopping processes and dropping the database');
    void b.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    await b.setup();
    report.machine.postgres = (await b.admin.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '';

    if (part('sidebyside')) {
      // Side by side: the guard (one API process) and the pass-through, alternating, against one simulator.
      log('starting the API (NODE_ENV=production) and the pass-through');
      const guard = await b.startApi('api', { REPLICA_ID: 'bench' });
      const pt = await b.startPassthrough();
      const bare = await b.startBarePassthrough();
      await sleep(1000);
      const footprint: Footprint = {
        readyMs: guard.readyMs,
        rssIdleMb: rssMb(guard.proc.pid),
        rssPeakUnderLoadMb: null,
        passthroughRssIdleMb: rssMb(pt.proc.pid),
        passthroughRssPeakMb: null,
        bareRssIdleMb: rssMb(bare.proc.pid),
        bareRssPeakMb: null,
        replicaReadyMs: [],
      };
      const sampler = rssSampler([guard.proc.pid, pt.proc.pid, bare.proc.pid]);
      const targets: Targets = {
        guard: guard.proc,
        guardOrigin: guard.origin,
        passthrough: pt.proc,
        passthroughOrigin: pt.origin,
        bare: bare.proc,
        bareOrigin: bare.origin,
      };
      for (const latency of LATENCIES) {
        for (const path of PATHS) {
          report.scenarios.push(await sideBySide(b, targets, latency, path));
        }
      }
      const peak = sampler.stop();
      footprint.rssPeakUnderLoadMb = peak[guard.proc.pid] ?? null;
      footprint.passthroughRssPeakMb = peak[pt.proc.pid] ?? null;
      footprint.bareRssPeakMb = peak[bare.proc.pid] ?? null;
      report.footprint = footprint;
      await b.stop(guard.proc);
      await b.stop(pt.proc);
      await b.stop(bare.proc);
    }
    if (part('dbwork')) {
      report.dbWork = await dbWork(b);
    }
    if (part('door')) {
      report.door = await doorVsV1(b);
    }
    if (part('hotjob')) {
      const hot = await hotJob(b);
      report.hotJob = hot.hot;
      if (report.footprint) {
        report.footprint.replicaReadyMs = hot.replicaReadyMs;
      }
    }
    if (part('profile')) {
      report.profile = await profile(b);
    }
    if (part('recovery')) {
      report.recovery = await recovery(b);
    }
    if (part('audit')) {
      report.audit = await audit(b);
    }
  } catch (error) {
    failure = error;
    b.check(
      false,
      `bench aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    await b.close();
  }
  report.machine.loadAvgEnd = loadavg();
  report.wallSeconds = Math.round((performance.now() - t0) / 1000);
  const md = renderReport(report);
  const json = JSON.stringify(report, null, 2);
  if (SMOKE) {
    writeFileSync(join(RESULTS, 'smoke.md'), md);
    writeFileSync(join(RESULTS, 'smoke.json'), json);
    log('wrote bench/results/smoke.md and smoke.json');
  } else if (failure === null && ONLY === null) {
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), md);
    writeFileSync(join(RESULTS, 'bench.json'), json);
    log('wrote BENCHMARKS.md and bench/results/bench.json');
  } else {
    writeFileSync(join(RESULTS, 'partial.md'), md);
    writeFileSync(join(RESULTS, 'partial.json'), json);
    log('partial or aborted run: BENCHMARKS.md left as it was; report in bench/results/partial.md');
  }
  const failed = b.checks.filter((c) => !c.ok);
  log(`${b.checks.length - failed.length} checks passed, ${failed.length} failed (${report.wallSeconds} s)`);
  if (failed.length > 0) {
    for (const f of failed) {
      log(`FAILED: ${f.what}`);
    }
    process.exitCode = 1;
  }
  // Open handles (the load of the other benches' in-process apps) must not keep the bench alive.
  setTimeout(() => process.exit(), 500).unref();
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
