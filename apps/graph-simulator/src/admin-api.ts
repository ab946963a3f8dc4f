import { isRecord } from '@app/common';
import type * as http from 'node:http';
import { DEMO_SERVICE_PRINCIPAL_ID } from './demo';
import type { FaultRule } from './faults';
import { parseResetScope } from './job-lifecycle';
import {
  SIM_STATUS_CODES,
  type JobSeed,
  type QuarantineSeed,
  type SimOperation,
  type SimStatusCode,
} from './job-types';
import type { SimContext } from './sim-context';
import { parseJson, readBody, sendJson } from './sim-http';
import type { ThrottleConfig } from './throttle';

/** The admin API under `/__sim/`: counters, request log, faults, throttle, tokens, latency, CA and jobs. */

interface AdminRequest {
  method: string;
  query: URLSearchParams;
  body: unknown;
  /** The path segments after the resource: `/__sim/<resource>/<a>/<b>/<c>`. */
  a: string | undefined;
  b: string | undefined;
  c: string | undefined;
}

type AdminReply = { status: number; body: unknown } | { status: number; pem: string };
/** A resource's handler; undefined when it has no such route (404). */
type AdminHandler = (ctx: SimContext, r: AdminRequest) => AdminReply | undefined;

const OK = { status: 200, body: { ok: true } };

const counters: AdminHandler = ({ state }, { method }) => {
  if (method === 'GET') {
    return { status: 200, body: state.counters() };
  }
  if (method === 'DELETE') {
    state.resetCounters();
    return OK;
  }
  return undefined;
};

const requests: AdminHandler = ({ state }, { method, query }) => {
  if (method === 'GET') {
    const limit = Number(query.get('limit') ?? '0');
    const all = state.requests({
      ...(query.get('operation') ? { operation: query.get('operation') as SimOperation } : {}),
      ...(query.get('jobId') ? { jobId: query.get('jobId') as string } : {}),
    });
    return { status: 200, body: { items: limit > 0 ? all.slice(-limit) : all } };
  }
  if (method === 'DELETE') {
    state.resetLog();
    return OK;
  }
  return undefined;
};

const reset: AdminHandler = (ctx, { method, body }) => {
  if (method !== 'POST') {
    return undefined;
  }
  ctx.state.reset();
  const kind = isRecord(body) && body.seed === 'empty' ? 'empty' : 'demo';
  ctx.seed(kind);
  return { status: 200, body: { ok: true, seed: kind } };
};

/** One item, an array, or `{ <key>: [...] }`: the items; null when it is none of these. */
function listOf(body: unknown, key: string): unknown[] | null {
  if (Array.isArray(body)) {
    return body as unknown[];
  }
  return isRecord(body) && Array.isArray(body[key]) ? (body[key] as unknown[]) : null;
}

const faults: AdminHandler = ({ state }, { method, body, a }) => {
  if (method === 'GET') {
    return { status: 200, body: { items: state.listFaults() } };
  }
  if (method === 'DELETE' && a) {
    return { status: state.removeFault(a) ? 200 : 404, body: { ok: true } };
  }
  if (method === 'DELETE') {
    state.clearFaults();
    return OK;
  }
  if (method === 'POST') {
    const rules = listOf(body, 'faults') ?? [body];
    const ids = rules.filter(isRecord).map((r) => state.addFault(r as FaultRule));
    return { status: 201, body: { ids } };
  }
  return undefined;
};

const throttle: AdminHandler = ({ state }, { method, body }) => {
  if (method === 'POST' || method === 'PUT') {
    state.setThrottle(
      isRecord(body) && typeof body.limit === 'number' ? (body as unknown as ThrottleConfig) : null,
    );
    return OK;
  }
  if (method === 'DELETE') {
    state.setThrottle(null);
    return OK;
  }
  return undefined;
};

const tokens: AdminHandler = ({ state }, { method, a }) => {
  if (a === 'expire' && method === 'POST') {
    state.expireTokens();
    return OK;
  }
  return undefined;
};

const latency: AdminHandler = ({ state }, { method, body }) => {
  if (method !== 'POST') {
    return undefined;
  }
  state.latencyMs = isRecord(body) && typeof body.latencyMs === 'number' ? body.latencyMs : 0;
  return OK;
};

const ca: AdminHandler = (ctx, { method }) =>
  method === 'GET' ? { status: 200, pem: ctx.tlsCertificate } : undefined;

