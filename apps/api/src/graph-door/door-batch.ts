import { isRecord, type ParsedInput } from '@app/common';
import { DOOR_PREFIXES } from './door-routes';
import type { DoorAnswer } from './door-answers';

/** Graph's JSON batching limit. */
export const DOOR_BATCH_LIMIT = 20;

/** One sub-request of a `$batch`, validated. */
export interface BatchItem {
  id: string;
  method: string;
  /** Relative to the version root, starting with `/` (a leading `/v1.0` or `/beta` is removed). */
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

export interface BatchResponseItem {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ITEM_KEYS = ['id', 'method', 'url', 'headers', 'body', 'dependsOn'];

/** Strips a leading `/v1.0` or `/beta` (the JS SDK keeps it when it builds a batch from absolute URLs). */
function relativeUrl(url: string): string {
  const withSlash = url.startsWith('/') ? url : `/${url}`;
  for (const prefix of DOOR_PREFIXES) {
    if (withSlash.toLowerCase().startsWith(`/${prefix}/`)) {
      return withSlash.slice(prefix.length + 1);
    }
  }
  return withSlash;
}

/** The envelope: `{ requests: [...] }` with 1 to 20 requests and nothing else. */
function parseEnvelope(body: unknown): ParsedInput<unknown[]> {
  if (!isRecord(body) || !Array.isArray(body.requests)) {
    return {
      ok: false,
      message: 'Invalid batch payload format: a JSON object with a "requests" array is expected',
    };
  }
  const extra = Object.keys(body).filter((k) => k !== 'requests');
  if (extra.length > 0) {
    return {
      ok: false,
      message: `Invalid batch payload format: property ${JSON.stringify(extra[0])} is not allowed`,
    };
  }
  const requests: unknown[] = body.requests;
  if (requests.length === 0) {
    return { ok: false, message: 'Invalid batch payload format: no requests' };
  }
  if (requests.length > DOOR_BATCH_LIMIT) {
    return {
      ok: false,
      message: `Number of batch requests exceeds the maximum of ${DOOR_BATCH_LIMIT} (got ${requests.length})`,
    };
  }
  return { ok: true, value: requests };
}

/** Optional string headers, by lower-case name. */
function parseHeaders(headers: unknown, where: string): ParsedInput<Record<string, string>> {
  const value: Record<string, string> = {};
  if (headers === undefined || headers === null) {
    return { ok: true, value };
  }
  if (!isRecord(headers)) {
    return { ok: false, message: `${where}.headers must be an object of strings` };
  }
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v !== 'string') {
      return { ok: false, message: `${where}.headers.${k} must be a string` };
    }
    value[k.toLowerCase()] = v;
  }
  return { ok: true, value };
}

/** One request of the batch; `ids` holds the ids seen so far (this one is added). */
function parseItem(r: unknown, index: number, ids: Set<string>): ParsedInput<BatchItem> {
  const where = `requests[${index}]`;
  if (!isRecord(r)) {
    return { ok: false, message: `${where} must be an object` };
  }
  const unknown = Object.keys(r).filter((k) => !ITEM_KEYS.includes(k));
  if (unknown.length > 0) {
    return { ok: false, message: `${where}: property ${JSON.stringify(unknown[0])} is not allowed` };
  }
  if (typeof r.id !== 'string' || r.id.trim() === '' || r.id.length > 100) {
    return { ok: false, message: `${where}.id must be a non-empty string (at most 100 characters)` };
  }
  if (ids.has(r.id)) {
    return { ok: false, message: `Batch request ids must be unique: ${JSON.stringify(r.id)} appears twice` };
  }
  ids.add(r.id);
  if (typeof r.method !== 'string' || !METHODS.includes(r.method.toUpperCase())) {
    return { ok: false, message: `${where}.method must be one of ${METHODS.join(', ')}` };
  }
  if (typeof r.url !== 'string' || r.url.trim() === '' || /^[a-z][a-z0-9+.-]*:/i.test(r.url)) {
    return {
      ok: false,
      message: `${where}.url must be a relative URL such as /servicePrincipals/{id}/synchronization/jobs`,
    };
  }
  const headers = parseHeaders(r.headers, where);
  if (!headers.ok) {
    return headers;
  }
  let dependsOn: string[] = [];
  if (r.dependsOn !== undefined && r.dependsOn !== null) {
    if (!Array.isArray(r.dependsOn) || !r.dependsOn.every((d): d is string => typeof d === 'string')) {
      return { ok: false, message: `${where}.dependsOn must be an array of request ids` };
    }
    dependsOn = r.dependsOn;
  }
  const value = {
    id: r.id,
    method: r.method.toUpperCase(),
    url: relativeUrl(r.url.trim()),
    headers: headers.value,
    body: r.body,
    dependsOn,
  };
  return { ok: true, value };
}

