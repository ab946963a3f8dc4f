import {
  RECOVERY_STATES,
  type RecoveryState,
  isJobId,
  isServicePrincipalId,
  isUuid,
  unknownKeys,
  type ParsedInput,
} from '@app/common';

export { isUuid };
import type { KeysetPosition } from '@app/persistence';

/** Strict parsing of the recovery API's bodies and query strings: unknown fields and wrong types are refused. */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** A keyset cursor: base64url of `{"t": ISO time, "i": uuid}` of the last row of the previous page. */
export function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify({ t: at, i: id }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): KeysetPosition | null {
  if (cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    return null;
  }
  try {
    const raw: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return null;
    }
    const { t, i } = raw as Record<string, unknown>;
    if (typeof t !== 'string' || !isUuid(i)) {
      return null;
    }
    const at = new Date(t);
    if (Number.isNaN(at.getTime()) || at.toISOString() !== t) {
      return null;
    }
    return { at, id: i };
  } catch {
    return null;
  }
}

function single(query: Record<string, unknown>, key: string): ParsedInput<string | undefined> {
  const v = query[key];
  if (v === undefined) {
    return { ok: true, value: undefined };
  }
  if (typeof v !== 'string') {
    return { ok: false, message: `${key} must be given once, as a single value` };
  }
  return { ok: true, value: v };
}

export interface PageQuery {
  limit: number;
  cursor: KeysetPosition | null;
}

function parsePage(query: Record<string, unknown>): ParsedInput<PageQuery> {
  const limit = single(query, 'limit');
  if (!limit.ok) {
    return limit;
  }
  let n = DEFAULT_LIMIT;
  if (limit.value !== undefined) {
    if (!/^\d{1,4}$/.test(limit.value) || Number(limit.value) < 1 || Number(limit.value) > MAX_LIMIT) {
      return { ok: false, message: `limit must be an integer from 1 to ${MAX_LIMIT}` };
    }
    n = Number(limit.value);
  }
  const cursor = single(query, 'cursor');
  if (!cursor.ok) {
    return cursor;
  }
  let position: KeysetPosition | null = null;
  if (cursor.value !== undefined) {
    position = decodeCursor(cursor.value);
    if (position === null) {
      return { ok: false, message: 'cursor is malformed: use nextCursor from a previous page' };
    }
  }
  return { ok: true, value: { limit: n, cursor: position } };
}

export interface WatchListQuery extends PageQuery {
  servicePrincipalId?: string;
  state?: RecoveryState;
}

export function parseWatchListQuery(query: Record<string, unknown>): ParsedInput<WatchListQuery> {
  const extra = unknownKeys(query, ['limit', 'cursor', 'servicePrincipalId', 'state'], 'query parameter');
  if (extra) {
    return { ok: false, message: extra };
  }
  const page = parsePage(query);
  if (!page.ok) {
    return page;
  }
  const out: WatchListQuery = { ...page.value };
  const sp = single(query, 'servicePrincipalId');
  if (!sp.ok) {
    return sp;
  }
  if (sp.value !== undefined) {
    if (!isServicePrincipalId(sp.value)) {
      return { ok: false, message: 'servicePrincipalId must be a GUID' };
    }
    out.servicePrincipalId = sp.value;
  }
  const state = single(query, 'state');
  if (!state.ok) {
    return state;
  }
  if (state.value !== undefined) {
    if (!(RECOVERY_STATES as readonly string[]).includes(state.value)) {
      return { ok: false, message: `state must be one of ${RECOVERY_STATES.join(', ')}` };
    }
    out.state = state.value as RecoveryState;
  }
  return { ok: true, value: out };
}

export function parseSweepListQuery(query: Record<string, unknown>): ParsedInput<PageQuery> {
  const extra = unknownKeys(query, ['limit', 'cursor'], 'query parameter');
  if (extra) {
    return { ok: false, message: extra };
  }
  return parsePage(query);
}

export type WatchRequest =
  { kind: 'one'; servicePrincipalId: string; jobId: string } | { kind: 'all'; servicePrincipalId: string };

/** `{ servicePrincipalId, jobId }`, or `{ servicePrincipalId, allJobs: true }` to watch every job of it. */
export function parseWatchBody(body: unknown): ParsedInput<WatchRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'body must be a JSON object with servicePrincipalId and jobId' };
  }
  const record = body as Record<string, unknown>;
  const extra = unknownKeys(record, ['servicePrincipalId', 'jobId', 'allJobs'], 'property');
  if (extra) {
    return { ok: false, message: extra };
  }
  const { servicePrincipalId, jobId, allJobs } = record;
  if (!isServicePrincipalId(servicePrincipalId)) {
    return { ok: false, message: 'servicePrincipalId must be a GUID' };
  }
  if (allJobs !== undefined && typeof allJobs !== 'boolean') {
    return { ok: false, message: 'allJobs must be a boolean' };
  }
  if (allJobs === true) {
    if (jobId !== undefined) {
      return { ok: false, message: 'jobId must not be given with allJobs: true' };
    }
    return { ok: true, value: { kind: 'all', servicePrincipalId } };
  }
  if (!isJobId(jobId)) {
    return { ok: false, message: 'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' };
  }
  return { ok: true, value: { kind: 'one', servicePrincipalId, jobId } };
}
