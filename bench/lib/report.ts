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
const FINDINGS = `**Findings** (2026-11-29; the machine had a load average of 5-15 from other work during every measurement below, so throughput ratios move a lot between runs and mostly CPU-time figures are compared).

- **Where the API's time goes** (self time, profile above, this run): node internals, native code and GC about 62 % (socket \`writev\` and string writes to clients, PostgreSQL and Graph, JSON), axios 7 %, our database layer about 9-10 % (pg, pg-protocol, and \`libs/persistence\` 4.5 %: the claim statement was rebuilt and re-rendered from \`sql\` fragments on every request — \`claimParams\`, \`sql\`, \`render\`, \`params\`, \`formatTemplate\`'s regexes — though its text never changes; fixed after this run, see the levers), the HTTP framework about 10 % (Nest core, router, Express, rxjs, helmet, body-parser), logging about 4 % (@pinojs/redact 1.2 %, pino 1.1 %, pino-http 1.1 %), our own API code about 1-2 %, JWT verification 0.1-0.3 %, and the Graph token now 0.2 % (@azure/msal-node 0.13 % + @azure/identity 0.05 %, was 4.9 % + ~1 %). The inclusive table overstates Express middleware: \`next()\` runs the rest of the chain synchronously, so helmet or body-parser "include" the handler.
- **Goals.** Not met: at 0 ms Graph latency the guard spends about 2.2 ms of CPU per decision (API 1.4-1.5 + PostgreSQL 0.75) against 0.5 ms, and reaches 0.07-0.11 × the bare pass-through's throughput against 0.15; at 100 ms it reaches 0.84 (skip) and 0.96 (start) × the bare pass-through against 0.97, with 4-14 ms added p50 against 2 ms (the API is CPU-bound on this loaded machine: it needs ~1.5 ms of CPU per request while the bare pass-through needs 0.08-0.23). Met: exactly 2 round trips per decision (measured above), idle RSS 130 MB (goal 150).
- **Idle RSS** (130 MB in this run against 219 MB in the previous full run; the build this branch started from measures 129-131 MB as well (\`--api-dist\` runs), so the drop came with what was merged before it, not with the levers below): \`/proc/<pid>/smaps\` of an idle API splits it into the node binary and shared libraries, 50 MB (file-backed, shared between processes; the bare pass-through's 78 MB holds the same 50 MB), anonymous memory 72 MB, which is V8's heap (74 MB committed: new space 30 MB, grown by start-up allocations and nearly empty once idle; old space 35 MB, 30 MB used; code 3.4 MB + bytecode 1.8 MB), and malloc 7 MB. Of the 35 MB of live heap, 11.5 MB are strings, mostly module sources (@azure/msal-node 1.2 MB, axios 0.5 MB, js-yaml 0.26 MB, the Prisma runtime 0.2 MB). No cheap fix was needed for the goal, and none was applied.

**Levers, before → after** (each measured on its own; CPU time in-process or per process, so that other work on the machine disturbs it least):

| lever | measured | before | after |
|---|---|---:|---:|
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

Pruning the redact paths does not pay because pino runs every \`*.\` path (about 25 of the 31) against every top-level key of every line, primitives included, and @pinojs/redact parses each path string on every call; only a different redaction (key names checked in one walk) would save the ~15 µs, about 1 % of the API's CPU per request. The access log stays one line per request at \`info\`.

**What is left**, in the order to try: (1) measure the claim rendered once end to end (done after this run: about -45 µs of API CPU per decision in-process; the finalise still builds its 2.3 kB text per call, 3-4 µs); (2) fewer index writes per decision: every one of the 9 indexes of \`attempts\` is used by the audit filter it was made for (EXPLAIN at 1M rows, \`bench/audit-explain.ts\`), and \`attempts_outcome_created_idx\` also serves the stale-pending sweeps, so the way to a HOT (or no) update is a small claims table for pending attempts and insert-only final attempts rows, not dropping indexes; (3) the two hot Graph requests over \`node:http\` instead of axios (axios is 7 % of the API's self time; the axios pass-through still costs 0.17 ms per request where the bare one costs 0.08); (4) Express → \`@nestjs/platform-fastify\` (12.5.0 is published): at most part of the framework's ~10 %, and it touches every controller that uses Express types; (5) the claim returns every attempts column twice (RETURNING and the UNION branch): pg's row parsing is about 2 % and \`toAttemptView\` 0.25 %; trimming it means changing what the repository maps, not done. class-validator/class-transformer are not on the hot path (no validation pipe). The 30-day statistics use no index (a parallel scan of half the table is the right plan) and would need a daily rollup to get faster.

- **Noise between runs**: two full runs the same afternoon gave, for the skip path at 100 ms, ratios of 0.87 (0.87 – 0.87) and 0.71 (0.69 – 0.81) with the load average at 1.2-2.4 from other work (2026-11-28); on 2026-11-29, at a load of 7-15, the guard's API CPU per request was 1.4-1.7 ms where the day before it was 0.8-1.1 ms: contention raises CPU per request too, so compare CPU figures within one run. The audit figures below move 2-3 × between runs for the same reason: nothing on the audit path changed.`;

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
