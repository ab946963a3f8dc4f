import type { Api, Query } from './client';
import type { AttemptStats, AttemptView, Page } from './types';

/** The filters every audit endpoint shares (DESIGN section 2, GET /v1/attempts). */
export interface AttemptFilter {
  servicePrincipalId?: string;
  jobId?: string;
  outcome?: string[];
  actor?: string;
  trigger?: string;
  operation?: string;
  from?: string;
  to?: string;
}

export const FILTER_KEYS = [
  'servicePrincipalId',
  'jobId',
  'actor',
  'trigger',
  'operation',
  'from',
  'to',
] as const;

/** Reads the filters (and limit) from a URL's query string, so a filtered audit view is a shareable link. */
export function filterFromSearch(search: URLSearchParams): AttemptFilter & { limit?: number } {
  const f: AttemptFilter & { limit?: number } = {};
  for (const key of FILTER_KEYS) {
    const v = search.get(key);
    if (v) {
      f[key] = v;
    }
  }
  const outcomes = search.getAll('outcome').filter(Boolean);
  if (outcomes.length > 0) {
    f.outcome = outcomes;
  }
  const limit = Number(search.get('limit'));
  if (Number.isInteger(limit) && limit >= 1 && limit <= 500) {
    f.limit = limit;
  }
  return f;
}

export function filterToSearch(f: AttemptFilter & { limit?: number }): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const v = f[key];
    if (v) {
      params.set(key, v);
    }
  }
  for (const o of f.outcome ?? []) {
    params.append('outcome', o);
  }
  if (f.limit !== undefined) {
    params.set('limit', String(f.limit));
  }
  return params;
}

function q(f: AttemptFilter): Query {
  return { ...f };
}

export const attemptsApi = {
  list: (api: Api, f: AttemptFilter, limit = 50, cursor?: string | null) =>
    api.get<Page<AttemptView>>('/v1/attempts', { ...q(f), limit, cursor: cursor ?? undefined }),
  get: (api: Api, attemptId: string) => api.get<AttemptView>(`/v1/attempts/${encodeURIComponent(attemptId)}`),
  stats: (api: Api, f: AttemptFilter) => api.get<AttemptStats>('/v1/attempts/stats', q(f)),
  export: (api: Api, f: AttemptFilter, format: 'csv' | 'ndjson') =>
    api.blob('/v1/attempts/export', { ...q(f), format }),
};
