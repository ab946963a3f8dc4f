import { randomBytes, randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { startGraphSimulator } from '../apps/graph-simulator/src';
import { startDevIssuer } from '../apps/api/src/dev/dev-issuer';
import { migrate } from '../libs/persistence/src/migrator';
import { type TestApp, startApp } from '../test/support/harness';
import { startPgProxy } from './lib/pg-proxy';

/**
 * The notification outbox's figures (issue 17): dispatcher throughput to a local receiver, latency from a
 * committed change to its delivery (p50/p99), and the guard's round trips per decision with the outbox CTE in
 * its finalise statement. Real parts: the app as createApp builds it, PostgreSQL, a node:http receiver on
 * loopback, the Graph simulator over HTTP.
 */

export interface NotificationsBenchOptions {
  /** An admin connection: a throwaway database is created and dropped. */
  adminUrl: string;
  events: number;
  latencySamples: number;
  smoke: boolean;
  log: (line: string) => void;
}

export interface NotificationsBenchResult {
  throughput: Array<{ replicas: number; events: number; seconds: number; eventsPerSecond: number }>;
  latencyMs: { samples: number; p50: number; p99: number; max: number };
  roundTrips: Array<{ outcome: string; roundTrips: number; begins: number; events: number }>;
  checks: string[];
}

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';

interface Receiver {
  url: string;
  arrivals: Map<string, number>;
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string' && !arrivals.has(id)) {
        arrivals.set(id, performance.now());
      }
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, arrivals, server };
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error(`not done within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runNotificationsBench(
  opts: NotificationsBenchOptions,
): Promise<NotificationsBenchResult> {
  const name = `sjg_bench_notify_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: opts.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(opts.adminUrl);
  u.pathname = `/${name}`;
  const databaseUrl = u.toString();
  const checks: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) {
      throw new Error(`check failed: ${what}`);
    }
    checks.push(what);
  };
  const receiver = await startReceiver();
  const sim = await startGraphSimulator({ port: 0, seed: 'empty' });
  const issuer = await startDevIssuer();
  const db = new Client({ connectionString: databaseUrl });
  const apps: TestApp[] = [];
  try {
    await migrate(databaseUrl);
    await db.connect();
    const env = (replica: string, extra: Record<string, string> = {}) => ({
      REPLICA_ID: replica,
      RECOVERY_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      NOTIFY_WEBHOOK_URL: receiver.url,
      NOTIFY_WEBHOOK_SECRET: SECRET,
      ...extra,
    });
    const start = async (replica: string, extra: Record<string, string> = {}, url = databaseUrl) => {
      const app = await startApp({ databaseUrl: url, issuer, graph: sim, env: env(replica, extra) });
      apps.push(app);
      return app;
    };
    const closeAll = async () => {
      await Promise.all(apps.splice(0).map((a) => a.close()));
    };

    // ---------------------------------------------------------------- throughput, 1 and 2 replicas
    const throughput: NotificationsBenchResult['throughput'] = [];
    for (const replicas of [1, 2]) {
      for (let i = 0; i < replicas; i++) {
        await start(`bench-${i}`);
      }
      await db.query('DELETE FROM notification_events');
      receiver.arrivals.clear();
      const t0 = performance.now();
      // One transaction of events over 200 jobs (one NOTIFY at commit), as a burst of changes would be.
      await db.query(
        `INSERT INTO notification_events (id, type, service_principal_id, job_id, data)
         SELECT gen_random_uuid(), 'job.quarantined', $1, 'scim.' || (i % 200), jsonb_build_object('n', i)
         FROM generate_series(1, $2::int) AS i`,
        [SP, opts.events],
      );
      await until(() => receiver.arrivals.size >= opts.events, 300_000);
      const seconds = (performance.now() - t0) / 1000;
      throughput.push({ replicas, events: opts.events, seconds, eventsPerSecond: opts.events / seconds });
      opts.log(
        `throughput, ${replicas} replica(s): ${(opts.events / seconds).toFixed(0)} events/s (${opts.events} events in ${seconds.toFixed(2)} s)`,
      );
      check(receiver.arrivals.size === opts.events, `${replicas} replica(s): every event arrived`);
      const settled = async () =>
        Number(
          (
            await db.query<{ n: string }>(
              `SELECT count(*) AS n FROM notification_deliveries WHERE state <> 'delivered'`,
            )
          ).rows[0]?.n ?? -1,
        );
      const deadline = Date.now() + 30_000;
      while ((await settled()) !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      check((await settled()) === 0, `${replicas} replica(s): every delivery recorded as delivered`);
      await closeAll();
    }

    // ---------------------------------------------------------------- change → delivery latency
    await start('bench-latency');
    await db.query('DELETE FROM notification_events');
    receiver.arrivals.clear();
    const committed = new Map<string, number>();
    for (let i = 0; i < opts.latencySamples; i++) {
      const id = randomUUID();
      await db.query(
        `INSERT INTO notification_events (id, type, service_principal_id, job_id, data)
         VALUES ($1::uuid, 'job.needs_attention', $2, $3, '{}'::jsonb)`,
        [id, SP, `scim.latency.${i % 20}`],
      );
      committed.set(id, performance.now());
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => receiver.arrivals.size >= opts.latencySamples, 60_000);
    const latencies = [...committed]
      .map(([id, t]) => (receiver.arrivals.get(id) ?? Number.NaN) - t)
      .sort((a, b) => a - b);
    check(
      latencies.every((l) => Number.isFinite(l)),
      'every latency sample delivered',
    );
    const latencyMs = {
      samples: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? Number.NaN,
    };
    opts.log(
      `latency change → delivery: p50 ${latencyMs.p50.toFixed(1)} ms, p99 ${latencyMs.p99.toFixed(1)} ms`,
    );
    await closeAll();

    // ---------------------------------------------------------------- round trips per guarded decision
    const proxy = await startPgProxy(u.hostname || '127.0.0.1', Number(u.port || 5432));
    const proxied = new URL(databaseUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const roundTrips: NotificationsBenchResult['roundTrips'] = [];
    try {
      const app = await start(
        'bench-rt',
        { NOTIFY_DISPATCH_ENABLED: 'false', START_COOLDOWN_SECONDS: '0' },
        proxied.toString(),
      );
      const token = await issuer.sign({ roles: ['JobControl.Start'], oid: randomUUID(), name: 'bench' });
      for (const outcome of ['started', 'unknown'] as const) {
        const jobId = `scim.rt.${outcome}`;
        sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
        if (outcome === 'unknown') {
          sim.state.addFault({ operation: 'start', jobId, action: 'dropBefore', times: 1 });
        }
        const before = (await db.query<{ n: string }>('SELECT count(*) AS n FROM notification_events'))
          .rows[0]?.n;
        proxy.reset();
        const res = await fetch(`${app.url}/v1/servicePrincipals/${SP}/synchronization/jobs/${jobId}/start`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
        });
        const body = (await res.json()) as { outcome?: string };
        const counts = proxy.counts();
        const after = (await db.query<{ n: string }>('SELECT count(*) AS n FROM notification_events')).rows[0]
          ?.n;
        const events = Number(after) - Number(before);
        roundTrips.push({
          outcome: body.outcome ?? '?',
          roundTrips: counts.roundTrips,
          begins: counts.begins,
          events,
        });
        opts.log(
          `round trips, ${body.outcome}: ${counts.roundTrips} (${counts.begins} BEGINs), ${events} event(s) written`,
        );
        check(body.outcome === outcome, `decision ${outcome} reached`);
        check(counts.roundTrips <= 2, `${outcome}: at most 2 round trips per decision`);
        check(
          events === (outcome === 'unknown' ? 1 : 0),
          `${outcome}: ${outcome === 'unknown' ? 'one attempt.unknown event' : 'no event'} in those round trips`,
        );
      }
      await closeAll();
    } finally {
      await proxy.close();
    }
    return { throughput, latencyMs, roundTrips, checks };
  } finally {
    await Promise.all(apps.map((a) => a.close().catch(() => undefined)));
    await db.end().catch(() => undefined);
    await issuer.close();
    await sim.close();
    await new Promise<void>((r) => receiver.server.close(() => r()));
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

export function notificationsBenchMarkdown(r: NotificationsBenchResult): string {
  const lines = [
    '| dispatching replicas | events | seconds | events/s |',
    '|---|---|---|---|',
    ...r.throughput.map(
      (t) => `| ${t.replicas} | ${t.events} | ${t.seconds.toFixed(2)} | ${t.eventsPerSecond.toFixed(0)} |`,
    ),
    '',
    `Change → delivery (commit of the event's statement → arrival at the receiver), ${r.latencyMs.samples} samples: p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, max ${r.latencyMs.max.toFixed(1)} ms.`,
    '',
    '| guarded decision | database round trips | BEGINs | outbox events written |',
    '|---|---|---|---|',
    ...r.roundTrips.map((t) => `| ${t.outcome} | ${t.roundTrips} | ${t.begins} | ${t.events} |`),
  ];
  return lines.join('\n');
}
