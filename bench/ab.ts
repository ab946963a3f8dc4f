import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { startDevIssuer } from '../apps/api/src/dev/dev-issuer';
import { GUARD_SETTINGS } from './lib/guard-settings';
import { runLoad } from './lib/load';
import {
  CLK_TCK,
  cpuSeconds,
  freePort,
  rssMb,
  startProc,
  stopProc,
  waitForHttp200,
  waitForOutput,
  type Proc,
} from './lib/procs';

/**
 * Two or more API builds or settings alternated on one simulator and database (dev aid):
 *   node -r ./bench/swc-register.js bench/ab.ts '<json variants>' [--path skip|start] [--rounds N] [--duration S]
 * variants: [{"name":"base","dist":"/tmp/dist-base","env":{},"nodeArgs":[]}, ...]. Graph latency 0, 50 connections.
 * Prints API CPU µs per response per run (utime + stime from /proc), ABBA order.
 */
interface VariantSpec {
  name: string;
  dist: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
}
const ROOT = resolve(__dirname, '..');
const LOGS = join(ROOT, 'bench', 'results', 'logs');
const args = process.argv.slice(2);
const arg = (n: string, d: string): string => (args.includes(n) ? (args[args.indexOf(n) + 1] ?? d) : d);
const variants = JSON.parse(args[0] ?? '[]') as VariantSpec[];
const PATH = arg('--path', 'skip');
const ROUNDS = Number(arg('--rounds', '4'));
const DURATION = Number(arg('--duration', '6'));
const admin = 'postgresql://postgres@127.0.0.1:5432/postgres';

function sysSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[12]) / CLK_TCK;
}

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  const dbName = `sjg_ab_${randomBytes(4).toString('hex')}`;
  const u = new URL(admin);
  u.pathname = `/${dbName}`;
  const dbUrl = u.toString();
  const pg = new Client({ connectionString: admin });
  await pg.connect();
  await pg.query(`CREATE DATABASE "${dbName}"`);
  const procs: Proc[] = [];
  try {
    const dist0 = resolve(variants[0]?.dist ?? 'dist');
    const mig = startProc(
      'migrate',
      [join(dist0, 'apps/api/apps/api/src/cli/migrate.js')],
      { ...process.env, DATABASE_URL: dbUrl },
      join(LOGS, 'ab-migrate.log'),
    );
    if ((await mig.exited) !== 0) {
      throw new Error('migrate failed');
    }
    const caFile = join(ROOT, 'bench', 'results', 'ab-ca.pem');
    const sim = startProc(
      'sim',
      [join(dist0, 'apps/graph-simulator/apps/graph-simulator/src/main.js')],
      { ...process.env, PORT: '0', SIM_SEED: 'empty', SIM_LATENCY_MS: '0', SIM_CA_FILE: caFile },
      join(LOGS, 'ab-sim.log'),
    );
    procs.push(sim);
    await waitForOutput(sim, /admin: .*\n/);
    const printed = sim.output();
    const v = (n: string): string => new RegExp(`${n}=(\\S+)`).exec(printed)?.[1] ?? '';
    const origin = (/listening on (https?:\/\/[^\s]+)/.exec(printed)?.[1] ?? '').replace(/^https:/, 'http:');
    const simAdmin = async (method: string, path: string, body?: unknown): Promise<void> => {
      const r = await fetch(`${origin}/__sim/${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      await r.arrayBuffer();
    };
    const issuer = await startDevIssuer();
    const token = await issuer.sign({ roles: ['JobControl.Start'], name: 'AB', expiresIn: 3600 * 3 });
    const apis: { spec: VariantSpec; proc: Proc; origin: string }[] = [];
    for (const spec of variants) {
      const port = await freePort();
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.NODE_OPTIONS;
      const proc = startProc(
        `ab-${spec.name}`,
        [...(spec.nodeArgs ?? []), join(resolve(spec.dist), 'apps/api/apps/api/src/main.js')],
        {
          ...env,
          NODE_ENV: 'production',
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: dbUrl,
          GRAPH_BASE_URL: v('GRAPH_BASE_URL'),
          AZURE_AUTHORITY_HOST: v('AZURE_AUTHORITY_HOST'),
          AZURE_TENANT_ID: v('AZURE_TENANT_ID'),
          AZURE_CLIENT_ID: v('AZURE_CLIENT_ID'),
          AZURE_CLIENT_SECRET: v('AZURE_CLIENT_SECRET'),
          NODE_EXTRA_CA_CERTS: caFile,
          AUTH_ISSUER: issuer.issuer,
          AUTH_AUDIENCE: issuer.audience,
          AUTH_JWKS_URI: issuer.jwksUri,
          AUDIT_CURSOR_KEY: randomBytes(32).toString('base64'),
          ...GUARD_SETTINGS,
          REPLICA_ID: spec.name,
          ...(spec.env ?? {}),
        },
        join(LOGS, `ab-${spec.name}.log`),
        { captureStdout: false },
      );
      procs.push(proc);
      const o = `http://127.0.0.1:${port}`;
      await waitForHttp200(proc, `${o}/health/ready`);
      apis.push({ spec, proc, origin: o });
    }
    await sleep(1000);
    for (const a of apis) {
      process.stdout.write(`${a.spec.name}: idle RSS ${rssMb(a.proc.pid)?.toFixed(1)} MB\n`);
    }
    const sp = randomUUID();
    const jobs = PATH === 'skip' ? 1000 : 20_000;
    if (PATH === 'skip') {
      await simAdmin('POST', 'jobs', { servicePrincipalId: sp, count: jobs, status: 'Active' });
    }
    const results = new Map<string, number[]>();
    for (let round = 0; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? apis : [...apis].reverse();
      for (const a of order) {
        await sleep(500);
        if (PATH === 'start') {
          await simAdmin('POST', 'jobs', { servicePrincipalId: sp, count: jobs, status: 'Paused' });
        }
        const st0 = sysSeconds(a.proc.pid);
        const c0 = cpuSeconds(a.proc.pid) ?? 0;
        const load = await runLoad({
          mode: 'sustained',
          origin: a.origin,
          servicePrincipalId: sp,
          jobCount: jobs,
          connections: 50,
          durationSeconds: round === 0 ? 3 : DURATION,
          headers: { authorization: `Bearer ${token}` },
        });
        const c1 = cpuSeconds(a.proc.pid) ?? 0;
        const sysShare = (sysSeconds(a.proc.pid) - st0) / Math.max(1e-9, c1 - c0);
        const us = ((c1 - c0) * 1e6) / Math.max(1, load.requests);
        const codes = JSON.stringify(load.statusCodes);
        process.stdout.write(
          `round ${round} ${a.spec.name.padEnd(10)} ${load.rps.toFixed(0).padStart(5)} req/s  api ${us.toFixed(0)} µs/req  sys ${(sysShare * 100).toFixed(0)}%  p50 ${load.latencyMs.p50?.toFixed(1)}  ${codes} load ${loadavg()[0]?.toFixed(1)}\n`,
        );
        if (round > 0) {
          results.set(a.spec.name, [...(results.get(a.spec.name) ?? []), us]);
        }
      }
    }
    for (const a of apis) {
      const xs = [...(results.get(a.spec.name) ?? [])].sort((x, y) => x - y);
      const med =
        xs.length % 2
          ? xs[(xs.length - 1) / 2]
          : ((xs[xs.length / 2 - 1] ?? 0) + (xs[xs.length / 2] ?? 0)) / 2;
      process.stdout.write(
        `${a.spec.name}: median ${med?.toFixed(0)} µs/req (${xs.map((x) => x.toFixed(0)).join(', ')}); peak-ish RSS now ${rssMb(a.proc.pid)?.toFixed(1)} MB\n`,
      );
    }
    await issuer.close();
  } finally {
    for (const p of procs.reverse()) {
      await stopProc(p).catch(() => undefined);
    }
    await pg.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await pg.end();
  }
}
main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`ab: ${String(e)}\n`);
    process.exit(1);
  },
);
