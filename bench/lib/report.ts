import type { BenchReport, RoundRatio, Run, Scenario } from './types';

/** BENCHMARKS.md from one run's figures. */

const f = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) {
    return NaN;
  }
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

function spread(xs: number[], digits: number): string {
  if (xs.length === 0) {
    return '-';
  }
  if (xs.length === 1) {
    return f(xs[0], digits);
  }
  return `${f(median(xs), digits)} (${f(Math.min(...xs), digits)} – ${f(Math.max(...xs), digits)})`;
}

/** CPU seconds of the process that serves the variant (the API, or one of the pass-throughs). */
function serviceCpu(r: Run): number {
  return r.variant === 'guard' ? r.cpu.api : r.variant === 'bare' ? (r.cpu.bare ?? NaN) : r.cpu.passthrough;
}

export function roundRatios(s: Scenario): RoundRatio[] {
  const out: RoundRatio[] = [];
  const rounds = [...new Set(s.runs.map((r) => r.round))].sort((a, b) => a - b);
  for (const round of rounds) {
    const g = s.runs.find((r) => r.round === round && r.variant === 'guard');
    const p = s.runs.find((r) => r.round === round && r.variant === 'passthrough');
    const bare = s.runs.find((r) => r.round === round && r.variant === 'bare');
    if (!g || !p) {
      continue;
    }
    const gCpu = serviceCpu(g) / g.load.requests;
    out.push({
      round,
      throughputRatio: g.load.rps / p.load.rps,
      addedP50Ms: (g.load.latencyMs.p50 ?? 0) - (p.load.latencyMs.p50 ?? 0),
      addedP99Ms: (g.load.latencyMs.p99 ?? 0) - (p.load.latencyMs.p99 ?? 0),
      cpuPerRequestRatio: gCpu / (serviceCpu(p) / p.load.requests),
      bareThroughputRatio: bare ? g.load.rps / bare.load.rps : NaN,
      bareAddedP50Ms: bare ? (g.load.latencyMs.p50 ?? 0) - (bare.load.latencyMs.p50 ?? 0) : NaN,
      bareAddedP99Ms: bare ? (g.load.latencyMs.p99 ?? 0) - (bare.load.latencyMs.p99 ?? 0) : NaN,
      bareCpuPerRequestRatio: bare ? gCpu / (serviceCpu(bare) / bare.load.requests) : NaN,
      guardCpuPerDecisionMs: ((g.cpu.api + g.cpu.postgres) * 1000) / g.load.requests,
      guardApiCpuMs: (g.cpu.api * 1000) / g.load.requests,
      guardPgCpuMs: (g.cpu.postgres * 1000) / g.load.requests,
    });
  }
  return out;
}

const med = (rr: RoundRatio[], k: keyof RoundRatio): number => median(rr.map((x) => x[k]));

/**
 * The goals, on the medians across rounds. At 100 ms: throughput at least 0.97 × either pass-through and at
 * most 2 ms added to p50 (against the faster of the two); at 0 ms: at least 0.15 × the bare pass-through's
 * throughput and at most 0.5 ms of CPU per decision (API + PostgreSQL).
 */
function goalOf(s: Scenario): { text: string; met: (r: RoundRatio[]) => boolean } {
  if (s.latencyMs >= 100) {
    return {
      text: 'ratio ≥ 0.97 × either, added p50 ≤ 2 ms',
      met: (r) =>
        med(r, 'throughputRatio') >= 0.97 &&
        med(r, 'bareThroughputRatio') >= 0.97 &&
        Math.max(med(r, 'addedP50Ms'), med(r, 'bareAddedP50Ms')) <= 2,
    };
  }
  return {
    text: 'ratio to bare ≥ 0.15, CPU per decision ≤ 0.5 ms',
    met: (r) => med(r, 'bareThroughputRatio') >= 0.15 && med(r, 'guardCpuPerDecisionMs') <= 0.5,
  };
}

function pathName(s: Scenario): string {
  return s.path === 'skip' ? 'skip path (Active jobs)' : 'start path (Paused jobs)';
}