/** Every `dependsOn` names a request of the batch, and there is no cycle: else the message. */
function dependencyProblem(items: BatchItem[], ids: Set<string>): string | null {
  for (const item of items) {
    const missing = item.dependsOn.find((d) => !ids.has(d));
    if (missing !== undefined) {
      return `Request ${JSON.stringify(item.id)} depends on unknown request ${JSON.stringify(missing)}`;
    }
  }
  const cycle = findCycle(items);
  return cycle ? `Batch requests depend on each other in a cycle (${cycle.join(' → ')})` : null;
}

/**
 * Validates a `$batch` body as Graph defines it: 1 to 20 requests, unique string ids, a method, a relative url,
 * optional string headers and body, `dependsOn` naming other requests of the batch, without cycles.
 * A problem with the whole batch is a message (400 for the batch); items are otherwise accepted as given.
 */
export function parseBatch(body: unknown): { ok: true; items: BatchItem[] } | { ok: false; message: string } {
  const requests = parseEnvelope(body);
  if (!requests.ok) {
    return requests;
  }
  const items: BatchItem[] = [];
  const ids = new Set<string>();
  for (const [index, r] of requests.value.entries()) {
    const item = parseItem(r, index, ids);
    if (!item.ok) {
      return item;
    }
    items.push(item.value);
  }
  const problem = dependencyProblem(items, ids);
  return problem === null ? { ok: true, items } : { ok: false, message: problem };
}

function findCycle(items: BatchItem[]): string[] | null {
  const byId = new Map(items.map((i) => [i.id, i]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    const s = state.get(id);
    if (s === 'done') {
      return null;
    }
    if (s === 'visiting') {
      return [...path.slice(path.indexOf(id)), id];
    }
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      const found = visit(dep);
      if (found) {
        return found;
      }
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const item of items) {
    const found = visit(item.id);
    if (found) {
      return found;
    }
  }
  return null;
}

/**
 * Runs the items: independent ones concurrently, each after everything it depends on. An item whose dependency
 * failed (any status outside 2xx) is not run and answers 424, as Graph does. Answers keep the request order.
 */
export async function runBatch(
  items: BatchItem[],
  run: (item: BatchItem) => Promise<DoorAnswer>,
  failedDependency: (item: BatchItem, dependency: string) => DoorAnswer,
): Promise<BatchResponseItem[]> {
  const byId = new Map(items.map((i) => [i.id, i]));
  const results = new Map<string, Promise<DoorAnswer>>();
  const answer = (item: BatchItem): Promise<DoorAnswer> => {
    let pending = results.get(item.id);
    if (!pending) {
      pending = (async () => {
        for (const dep of item.dependsOn) {
          const depItem = byId.get(dep);
          const depAnswer = depItem ? await answer(depItem) : null;
          if (!depAnswer || depAnswer.status < 200 || depAnswer.status >= 300) {
            return failedDependency(item, dep);
          }
        }
        return run(item);
      })();
      results.set(item.id, pending);
    }
    return pending;
  };
  const answers = await Promise.all(items.map(answer));
  return items.map((item, i) => {
    const a = answers[i] as DoorAnswer;
    const headers = { ...a.headers, ...(a.body !== undefined ? { 'Content-Type': 'application/json' } : {}) };
    return { id: item.id, status: a.status, headers, ...(a.body !== undefined ? { body: a.body } : {}) };
  });
}
