import { isRecord } from '@app/common';
import { errorAnswer, type RequestIds } from './graph-answer';
import type { Route } from './graph-route';
import { parseResetScope } from './job-lifecycle';
import type { RestartScope } from './job-types';
import type { SimContext } from './sim-context';
import { type Answer } from './sim-http';
import type { SimulatorState } from './state';

/** Graph's synchronization jobs of a service principal: list, get, start, pause, restart. */

/** Counts a Graph request received past authentication (before faults and throttling). */
export function countReceived(state: SimulatorState, route: Route): void {
  const counters = state.mutableCounters;
  if (route.operation === 'start') {
    counters.startRequests += 1;
  }
  if (route.operation === 'restart') {
    counters.restartRequests += 1;
  }
  if (route.operation === 'list' || route.operation === 'get') {
    counters.reads += 1;
    if (route.operation === 'list') {
      counters.lists += 1;
    } else {
      counters.gets += 1;
    }
  }
}

/**
 * Graph's restart body: `{"criteria":{"resetScope":"Watermark, Escrows"}}`; criteria and resetScope may be
 * left out. Returns the scopes, or the message of Graph's 400.
 */
function readRestartBody(body: unknown): { scopes: RestartScope[] } | { error: string } {
  if (typeof body === 'symbol' || (body !== undefined && !isRecord(body))) {
    return { error: 'Invalid request body.' };
  }
  const criteria = body?.criteria;
  if (criteria !== undefined && criteria !== null && !isRecord(criteria)) {
    return { error: 'Invalid criteria.' };
  }
  const raw = isRecord(criteria) ? criteria.resetScope : undefined;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') {
    return { error: 'Cannot convert the literal to the expected type Edm.String.' };
  }
  const parsed = parseResetScope(typeof raw === 'string' ? raw : '');
  if (parsed.unknown.length > 0) {
    return { error: `Requested value '${parsed.unknown[0] ?? ''}' was not found.` };
  }
  return { scopes: parsed.scopes };
}

/** Runs one routed Graph operation against the state (acts on start, pause and restart). */
export function executeJobs(
  ctx: SimContext,
  route: Route,
  ids: RequestIds,
  version: string,
  body?: unknown,
): Answer {
  const { state } = ctx;
  const sp = route.servicePrincipalId ?? '';
  if (route.error) {
    const body = route.error.body as { code: string; message: string };
    return errorAnswer(route.error.status, body.code, body.message, ids);
  }
  if (!state.hasServicePrincipal(sp)) {
    const message = `Resource '${sp}' does not exist or one of its queried reference-property objects are not present.`;
    return errorAnswer(404, 'Request_ResourceNotFound', message, ids);
  }
  const context = `${ctx.origin}/${version}/$metadata#servicePrincipals('${sp}')/synchronization/jobs`;
  if (route.operation === 'list') {
    const jobs = state.listJobs(sp) ?? [];
    return {
      status: 200,
      body: { '@odata.context': context, value: jobs.map((j) => state.toGraphJson(j)) },
    };
  }
  const job = route.jobId === null ? undefined : state.getJob(sp, route.jobId);
  if (!job) {
    const message = `The synchronization job '${route.jobId ?? ''}' was not found.`;
    return errorAnswer(404, 'Request_ResourceNotFound', message, ids);
  }
  switch (route.operation) {
    case 'get':
      return { status: 200, body: { '@odata.context': `${context}/$entity`, ...state.toGraphJson(job) } };
    case 'start':
      state.applyStart(job);
      return { status: 204 };
    case 'pause':
      state.applyPause(job);
      return { status: 204 };
    case 'restart': {
      const read = readRestartBody(body);
      if ('error' in read) {
        return errorAnswer(400, 'BadRequest', read.error, ids);
      }
      state.applyRestart(job, read.scopes);
      return { status: 204 };
    }
    default:
      return errorAnswer(400, 'BadRequest', 'Unsupported request.', ids);
  }
}