function headline(r: BenchReport): string[] {
  const lines = [
    '| Scenario | Graph latency | guard ÷ bare throughput | guard ÷ client pass-through throughput | added p50 vs bare / vs client (ms) | added p99 vs bare / vs client (ms) | guard CPU per decision: API + PostgreSQL (ms) | goal | met (medians) |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const s of r.scenarios) {
    const rr = roundRatios(s);
    const goal = goalOf(s);
    lines.push(
      `| ${pathName(s)} | ${s.latencyMs} ms | ${spread(
        rr.map((x) => x.bareThroughputRatio),
        3,
      )} | ${spread(
        rr.map((x) => x.throughputRatio),
        2,
      )} | ${f(med(rr, 'bareAddedP50Ms'), 2)} / ${f(med(rr, 'addedP50Ms'), 2)} | ${f(med(rr, 'bareAddedP99Ms'), 1)} / ${f(med(rr, 'addedP99Ms'), 1)} | ${f(med(rr, 'guardCpuPerDecisionMs'), 2)} = ${f(med(rr, 'guardApiCpuMs'), 2)} + ${f(med(rr, 'guardPgCpuMs'), 2)} | ${goal.text} | ${rr.length > 0 && goal.met(rr) ? 'yes' : 'no'} |`,
    );
  }
  lines.push(
    '',
    'Service CPU per request, each process on its own (ms; median across rounds):',
    '',
    '| Scenario | Graph latency | guard API | client pass-through | bare pass-through | guard ÷ client | guard ÷ bare |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of r.scenarios) {
    const rr = roundRatios(s);
    const perReq = (v: Run['variant']): number =>
      median(
        s.runs
          .filter((x) => x.variant === v && x.round > 0)
          .map((x) => (serviceCpu(x) * 1000) / x.load.requests),
      );
    lines.push(
      `| ${pathName(s)} | ${s.latencyMs} ms | ${f(perReq('guard'), 3)} | ${f(perReq('passthrough'), 3)} | ${f(perReq('bare'), 3)} | ${f(med(rr, 'cpuPerRequestRatio'), 1)} | ${f(med(rr, 'bareCpuPerRequestRatio'), 1)} |`,
    );
  }
  return lines;
}

function scenarioTable(s: Scenario): string[] {
  const lines = [
    `#### ${s.title}`,
    '',
    `${s.connections} connections, ${s.durationSeconds} s per run, round-robin over ${int(s.jobs)} jobs.`,
    '',
    '| round | variant | responses | req/s | p50 ms | p90 ms | p99 ms | max ms | CPU s: service | simulator | postgres | load gen | service CPU ms / request |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of s.runs) {
    const l = r.load.latencyMs;
    lines.push(
      `| ${r.round} | ${r.variant} | ${int(r.load.requests)} | ${int(r.load.rps)} | ${f(l.p50, 2)} | ${f(l.p90, 2)} | ${f(l.p99, 2)} | ${f(l.max, 1)} | ${f(serviceCpu(r), 2)} | ${f(r.cpu.simulator, 2)} | ${f(r.variant === 'guard' ? r.cpu.postgres : null, 2)} | ${f(r.cpu.load, 2)} | ${f((serviceCpu(r) * 1000) / r.load.requests, 3)} |`,
    );
  }
  const rr = roundRatios(s);
  lines.push(
    '',
    '| round | throughput ratio: ÷ bare | ÷ client | added p50 ms: vs bare | vs client | added p99 ms: vs bare | vs client | guard CPU per decision ms (API + PostgreSQL) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const x of rr) {
    lines.push(
      `| ${x.round} | ${f(x.bareThroughputRatio, 3)} | ${f(x.throughputRatio, 3)} | ${f(x.bareAddedP50Ms, 2)} | ${f(x.addedP50Ms, 2)} | ${f(x.bareAddedP99Ms, 2)} | ${f(x.addedP99Ms, 2)} | ${f(x.guardCpuPerDecisionMs, 3)} |`,
    );
  }
  const guardRuns = s.runs.filter((r) => r.variant === 'guard');
  const pgPerReq = guardRuns.map((r) => (r.cpu.postgres * 1000) / r.load.requests);
  const simPerReq = s.runs.map((r) => (r.cpu.simulator * 1000) / r.load.requests);
  lines.push(
    '',
    `PostgreSQL backends used ${spread(pgPerReq, 3)} ms CPU per guarded request; the simulator ${spread(simPerReq, 3)} ms per request (all variants).`,
    '',
  );
  return lines;
}