/** POST /__sim/jobs: `{ jobs: JobSeed[], replace?, servicePrincipalId? }`, `JobSeed[]`, or `{ servicePrincipalId, count, status, reason? }`. */
function addJobs({ state }: SimContext, body: unknown): AdminReply {
  if (isRecord(body) && typeof body.count === 'number' && typeof body.servicePrincipalId === 'string') {
    if (body.replace === true) {
      state.clearJobs();
    }
    const status = SIM_STATUS_CODES.includes(body.status as SimStatusCode)
      ? (body.status as SimStatusCode)
      : 'Paused';
    const ids = state.seedJobs(
      body.servicePrincipalId,
      body.count,
      status,
      typeof body.reason === 'string' ? { reason: body.reason } : {},
    );
    return {
      status: 201,
      body: { count: ids.length, first: ids[0] ?? null, last: ids[ids.length - 1] ?? null },
    };
  }
  const seeds = listOf(body, 'jobs');
  if (!seeds) {
    return { status: 400, body: { error: 'expected { jobs: [...] } or an array of jobs' } };
  }
  if (isRecord(body) && body.replace === true) {
    state.clearJobs();
  }
  if (isRecord(body) && typeof body.servicePrincipalId === 'string') {
    state.addServicePrincipal(body.servicePrincipalId);
  }
  state.putJobs(seeds as JobSeed[], DEMO_SERVICE_PRINCIPAL_ID);
  return { status: 201, body: { count: seeds.length } };
}

const NO_SUCH_JOB = { status: 404, body: { error: 'no such job' } };

/** `/__sim/jobs/<sp>/<job>[/<action>]`: read, change, remove, quarantine, restart, start or pause one job. */
function oneJob({ state }: SimContext, r: AdminRequest, sp: string, jobId: string): AdminReply | undefined {
  const { method, body, c } = r;
  if (!c && method === 'GET') {
    const job = state.getJob(sp, jobId);
    return job ? { status: 200, body: job } : NO_SUCH_JOB;
  }
  if (!c && method === 'DELETE') {
    return { status: state.removeJob(sp, jobId) ? 200 : 404, body: { ok: true } };
  }
  if (!c && (method === 'PATCH' || method === 'POST')) {
    return { status: 200, body: state.updateJob(sp, jobId, isRecord(body) ? body : {}) };
  }
  if (method !== 'POST') {
    return undefined;
  }
  if (c === 'quarantine') {
    const q = (isRecord(body) ? body : {}) as Partial<QuarantineSeed>;
    const job = state.quarantine(sp, jobId, { ...q, reason: q.reason ?? 'EncounteredQuarantineException' });
    return { status: 200, body: job };
  }
  if (c !== 'restart' && c !== 'start' && c !== 'pause') {
    return undefined;
  }
  const job = state.getJob(sp, jobId);
  if (!job) {
    return NO_SUCH_JOB;
  }
  if (c === 'restart') {
    const scope = isRecord(body) && typeof body.resetScope === 'string' ? body.resetScope : '';
    state.applyRestart(job, parseResetScope(scope).scopes);
  } else if (c === 'start') {
    state.applyStart(job);
  } else {
    state.applyPause(job);
  }
  return { status: 200, body: job };
}

const jobs: AdminHandler = (ctx, r) => {
  if (!r.a) {
    if (r.method === 'GET') {
      const sp = r.query.get('servicePrincipalId');
      const items = sp ? (ctx.state.listJobs(sp) ?? []) : ctx.state.allJobs();
      return { status: 200, body: { items } };
    }
    return r.method === 'POST' ? addJobs(ctx, r.body) : undefined;
  }
  return r.b ? oneJob(ctx, r, r.a, r.b) : undefined;
};

const RESOURCES = new Map<string, AdminHandler>([
  ['counters', counters],
  ['requests', requests],
  ['reset', reset],
  ['faults', faults],
  ['throttle', throttle],
  ['tokens', tokens],
  ['latency', latency],
  ['ca', ca],
  ['jobs', jobs],
]);

export async function handleAdmin(
  ctx: SimContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const body = method === 'GET' ? (req.resume(), undefined) : parseJson(await readBody(req));
  if (typeof body === 'symbol') {
    return sendJson(res, 400, { error: 'invalid JSON body' });
  }
  const [resource, a, b, c] = path
    .split('/')
    .filter((s) => s !== '')
    .slice(1)
    .map((s) => decodeURIComponent(s));
  let reply: AdminReply | undefined;
  try {
    reply = RESOURCES.get(resource ?? '')?.(ctx, { method, query, body, a, b, c });
  } catch (error) {
    return sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
  if (reply === undefined) {
    return sendJson(res, 404, { error: `unknown admin route ${method} ${path}` });
  }
  if ('pem' in reply) {
    res.writeHead(reply.status, { 'Content-Type': 'application/x-pem-file' });
    res.end(reply.pem);
    return;
  }
  sendJson(res, reply.status, reply.body);
}
