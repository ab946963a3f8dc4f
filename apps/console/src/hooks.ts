import { type QueryKey, useQueries, useQuery } from '@tanstack/react-query';
import type { Api } from './api/client';
import { useApi } from './api/context';
import { jobsApi } from './api/jobs';
import { recoveryApi } from './api/recovery';
import { attemptsApi, type AttemptFilter } from './api/attempts';
import { approvalsApi, holdsApi } from './api/control';
import type { Job } from './api/types';
import { useLive } from './live';
import { useRuntimeConfig } from './runtime';

/** One query of the API, refetched at the live interval (paused while live updates are off). */
export function useLiveQuery<T>(queryKey: QueryKey, queryFn: (api: Api) => Promise<T>) {
  const api = useApi();
  const live = useLive();
  return useQuery({ queryKey, queryFn: () => queryFn(api), refetchInterval: live.refetchInterval });
}

export function useWatches() {
  return useLiveQuery(['watches'], recoveryApi.watches);
}

export function useSweeps() {
  return useLiveQuery(['sweeps'], recoveryApi.sweeps);
}

export function useAttempts(filter: AttemptFilter, limit: number) {
  return useLiveQuery(['attempts', filter, limit], (api) => attemptsApi.list(api, filter, limit));
}

export function useStats(filter: AttemptFilter) {
  return useLiveQuery(['stats', filter], (api) => attemptsApi.stats(api, filter));
}

/** Service principals the console lists: the configured ones, the watched ones and any looked up by id. */
export function useKnownServicePrincipals(extra: string[] = []) {
  const config = useRuntimeConfig();
  const watches = useWatches();
  const ids = new Set<string>();
  for (const id of [
    ...config.servicePrincipalIds,
    ...(watches.data ?? []).map((w) => w.servicePrincipalId),
    ...extra,
  ]) {
    ids.add(id.toLowerCase());
  }
  return { ids: [...ids].sort(), watches };
}

/** Every job of the known service principals, live from Graph through the API. */
export function useKnownJobs(extra: string[] = []) {
  const api = useApi();
  const live = useLive();
  const { ids, watches } = useKnownServicePrincipals(extra);
  const results = useQueries({
    queries: ids.map((spId) => ({
      queryKey: ['jobs', spId],
      queryFn: () => jobsApi.list(api, spId),
      refetchInterval: live.refetchInterval,
    })),
  });
  const jobs: Job[] = results.flatMap((r) => r.data ?? []);
  const errors = results
    .map((r, i) => (r.error ? { spId: ids[i] ?? '', error: r.error } : null))
    .filter((e): e is { spId: string; error: Error } => e !== null);
  const pending = watches.isPending || results.some((r) => r.isPending);
  return { jobs, errors, pending, watches, servicePrincipalIds: ids };
}

/** Holds: active ones by default; with a job, also the holds on its whole service principal. */
export function useHolds(q: { servicePrincipalId?: string; jobId?: string; state?: 'active' | 'all' } = {}) {
  return useLiveQuery(['holds', q], (api) => holdsApi.list(api, q));
}

/** Every approval request the API lists (newest first, up to 500). */
export function useApprovals() {
  return useLiveQuery(['approvals'], approvalsApi.list);
}
