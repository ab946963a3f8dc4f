import { isRecord } from '@app/common';
import { randomUUID } from 'node:crypto';
import { errorAnswer, faultAnswer, GRAPH_JSON, throttledAnswer, type RequestIds } from './graph-answer';
import { countReceived, executeJobs } from './graph-jobs';
import { parseRoute } from './graph-route';
import type { SimContext } from './sim-context';
import { logRequest, type Answer } from './sim-http';
import type { SimulatorState } from './state';

/** Graph's JSON `$batch`: up to 20 sub-requests, each routed, faulted, throttled and logged on its own. */

const BATCH_LIMIT = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  body?: unknown;
}

/** The sub-requests, or the message of Graph's 400 for a malformed payload. */
function readBatch(body: unknown): BatchItem[] | string {
  if (!isRecord(body) || !Array.isArray(body.requests)) {
    return 'Invalid batch payload format.';
  }
  const requests = body.requests as unknown[];
  if (requests.length === 0) {
    return 'Invalid batch payload format: no requests.';
  }
  if (requests.length > BATCH_LIMIT) {
    return `Number of batch requests exceeds the maximum of ${BATCH_LIMIT}.`;
  }
  const ids = new Set<string>();
  for (const item of requests) {
    if (
      !isRecord(item) ||
      typeof item.id !== 'string' ||
      typeof item.method !== 'string' ||
      typeof item.url !== 'string'
    ) {
      return 'Invalid batch payload format: each request needs id, method and url.';
    }
    if (ids.has(item.id)) {
      return 'Batch request contains duplicate ids.';
    }
    ids.add(item.id);
  }
  return requests as BatchItem[];
}

function runItem(ctx: SimContext, item: BatchItem, clientRequestId: string | null, version: string) {
  const { state } = ctx;
  state.mutableCounters.batchItems += 1;
  const ids: RequestIds = { requestId: randomUUID(), clientRequestId };
  const method = item.method.toUpperCase();
  const rawPath = (item.url.startsWith('/') ? item.url : `/${item.url}`).split('?')[0] ?? '/';
  const route = parseRoute(method, rawPath);
  countReceived(state, route);
  const fault = state.takeFault({ ...route, method, path: rawPath, viaBatch: true });
  let answer: Answer;
  if (fault) {
    answer = faultAnswer(fault, ids);
  } else {
    const retryAfter = route.operation === 'unknown' ? null : state.throttle(route.operation);
    answer =
      retryAfter !== null
        ? throttledAnswer(retryAfter, ids)
        : executeJobs(ctx, route, ids, version, item.body);
  }
  logRequest(state, {
    method,
    path: rawPath,
    operation: route.operation,
    servicePrincipalId: route.servicePrincipalId,
    jobId: route.jobId,
    status: answer.status,
    viaBatch: true,
    clientRequestId,
    requestId: ids.requestId,
    faultId: fault?.id ?? null,
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(answer.headers ?? {})) {
    headers[k.toLowerCase()] = v;
  }
  if (answer.body !== undefined) {
    headers['content-type'] = GRAPH_JSON;
  }
  return {
    id: item.id,
    status: answer.status,
    headers,
    ...(answer.body !== undefined ? { body: answer.body } : {}),
  };
}

/** Graph may answer a batch's items in any order. */
function reorder<T>(responses: T[], order: SimulatorState['batchOrder']): void {
  if (order === 'reverse') {
    responses.reverse();
  } else if (order === 'shuffle') {
    for (let i = responses.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      const a = responses[i];
      const b = responses[j];
      if (a !== undefined && b !== undefined) {
        responses[i] = b;
        responses[j] = a;
      }
    }
  }
}

export function runBatch(
  ctx: SimContext,
  body: unknown,
  clientRequestId: string | null,
  version: string,
): Answer {
  ctx.state.mutableCounters.batchRequests += 1;
  const items = readBatch(body);
  if (typeof items === 'string') {
    return errorAnswer(400, 'BadRequest', items, { requestId: randomUUID(), clientRequestId });
  }
  const responses = items.map((item) => runItem(ctx, item, clientRequestId, version));
  reorder(responses, ctx.state.batchOrder);
  return { status: 200, body: { responses } };
}
