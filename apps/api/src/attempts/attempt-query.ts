import {
  DomainError,
  ErrorCode,
  canonicalId,
  OPERATIONS,
  type Operation,
  TRIGGERS,
  type Trigger,
  isJobId,
  isServicePrincipalId,
  GUID_PATTERN,
} from '@app/common';
import { type AttemptFilter, STORED_OUTCOMES, type StoredOutcome } from '@app/persistence';

/** Query parameters of the audit endpoints, strictly validated: every problem is a 400 naming the parameter. */

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;
export const DEFAULT_STATS_GROUPS = 20;
export const FILTER_PARAMS = [
  'servicePrincipalId',
  'jobId',
  'outcome',
  'actor',
  'trigger',
  'operation',
  'from',
  'to',
] as const;
export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const STATS_GROUPS = ['job', 'actor'] as const;
export type StatsGroupBy = (typeof STATS_GROUPS)[number];

export type RawQuery = Record<string, unknown>;

export interface ListQuery {
  filter: AttemptFilter;
  limit: number;
  cursor: string | null;
}

export interface StatsQuery {
  filter: AttemptFilter;
  groupBy: StatsGroupBy | null;
  limit: number;
}

export interface ExportQuery {
  filter: AttemptFilter;
  format: ExportFormat;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/i;
const ACTOR_MAX = 200;

function bad(message: string, code: ErrorCode = ErrorCode.INVALID_INPUT): never {
  throw new DomainError(code, message);
}

function shown(name: string): string {
  return JSON.stringify(name.length > 50 ? `${name.slice(0, 50)}…` : name);
}

function rejectUnknown(query: RawQuery, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    bad(
      `query parameter ${unknown.slice(0, 5).map(shown).join(', ')} is not allowed (allowed: ${allowed.join(', ')})`,
      ErrorCode.UNKNOWN_QUERY_PARAMETER,
    );
  }
}

/** A parameter that may be given once: a string, or undefined when absent. */
function single(query: RawQuery, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) {
    return undefined;
  }
  if (typeof v !== 'string') {
    bad(`${name} must be given at most once, as a plain value`);
  }
  return v;
}

function validDay(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** ISO 8601: a date (UTC midnight) or a date-time with seconds optional and an explicit offset (Z or ±hh:mm). */
export function parseInstant(value: string, name: string): Date {
  const message = `${name} must be an ISO 8601 date or date-time with an offset, e.g. 2026-11-28 or 2026-11-28T16:00:00Z`;
  const date = ISO_DATE.exec(value);
  const dateTime = date ? null : ISO_DATE_TIME.exec(value);
  const m = date ?? dateTime;
  if (!m) {
    bad(message);
  }
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDay(y, mo, d)) {
    bad(message);
  }
  if (dateTime) {
    const [h, mi, s] = [Number(dateTime[4]), Number(dateTime[5]), Number(dateTime[6] ?? '0')];
    const offset = dateTime[8] ?? 'Z';
    const offsetOk =
      /^z$/i.test(offset) || (Number(offset.slice(1, 3)) <= 23 && Number(offset.slice(4, 6)) <= 59);
    if (h > 23 || mi > 59 || s > 59 || !offsetOk) {
      bad(message);
    }
  }
  const t = Date.parse(date ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t)) {
    bad(message);
  }
  return new Date(t);
}

function parseOutcomes(query: RawQuery): StoredOutcome[] | undefined {
  const v = query.outcome;
  if (v === undefined) {
    return undefined;
  }
  const values = Array.isArray(v) ? (v as unknown[]) : [v];
  if (values.length === 0 || values.length > STORED_OUTCOMES.length * 2) {
    bad('outcome must be given once per value (repeat it for several outcomes)');
  }
  const seen = new Set<StoredOutcome>();
  for (const o of values) {
    if (typeof o !== 'string' || !(STORED_OUTCOMES as readonly string[]).includes(o)) {
      bad(
        `outcome must be one of ${STORED_OUTCOMES.join(', ')}${typeof o === 'string' ? `, got ${shown(o)}` : ''}`,
      );
    }
    seen.add(o as StoredOutcome);
  }
  // Canonical order: the same set of outcomes is the same filter (and the same cursor binding).
  return STORED_OUTCOMES.filter((o) => seen.has(o));
}