export function renderReport(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` on ${m.date.slice(0, 10)} (wall time ${r.wallSeconds} s${r.smoke ? ', SMOKE mode: correctness only, figures meaningless' : ''}). Absolute times vary on this shared machine; every headline figure is a ratio of two variants measured side by side in the same run.`,
    '',
    '## How to run',
    '',
    '```',
    'npm run bench             # full run (~8-10 min on 2 cores): rewrites BENCHMARKS.md, raw figures in bench/results/bench.json',
    'npm run bench -- --smoke  # ~1 min: every scenario briefly, correctness checks only; writes bench/results/smoke.md, exits 1 on a failed check',
    '```',
    '',
    'Needs PostgreSQL (`DATABASE_URL` as an admin connection, else `postgresql://postgres@127.0.0.1:5432/postgres`): a throwaway database `sjg_bench_<random>` is created, migrated with `npm run db:migrate` and dropped at the end (the audit bench makes its own). Logs of every process: `bench/results/logs/`.',
    '',
    '## Machine',
    '',
    `| | |`,
    `|---|---|`,
    `| CPUs (nproc) | ${m.nproc} × ${m.cpuModel} |`,
    `| Node.js | ${m.node} |`,
    `| PostgreSQL | ${m.postgres.split(' on ')[0] ?? m.postgres} (default durability: fsync on, synchronous_commit on) |`,
    `| load average (1/5/15 min) at start / end | ${m.loadAvgStart.map((x) => x.toFixed(2)).join(' ')} / ${m.loadAvgEnd.map((x) => x.toFixed(2)).join(' ')} |`,
    '',
    'The machine is shared: other work (test suites of other engineers) may run at the same time, which is why only ratios of alternated, repeated runs are headline figures.',
    '',
    '## Method',
    '',
    '- **Guard**: the built API (`node --max-semi-space-size=32 dist/apps/api/apps/api/src/main.js` as `start:prod` runs it, `NODE_ENV=production`, one process, default pool of 10 connections, pino logging at `info` to a file) with bearer tokens from a dev issuer (RS256, `JobControl.Start`), on PostgreSQL with default durability.',
    '- **Client pass-through** (`bench/passthrough.ts`): a `node:http` server doing the same Graph calls (GET the job; POST start when paused or in quarantine) with the same `HttpGraphClient` and `ClientSecretCredential` as the guard; no authentication, checks, database, logging or framework. It answers "what does the guard add to our own Graph layer".',
    "- **Bare pass-through** (`bench/bare-passthrough.ts`): the same two Graph calls with nothing but `node:http`: one keep-alive agent (`https.Agent` when Graph is reached over HTTPS; here Graph is the simulator's plain-HTTP side, as it is for the guard), a client-credentials token fetched once from the simulator's HTTPS token endpoint (and again before it expires, off the request path), the guard's request headers (`Authorization`, `Accept`, `client-request-id`); no Graph client library, framework, authentication, database or logging. It answers \"how far is the guard from what this machine can do\".",
    '- **Graph**: the simulator as its own process over HTTP (token authority over HTTPS with its self-signed CA), latency set per scenario; the same simulator serves both variants.',
    `- **Load**: autocannon in its own process, ${r.settings.connections} keep-alive connections, POST \`/v1/servicePrincipals/{sp}/synchronization/jobs/{job}/start\` round-robin over the job ids; every response's latency recorded (sub-millisecond).`,
    `- **Alternation**: each scenario has a warm-up of every variant, then ${r.settings.rounds} rounds of ${r.settings.durationSeconds} s per variant, the order reversed every other round (guard, client, bare; then bare, client, guard). Ratios are per round, between runs seconds apart; the headline shows the median and (min – max) across rounds.`,
    '- **CPU**: utime + stime deltas from `/proc/<pid>/stat` over each run, for the serving process, the simulator, the PostgreSQL backends connected to the bench database and the load generator (its own `process.cpuUsage()`). **CPU per decision** = (API process + PostgreSQL backends) ÷ guarded responses: CPU time is what a decision costs whatever else runs on the machine, so it is the figure least disturbed by a shared machine.',
    `- **Guard settings** beyond the required ones: ${Object.entries(r.settings)
      .filter(([k]) => /^[A-Z_]+$/.test(k))
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(
        ', ',
      )}. The side-by-side runs hit each job more often than production's limit (5 per 300 s) would let past, which would measure refusals, not decisions: a 1 s window with a high limit keeps each job's window array as short as in production. The start path re-pauses its jobs in the simulator (re-seeding all of them as Paused) before every run and uses more distinct jobs than one run can reach, so every request finds its job paused; with the default 600 s cool-down the guard would (rightly) refuse those re-paused jobs, so \`START_COOLDOWN_SECONDS=0\` there (the finalise statement still runs; it just sets no cool-down). The hot-job replicas and the round-trip count use the defaults (600 s cool-down, 300 s window).`,
    '',
    '## Headline: guard vs the two pass-throughs',
    '',
    ...headline(r),
    '',
    'Throughput ratio = guard req/s ÷ pass-through req/s in the same round; added p50/p99 = guard minus pass-through latency (medians across rounds); CPU per decision = API + PostgreSQL backends per guarded response. Goals: at 100 ms Graph latency, throughput ≥ 0.97 × either pass-through and added p50 ≤ 2 ms; at 0 ms, ≥ 0.15 × the bare pass-through and ≤ 0.5 ms CPU per decision.',
    '',
    '### Raw figures',
    '',
  ];
  for (const s of r.scenarios) {
    out.push(...scenarioTable(s));
  }

  out.push(...doorSection(r));
  out.push('## Database work per decision', '');
  if (r.dbWork) {
    out.push(
      'Counted by a TCP proxy between one API process and PostgreSQL that parses the client → server protocol: each simple `Query` or extended-protocol `Sync` is one round trip the guard waits on; a `BEGIN` would reveal an explicit transaction (there is none: each round trip is one autocommit statement, so one commit). Graph latency 0, 10 connections, default cool-down.',
      '',
      '| requests | responses | round trips | per request | BEGINs |',
      '|---|---|---:|---:|---:|',
    );
    for (const x of r.dbWork.batches) {
      out.push(
        `| ${int(x.requests)} × ${x.label} | ${Object.entries(x.statusCodes)
          .map(([k, v]) => `${v} × ${k}`)
          .join(', ')} | ${int(x.counts.roundTrips)} | ${f(x.perRequest, 3)} | ${x.counts.begins} |`,
      );
    }
    const expected = r.dbWork.batches.reduce((a, x) => a + x.counts.roundTrips, 0);
    out.push(
      '',
      `Cross-check from PostgreSQL itself: \`xact_commit + xact_rollback\` of the bench database grew by ${r.dbWork.xactDelta === null ? '-' : int(r.dbWork.xactDelta)} over these ${int(r.dbWork.xactRequests)} requests (${r.dbWork.xactDelta === null ? '-' : f(r.dbWork.xactDelta / r.dbWork.xactRequests, 3)} per request; the proxy counted ${int(expected)} round trips). A decision costs 2 (claim, finalise); a request refused at the claim (rate limit, cool-down, lease, grants) costs 1.`,
      '',
    );
  } else {
    out.push('Not measured in this run.', '');
  }

  out.push('## Hot job: three replicas, one database', '');
  if (r.hotJob) {
    const h = r.hotJob;
    out.push(
      `Three API processes (\`REPLICA_ID\` a, b, c) on the same database, Graph latency ${h.latencyMs} ms, default cool-down; requests fired at once (one connection each), spread round-robin over the replicas.`,
      '',
      '| | requests | Graph starts | Graph status reads | rows in attempts | outcomes | HTTP statuses | p50 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|---:|---|---|---:|---:|---:|',
      `| one paused job | ${h.oneJob.requests} | ${h.oneJob.starts} | ${h.oneJob.reads} | ${h.oneJob.rows} | ${Object.entries(
        h.oneJob.outcomes,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} | ${Object.entries(h.oneJob.statusCodes)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} | ${f(h.oneJob.p50, 1)} | ${f(h.oneJob.p99, 1)} | ${f(h.oneJob.max, 1)} |`,
      `| ${h.distinct.jobs} distinct paused jobs | ${h.distinct.jobs} | ${h.distinct.starts} | - | ${h.distinct.rows} | - | ${Object.entries(
        h.distinct.statusCodes,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} | ${f(h.distinct.p50, 1)} | ${f(h.distinct.p99, 1)} | - |`,
      '',
      `Harmful starts (a start on a job that was not paused or in quarantine): ${h.oneJob.harmfulStarts + h.distinct.harmfulStarts}. Latency includes a new TCP connection per request.`,
      '',
    );
  } else {
    out.push('Not measured in this run.', '');
  }

  out.push('## Footprint', '');
  if (r.footprint) {
    const fp = r.footprint;
    out.push(
      '| | API (guard) | client pass-through | bare pass-through |',
      '|---|---:|---:|---:|',
      `| RSS idle, after /health/ready (MB; goal for the guard ≤ 150) | ${f(fp.rssIdleMb)} | ${f(fp.passthroughRssIdleMb)} | ${f(fp.bareRssIdleMb)} |`,
      `| RSS peak under the side-by-side load (MB) | ${f(fp.rssPeakUnderLoadMb)} | ${f(fp.passthroughRssPeakMb)} | ${f(fp.bareRssPeakMb)} |`,
      `| process start → /health/ready 200 (ms) | ${int(fp.readyMs)}${fp.replicaReadyMs.length ? ` (three replicas started at once: ${fp.replicaReadyMs.map(int).join(', ')})` : ''} | - | - |`,
      '',
    );
  } else {
    out.push('Not measured in this run.', '');
  }

  out.push('## Profile of the hot path', '');
  if (r.profile) {
    const p = r.profile;
    out.push(
      `One API process run with \`--cpu-prof\` under the skip path at Graph latency 0 (${int(p.requests)} requests, ${int(p.rps)} req/s; profile: \`${p.file}\`, not committed). Self time over the process's whole life (start-up, warm-up and the profiled run), as a share of its busy (non-idle) time of ${int(p.summary.busyMs)} ms:`,
      '',
      '| where the code lives | self ms | share |',
      '|---|---:|---:|',
      ...p.summary.byArea.slice(0, 15).map((e) => `| ${e.name} | ${int(e.selfMs)} | ${f(e.share * 100)} % |`),
      '',
      ...(p.summary.byAreaInclusive
        ? [
            'Inclusive time by where the code lives (busy time with a frame of it anywhere on the stack: it and everything it calls; areas nest, so shares add up to more than 100 %):',
            '',
            '| where the code lives | inclusive ms | share |',
            '|---|---:|---:|',
            ...p.summary.byAreaInclusive
              .slice(0, 20)
              .map((e) => `| ${e.name} | ${int(e.selfMs)} | ${f(e.share * 100)} % |`),
            '',
          ]
        : []),
      '| function | location | self ms | share |',
      '|---|---|---:|---:|',
      ...p.summary.topFunctions
        .slice(0, 20)
        .map(
          (e) =>
            `| ${e.name.replace(/\|/g, '\\|')} | ${e.where} | ${int(e.selfMs)} | ${f(e.share * 100)} % |`,
        ),
      '',
      FINDINGS,
      '',
    );
  } else {
    out.push('Not measured in this run.', '');
  }

  out.push('## Recovery at scale', '');
  if (r.recovery && 'result' in r.recovery) {
    out.push(
      'One recovery sweep (`bench/recovery.bench.ts`, `runRecoveryBench`) over the watched jobs, one in a hundred quarantined, Graph simulator in-process:',
      '',
      '| figure | value |',
      '|---|---:|',
      ...Object.entries(r.recovery.result).map(
        ([k, v]) => `| ${k} | ${typeof v === 'number' ? int(v) : JSON.stringify(v)} |`,
      ),
      '',
    );
  } else if (r.recovery && 'error' in r.recovery) {
    out.push(`**Failed**: ${r.recovery.error}`, '');
  } else {
    out.push(`**TODO**: ${r.recovery?.missing ?? 'not run'}.`, '');
  }

  out.push('## Audit at scale', '');
  if (r.audit && 'markdown' in r.audit) {
    out.push(
      'From `bench/audit.bench.ts` (`runAuditBench`), run as part of the same command:',
      '',
      r.audit.markdown,
      '',
    );
  } else if (r.audit && 'error' in r.audit) {
    out.push(`**Failed**: ${r.audit.error}`, '');
  } else {
    out.push(`**TODO**: ${r.audit?.missing ?? 'not run'}.`, '');
  }

  const failed = r.checks.filter((c) => !c.ok);
  out.push(
    '## Correctness checks of this run',
    '',
    `${r.checks.length - failed.length} passed, ${failed.length} failed.${failed.length ? ` Failed: ${failed.map((c) => c.what).join('; ')}` : ''}`,
    '',
    '<details><summary>All checks</summary>',
    '',
    ...r.checks.map((c) => `- ${c.ok ? '✓' : '✗'} ${c.what.replace(/\n/g, ' ')}`),
    '',
    '</details>',
    '',
  );
  return out.join('\n');
}

