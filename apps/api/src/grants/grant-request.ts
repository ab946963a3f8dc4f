import { GUID_PATTERN, isServicePrincipalId, unknownKeys, type ParsedInput } from '@app/common';

/** Strict parsing of the grants API's input: unknown fields, wrong types and malformed GUIDs are refused. */

export interface GrantInput {
  principalId: string;
  servicePrincipalId: string;
}

export interface GrantFilter {
  principalId?: string;
  servicePrincipalId?: string;
}

/** A principal id is an Entra object id: a GUID. Stored lower-case, as the guard compares it. */
function guidField(value: unknown, field: string): ParsedInput<string> {
  if (typeof value !== 'string' || !GUID_PATTERN.test(value)) {
    return { ok: false, message: `${field} must be a GUID` };
  }
  return { ok: true, value: value.toLowerCase() };
}

export function parseGrantBody(body: unknown): ParsedInput<GrantInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'body must be a JSON object with principalId and servicePrincipalId' };
  }
  const record = body as Record<string, unknown>;
  const extra = unknownKeys(record, ['principalId', 'servicePrincipalId'], 'property');
  if (extra) {
    return { ok: false, message: extra };
  }
  const principalId = guidField(record.principalId, 'principalId');
  if (!principalId.ok) {
    return principalId;
  }
  if (!isServicePrincipalId(record.servicePrincipalId)) {
    return { ok: false, message: 'servicePrincipalId must be a GUID' };
  }
  return {
    ok: true,
    value: { principalId: principalId.value, servicePrincipalId: record.servicePrincipalId.toLowerCase() },
  };
}

export function parseGrantQuery(query: Record<string, unknown>): ParsedInput<GrantFilter> {
  const extra = unknownKeys(query, ['principalId', 'servicePrincipalId'], 'query parameter');
  if (extra) {
    return { ok: false, message: extra };
  }
  const filter: GrantFilter = {};
  for (const key of ['principalId', 'servicePrincipalId'] as const) {
    const v = query[key];
    if (v === undefined) {
      continue;
    }
    if (typeof v !== 'string') {
      return { ok: false, message: `${key} must be given once, as a single value` };
    }
    const parsed = guidField(v, key);
    if (!parsed.ok) {
      return parsed;
    }
    filter[key] = parsed.value;
  }
  return { ok: true, value: filter };
}

export function parseGrantId(value: string): ParsedInput<string> {
  return GUID_PATTERN.test(value)
    ? { ok: true, value: value.toLowerCase() }
    : { ok: false, message: 'grantId must be a UUID' };
}

export const DEFAULT_EVENTS_LIMIT = 100;
export const MAX_EVENTS_LIMIT = 500;

export function parseEventsQuery(query: Record<string, unknown>): ParsedInput<{ limit: number }> {
  const extra = unknownKeys(query, ['limit'], 'query parameter');
  if (extra) {
    return { ok: false, message: extra };
  }
  const v = query.limit;
  if (v === undefined) {
    return { ok: true, value: { limit: DEFAULT_EVENTS_LIMIT } };
  }
  if (typeof v !== 'string' || !/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > MAX_EVENTS_LIMIT) {
    return { ok: false, message: `limit must be an integer from 1 to ${MAX_EVENTS_LIMIT}` };
  }
  return { ok: true, value: { limit: Number(v) } };
}
