'use strict';
/*
 * Load generator of `npm run bench`, in its own process so it never shares an event loop with what it measures.
 *   node bench/load.js '<json config>'      → prints one JSON result line on stdout
 * Modes:
 *   sustained: autocannon, `connections` keep-alive connections for `durationSeconds` (or `amount` requests),
 *              POST <origin><prefix: /v1, or /v1.0 for the Graph-compatible door>/servicePrincipals/<sp>/synchronization/jobs/<job>/start, round-robin over
 *              `jobCount` job ids scim.<32 hex> (the simulator's seedJobs ids) through one shared counter.
 *   burst:     `count` requests fired at once (one connection each), job i % jobCount, origin i % origins.
 * Every response's latency is recorded (autocannon's own histogram has 1 ms resolution and keeps 2xx only).
 */
const http = require('node:http');
const autocannon = require('autocannon');

function jobId(i) {
  return `scim.${i.toString(16).padStart(32, '0')}`;
}

function pathFor(cfg, i) {
  return `${cfg.prefix || '/v1'}/servicePrincipals/${cfg.servicePrincipalId}/synchronization/jobs/${jobId((cfg.jobOffset || 0) + (i % cfg.jobCount))}/start`;
}

function summarise(latencies, statusCodes, errors, timeouts, seconds) {
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p) =>
    sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    requests: latencies.length,
    seconds,
    rps: seconds > 0 ? latencies.length / seconds : 0,
    statusCodes,
    errors,
    timeouts,
    latencyMs: {
      p50: pct(50),
      p90: pct(90),
      p99: pct(99),
      max: sorted.length ? sorted[sorted.length - 1] : null,
      mean: latencies.length ? sum / latencies.length : null,
    },
  };
}

function sustained(cfg) {
  return new Promise((resolve, reject) => {
    let next = 0;
    const latencies = [];
    const statusCodes = {};
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: cfg.origin,
        connections: cfg.connections,
        ...(cfg.amount ? { amount: cfg.amount } : { duration: cfg.durationSeconds }),
        timeout: 30,
        method: 'POST',
        headers: cfg.headers || {},
        requests: [
          {
            setupRequest: (req) => {
              req.path = pathFor(cfg, next++);
              return req;
            },
          },
        ],
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve(summarise(latencies, statusCodes, result.errors, result.timeouts, seconds));
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statusCodes[statusCode] = (statusCodes[statusCode] || 0) + 1;
    });
  });
}

function burst(cfg) {
  const agents = cfg.origins.map(() => new http.Agent({ keepAlive: false, maxSockets: Infinity }));
  const latencies = [];
  const statusCodes = {};
  let errors = 0;
  const started = process.hrtime.bigint();
  const one = (i) =>
    new Promise((resolve) => {
      const o = i % cfg.origins.length;
      const t0 = process.hrtime.bigint();
      const req = http.request(
        `${cfg.origins[o]}${pathFor(cfg, i)}`,
        { method: 'POST', agent: agents[o], headers: { ...(cfg.headers || {}), 'content-length': '0' } },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            statusCodes[res.statusCode] = (statusCodes[res.statusCode] || 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const all = [];
  for (let i = 0; i < cfg.count; i++) {
    all.push(one(i));
  }
  return Promise.all(all).then(() =>
    summarise(latencies, statusCodes, errors, 0, Number(process.hrtime.bigint() - started) / 1e9),
  );
}

const cfg = JSON.parse(process.argv[2]);
(cfg.mode === 'burst' ? burst(cfg) : sustained(cfg)).then(
  (r) => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ ...r, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
  },
  (err) => {
    process.stderr.write(`load: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