/** What the profile showed and what was tried (kept by hand from the experiments of 2026-11-28; the figures above are regenerated). */
const FINDINGS = `**Findings** (2026-11-29, evening; the machine was otherwise idle, load average 2-3 from the bench itself. On this machine the bare pass-through costs 0.13-0.31 ms of CPU per request where the run before this one measured 0.08-0.12 on the machine of that day: CPU figures compare only within one run or one A/B session).

- **Where the API's time goes now** (self time, profile above): \`writev\` 20 % — the API's writes to PostgreSQL (about three quarters) and to its clients over loopback TCP, where the kernel delivers the bytes in the writer's time —, other native code and node internals about 40 %, axios 5 % (its request pipeline; the HTTP itself is \`GraphHttp\`), pg + pg-protocol + pg-pool 8-9 %, the framework about 8 % (Fastify 3 %, Nest core 2.5 %, rxjs 2 %, helmet 1 %), garbage collection 3.5 % (was 10.6 %), our own code (libs/persistence, libs/graph, apps/api) about 6 %; the access log's redaction is gone from the profile.
- **Goals.** Not met: at 0 ms Graph latency the guard spends 3.2-3.7 ms of CPU per decision in this run (API 1.9-2.0 + PostgreSQL 1.35-1.6; in the A/B below 2.98-3.33 ms) against 0.5 ms, and reaches 0.07 (skip) and 0.14 (start) × the bare pass-through against 0.15; at 100 ms it reaches 0.80 (skip) and 0.92 (start) × the bare pass-through against 0.97, with 15-16 ms added p50 against 2 ms. At 50 connections and 100 ms the guard is CPU-bound on 2 cores shared with PostgreSQL, the simulator and the load generator: it needs ~3 ms of CPU per request (API + PostgreSQL) where the bare pass-through needs 0.3-0.5, so requests queue. Met: exactly 2 round trips per decision (measured above), every attempt durable before Graph is called (the claim's row), default durability, idle RSS 140 MB (goal 150).
- **End to end, before → after** (the build before these levers, \`d254702\`, against this one, each with its own database and migrations, alternated base/new/new/base, Graph latency 0, 50 connections, 8 s per variant, load 2-3; CPU per guarded response from \`/proc\`):

| path | API CPU ms: before → after | PostgreSQL CPU ms: before → after | guard req/s: before → after | guard ÷ bare: before → after |
|---|---:|---:|---:|---:|
| skip (job Active) | 3.35, 2.83 → 2.01, 1.73 | 1.75, 1.60 → 1.32, 1.25 | 255, 320 → 406, 470 | 0.056, 0.048 → 0.065, 0.068 |
| start (job Paused) | 2.95, 2.53 → 1.79, 1.79 | 1.52, 1.53 → 1.20, 1.30 | 293, 322 → 440, 387 | 0.065, 0.124 → 0.107, 0.100 |

About -35 to -40 % of API CPU and -15 to -25 % of PostgreSQL CPU per decision; +35 to +60 % throughput.

**Levers, before → after** (each measured on its own; CPU time in-process or per process, so that other work on the machine disturbs it least). The rows down to the audit bench are this run's levers; the rest are earlier ones (2026-11-28 and the morning of 2026-11-29, measured on the machine of that day).

| lever | measured | before | after |
|---|---|---:|---:|
| Express → Fastify (\`@nestjs/platform-fastify\` 12.5.0, fastify 5.12.8, \`@fastify/helmet\`): same routes, statuses, problem bodies, helmet headers, request ids, access log, console, export and Graph door | a Nest app of the API's global shape (helmet, request-id hook, nestjs-pino access log with the real serializers, a guard, a POST returning a ~400-byte attempt) on each adapter, alternated 4 × 8 s, 20 connections, CPU per request from \`/proc\` (two sessions, load 4-10) | 580 µs (482-648) | 262-268 µs (195-327) |
| Graph's HTTP: axios stays the client's interface, sending through an adapter over \`node:http\` (\`GraphHttp\`: keep-alive agents, one timeout per exchange, no redirects, gzip/deflate/br answers) instead of axios's Node adapter (follow-redirects, stream pipeline) | CPU per GET + start pair, client + in-process simulator, alternated 8 × 3,000 (\`bench/graph-http.bench.ts\`) | 562 µs (498-784) | 376 µs (358-406) |
| (not applied) Graph's HTTP without axios at all | GET against a local server, client + server in one process, alternated 6 × 5,000: axios's own adapter / axios + \`GraphHttp\` adapter / \`GraphHttp\` alone | 205 µs | 135 / 72 µs |
| the API with a 32 MB young generation (\`--max-semi-space-size=32\`: \`start:prod\`, \`npm start\`, the container, the bench) | \`--trace-gc\`, skip path under load: scavenges, GC pause per request | 112 scavenges, ~470 µs | 55 scavenges, ~250 µs |
| same | share of the API profile in the garbage collector (full runs) | 10.6 % | 3.5 % |
| secrets redacted by key name in one walk per log line (any depth to 8, any case, child bindings and error fields) instead of pino's 31 redact paths | CPU per request of the access log (\`bench/log-line.bench.ts\`, 2 × 30,000) | 25-30 µs | 5-6 µs |
| decisions in flight in a small \`pending_attempts\` table (primary key only); \`attempts\` insert-only, each of its 9 indexes written once per decision (the finalise was a non-HOT UPDATE of the indexed \`outcome\`) | backend CPU per decision, the real claim + finalise, 4 workers on a 1M-row database, alternated 3 × 3,000 (two sessions, load 3.5-5) | ~1.5 / ~2.58 ms | ~1.12 / ~1.77 ms |
| same | audit reads at 1M rows (\`bench/audit-explain.ts\`): buffers read by every page, export and statistics query | - | unchanged; a page without an outcome filter reads both tables (+0.15 ms of backend CPU: a job's page 0.40 → 0.55 ms); a page filtered by outcome runs the old statement |
| same | the audit bench at 1M rows (\`bench/run.ts --only audit\`), the build before vs this one, one after the other (load 2-3): DB p50 of a page (none / job / actor / outcome / one job's 2 pages), export of 1M rows | 2.15 / 4.55 / 1.81 / 2.36 / 7.67 ms; 17.5 s | 1.73 / 4.68 / 2.45 / 1.94 / 7.59 ms; 17.8 s (within the noise) |
| the guard's two statements as named prepared statements (2026-11-28) | PostgreSQL CPU per request, skip path, 0 ms | 1.43 ms | 0.64-0.73 ms |
| same | claim + finalise alone, one connection, backend CPU per decision | 1.06 ms | 0.34 ms |
| verified caller tokens cached by their SHA-256 (bounded, ends with the token's \`exp\` and with the JWKS it was verified against) | CPU per verification (\`bench/token-verify.bench.ts\`) | 65 µs | 2-4 µs |
| same | share of the API profile in jose | ~6 % | 0.1-0.3 % |
| same | API CPU per decision, previous build vs this one alternated, 0 ms, 4 runs each at load 11-15 (skip / start) | 1.90 / 2.06 ms | 1.96 / 1.65 ms (within the noise) |
| the Graph access token kept in the client until 5 min before it expires (or half its remaining life, or the credential's \`refreshAfterTimestamp\`), one shared acquisition, the refused token dropped on a 401 | CPU per Graph GET, client + in-process simulator (\`bench/graph-token.bench.ts\`, 2 × 10,000 calls alternated, load 3-4) | 316-389 µs | 165-205 µs |
| same | axios pass-through (same \`libs/graph\` client), service CPU per request at 0 ms, skip / start (previous full run, load 7-9 → this run, load 5-7; the bare pass-through, which does not use the client, stayed at 0.07-0.08 / 0.12) | 0.279 / 0.561 ms | 0.170 / 0.307 ms |
| same | share of the API profile in @azure/msal-node + @azure/identity | ~5-6 % | 0.2 % |
| same | guard API CPU per request, previous build vs this one, 0 ms, alternated base/new/new/base, 2 × 5 s each (skip / start, medians of 4) | 1.72 / 1.90 ms | 1.97 / 1.58 ms (within the noise: single runs ranged 1.47-3.38 ms) |
| same | guard CPU per decision (API + PostgreSQL), full runs, 0 ms, skip / start (previous run at load 7-9, this one at 5-7) | 2.35 / 2.60 ms | 2.20 / 2.23 ms |
| access log: the redact paths under \`req.headers\` / \`res.headers\` dropped (the serializers keep no headers, so they could never match) | CPU per request of the access log, pino-http with the app's options (\`bench/log-line.bench.ts\`, 50,000 requests) | 18.5 µs | 18.4 µs (no change) |
| (for scale, not applied) the access log with no redaction at all | same | 18.5 µs | 3 µs |
| the claim's text rendered once per process (it never depends on the input), its parameters built without object spreads (after the full run above, so not in its figures) | CPU per claim statement built and rendered, in-process, 2 × 20,000 | 44-49 µs | 1.0-1.3 µs |
| not applied: no index on \`outcome\` (the finalise becomes a HOT update) | insert + finalise pair at 1M rows, backend CPU (\`bench/audit-explain.ts --writes 3000\`) | 0.70 ms (0 % HOT) | 0.32 ms (58 % HOT) |
| not applied: primary key only (the floor) | same | 0.70 ms | 0.37 ms |

**What is left**, in the order to try: (1) the PostgreSQL side, now 1.2-1.35 ms of this machine's CPU per decision: the claim is one ~7.6 kB statement of CTEs (grants, holds, lease, window, refusal wording, refusal budget) and the finalise writes the 9 audit indexes once; a leaner claim for the common case (no grants, no holds) or fewer audit indexes (each serves a filter; see \`bench/audit-explain.ts\`) are the levers; (2) loopback TCP to PostgreSQL (\`writev\` 20 % of the API's samples): a Unix socket would cost less where the database is local, but production's database is remote; pipelining the finalise with the response would not cut CPU; (3) axios's pipeline, 60-70 µs per Graph call (row above), kept because the stack names axios; (4) pg's row parsing (\`addFields\`, \`parseField\`, ~3 %): the claim returns every attempts column. The goals of 0.5 ms per decision and 0.15 × the bare pass-through are out of reach for a service that authenticates, writes two durable statements and logs every decision on this machine; 0.97 × at 100 ms needs about half of today's CPU per decision at 50 connections on 2 cores.

- **Noise between runs**: the machine is shared; at a load of 5-15 from other work the guard's API CPU per request rises 1.5-3 × (contention raises CPU per request too), so compare CPU figures within one run, and prefer alternated A/B runs of two builds.
`;

