import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { errorAnswer, faultAnswer, sendGraph, throttledAnswer, type RequestIds } from './graph-answer';
import { runBatch } from './graph-batch';
import { countReceived, executeJobs } from './graph-jobs';
import { parseRoute, type Route } from './graph-route';
import { faultActionOf } from './faults';
import type { SimContext } from './sim-context';
import { logRequest, parseJson, readBody, sleep, type Answer } from './sim-http';

/** Graph under `/v1.0` and `/beta`: authentication, faults, throttling, then the jobs or `$batch`. */

type LogStatus = number | 'dropped' | 'hang';

/** One Graph request as it goes through the steps below. */
interface GraphExchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  version: string;
  path: string;
  method: string;
  ids: RequestIds;
  bodyText: string;
  route: Route;
  log(status: LogStatus, faultId: string | null): void;
}

/** The 401 Graph answers without a valid token issued by this simulator, or null when the token is valid. */
function unauthorized(ctx: SimContext, x: GraphExchange): Answer | null {
  const auth = x.req.headers.authorization ?? '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
  if (ctx.state.isTokenValid(token)) {
    return null;
  }
  ctx.state.mutableCounters.unauthorized += 1;
  const message =
    token === '' ? 'Access token is empty.' : 'Lifetime validation failed, the token is expired.';
  const answer = errorAnswer(401, 'InvalidAuthenticationToken', message, x.ids);
  answer.headers = {
    'WWW-Authenticate': `Bearer realm="", authorization_uri="${ctx.origin.replace(/^http:/, 'https:')}/${ctx.tenantId}/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
  };
  return answer;
}

/** What the throttle, `$batch` or the jobs answer (past authentication and faults). */
function answerFor(ctx: SimContext, x: GraphExchange): Answer {
  const { route } = x;
  const retryAfter =
    route.operation === 'unknown' || route.operation === 'batch' ? null : ctx.state.throttle(route.operation);
  if (retryAfter !== null) {
    return throttledAnswer(retryAfter, x.ids);
  }
  if (route.operation === 'batch' && !route.error) {
    return runBatch(ctx, parseJson(x.bodyText), x.ids.clientRequestId, x.version);
  }
  const body = route.operation === 'restart' ? parseJson(x.bodyText) : undefined;
  return executeJobs(ctx, route, x.ids, x.version, body);
}

/**
 * Applies a matching fault rule. `next` is 'done' when the fault ended the exchange (dropped, hung or
 * answered), 'dropAfter' when the request must be acted on and its connection then dropped, else 'go'.
 */
async function applyFault(
  ctx: SimContext,
  x: GraphExchange,
): Promise<{ next: 'done' | 'dropAfter' | 'go'; faultId: string | null }> {
  const fault = ctx.state.takeFault({ ...x.route, method: x.method, path: x.path, viaBatch: false });
  if (!fault) {
    return { next: 'go', faultId: null };
  }
  if (fault.latencyMs) {
    await sleep(fault.latencyMs);
  }
  const action = faultActionOf(fault);
  const done = { next: 'done' as const, faultId: fault.id };
  if (action === 'dropBefore') {
    x.log('dropped', fault.id);
    x.req.socket.destroy();
    return done;
  }
  if (action === 'hang') {
    x.log('hang', fault.id);
    return done;
  }
  if (action === 'respond') {
    const answer = faultAnswer(fault, x.ids);
    x.log(answer.status, fault.id);
    sendGraph(x.res, answer, x.ids);
    return done;
  }
  return { next: action === 'dropAfter' ? 'dropAfter' : 'go', faultId: fault.id };
}

export async function handleGraph(
  ctx: SimContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  version: string,
  path: string,
): Promise<void> {
  const { state } = ctx;
  const method = (req.method ?? 'GET').toUpperCase();
  const crid = req.headers['client-request-id'];
  const ids: RequestIds = {
    requestId: randomUUID(),
    clientRequestId: typeof crid === 'string' && crid !== '' ? crid : null,
  };
  const bodyText = method === 'GET' || method === 'HEAD' ? (req.resume(), '') : await readBody(req);
  state.mutableCounters.requests += 1;
  if (state.latencyMs > 0) {
    await sleep(state.latencyMs);
  }
  const route = parseRoute(method, path);
  const x: GraphExchange = {
    req,
    res,
    version,
    path,
    method,
    ids,
    bodyText,
    route,
    log: (status, faultId) =>
      logRequest(state, {
        method,
        path,
        operation: route.operation,
        servicePrincipalId: route.servicePrincipalId,
        jobId: route.jobId,
        status,
        viaBatch: false,
        clientRequestId: ids.clientRequestId,
        requestId: ids.requestId,
        faultId,
      }),
  };
  const refused = state.requireAuth ? unauthorized(ctx, x) : null;
  if (refused) {
    x.log(401, null);
    sendGraph(res, refused, ids);
    return;
  }
  countReceived(state, route);
  const fault = await applyFault(ctx, x);
  if (fault.next === 'done') {
    return;
  }
  const answer = answerFor(ctx, x);
  if (fault.next === 'dropAfter') {
    x.log('dropped', fault.faultId);
    req.socket.destroy();
    return;
  }
  x.log(answer.status, fault.faultId);
  sendGraph(res, answer, ids);
}