function parseLimit(query: RawQuery, name: string, def: number): number {
  const v = single(query, name);
  if (v === undefined) {
    return def;
  }
  if (!/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) {
    bad(`${name} must be an integer between 1 and ${MAX_LIMIT}`);
  }
  return Number(v);
}

/** The filters shared by list, stats and export. */
export function parseFilter(query: RawQuery): AttemptFilter {
  const filter: AttemptFilter = {};
  const sp = single(query, 'servicePrincipalId');
  if (sp !== undefined) {
    if (!isServicePrincipalId(sp)) {
      bad('servicePrincipalId must be a GUID');
    }
    // Stored lower-case by the guard.
    filter.servicePrincipalId = sp.toLowerCase();
  }
  const jobId = single(query, 'jobId');
  if (jobId !== undefined) {
    if (!isJobId(jobId)) {
      bad('jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$');
    }
    filter.jobId = jobId;
  }
  const outcomes = parseOutcomes(query);
  if (outcomes !== undefined) {
    filter.outcomes = outcomes;
  }
  const actor = single(query, 'actor');
  if (actor !== undefined) {
    // eslint-disable-next-line no-control-regex
    if (actor.length === 0 || actor.length > ACTOR_MAX || /[\u0000-\u001f\u007f]/.test(actor)) {
      bad(`actor must be an actor id of 1 to ${ACTOR_MAX} printable characters`);
    }
    // Actor ids that are GUIDs are stored lower-case by the guard.
    filter.actorId = canonicalId(actor);
  }
  const trigger = single(query, 'trigger');
  if (trigger !== undefined) {
    if (!(TRIGGERS as readonly string[]).includes(trigger)) {
      bad(`trigger must be one of ${TRIGGERS.join(', ')}`);
    }
    filter.trigger = trigger as Trigger;
  }
  const operation = single(query, 'operation');
  if (operation !== undefined) {
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      bad(`operation must be one of ${OPERATIONS.join(', ')}`);
    }
    filter.operation = operation as Operation;
  }
  const from = single(query, 'from');
  if (from !== undefined) {
    filter.from = parseInstant(from, 'from');
  }
  const to = single(query, 'to');
  if (to !== undefined) {
    filter.to = parseInstant(to, 'to');
  }
  if (filter.from && filter.to && filter.from.getTime() > filter.to.getTime()) {
    bad('from must not be after to');
  }
  return filter;
}

export function parseListQuery(query: RawQuery): ListQuery {
  rejectUnknown(query, [...FILTER_PARAMS, 'limit', 'cursor']);
  const filter = parseFilter(query);
  const limit = parseLimit(query, 'limit', DEFAULT_LIMIT);
  const cursor = single(query, 'cursor');
  if (cursor !== undefined && cursor.length === 0) {
    bad('cursor must not be empty');
  }
  return { filter, limit, cursor: cursor ?? null };
}

export function parseStatsQuery(query: RawQuery): StatsQuery {
  rejectUnknown(query, [...FILTER_PARAMS, 'groupBy', 'limit']);
  const filter = parseFilter(query);
  const groupBy = single(query, 'groupBy');
  if (groupBy !== undefined && !(STATS_GROUPS as readonly string[]).includes(groupBy)) {
    bad(`groupBy must be one of ${STATS_GROUPS.join(', ')}`);
  }
  if (groupBy === undefined && query.limit !== undefined) {
    bad('limit applies only with groupBy (the number of groups returned)');
  }
  return {
    filter,
    groupBy: (groupBy as StatsGroupBy | undefined) ?? null,
    limit: parseLimit(query, 'limit', DEFAULT_STATS_GROUPS),
  };
}

export function parseExportQuery(query: RawQuery): ExportQuery {
  rejectUnknown(query, [...FILTER_PARAMS, 'format']);
  const filter = parseFilter(query);
  const format = single(query, 'format') ?? 'ndjson';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    bad(`format must be one of ${EXPORT_FORMATS.join(', ')}`);
  }
  return { filter, format: format as ExportFormat };
}

export function parseAttemptId(value: string): string {
  if (!GUID_PATTERN.test(value)) {
    bad('attemptId must be a UUID');
  }
  return value.toLowerCase();
}