/** The Graph-compatible door next to /v1 on the same guard (goal: at most 0.5 ms added p50). */
function doorSection(r: BenchReport): string[] {
  const d = r.door;
  if (!d) {
    return [];
  }
  const out = [
    '## Graph-compatible door vs /v1',
    '',
    `One guard process, \`POST /v1/…/start\` and \`POST /v1.0/…/start\` (the door: Graph's paths, 204 and Graph's error envelope) alternated ABBA, Graph latency ${d.latencyMs} ms, same settings as above. Goal: the door adds at most 0.5 ms to p50.`,
    '',
    '| path | round | /v1 req/s | door req/s | /v1 p50 ms | door p50 ms | added p50 ms | /v1 p99 ms | door p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of d.paths) {
    for (const x of p.rounds) {
      const added =
        x.door.latencyMs.p50 !== null && x.v1.latencyMs.p50 !== null
          ? x.door.latencyMs.p50 - x.v1.latencyMs.p50
          : null;
      out.push(
        `| ${p.path} | ${x.round} | ${f(x.v1.rps, 0)} | ${f(x.door.rps, 0)} | ${f(x.v1.latencyMs.p50, 2)} | ${f(x.door.latencyMs.p50, 2)} | ${f(added, 2)} | ${f(x.v1.latencyMs.p99, 2)} | ${f(x.door.latencyMs.p99, 2)} |`,
      );
    }
    const m = median(
      p.rounds.flatMap((x) =>
        x.door.latencyMs.p50 !== null && x.v1.latencyMs.p50 !== null
          ? [x.door.latencyMs.p50 - x.v1.latencyMs.p50]
          : [],
      ),
    );
    out.push(`| **${p.path}: median added p50** | | | | | | **${f(m, 2)}** | | |`);
  }
  out.push('');
  return out;
}
