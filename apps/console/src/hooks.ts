import { useQueries, useQuery } from '@tanstack/react-query';
import { useApi } from './api/context';
import { jobsApi } from './api/jobs';
import { recoveryApi } from './api/recovery';
import { attemptsApi, type AttemptFilter } from './api/attempts';
import { approvalsApi, holdsApi } from './api/control';
import type { Job } from './api/types';
import { useLive } from './live';
import { useRuntimeConfig } from './runtime';

export function useWatches() {
  const api = useApi();
  const live = useLive();
  return useQuery({
    queryKey: ['watches'],
    queryFn: () => recoveryApi.watches(api),
    refetchInterval: live.refetchInterval,
  });
}

export function useSweeps() {
  const api = useApi();
  const live = useLive();
  return useQuery({
    queryKey: ['sweeps'],
    queryFn: () => recoveryApi.sweeps(api),
    refetchInterval: live.refetchInterval,
  });
}

export function useAttempts(filter: AttemptFilter, limit: number) {
  const api = useApi();
  const live = useLive();
  return useQuery({
    queryKey: ['attempts', filter, limit],
    queryFn: () => attemptsApi.list(api, filter, limit),
    refetchInterval: live.refetchInterval,
  });
}

export function useStats(filter: AttemptFilter) {
  const api = useApi();
  const live = useLive();
  return useQuery({
    queryKey: ['stats', filter],
    queryFn: () => attemptsApi.stats(api, filter),
    refetchInterval: live.refetchInterval,
  });
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
  const api = useApi();
  const live = useLive();
  return useQuery({
    queryKey: ['holds', q],
    queryFn: () => holdsApi.list(api, q),
    refetchInterval: live.refetchInterval,
  });
}

/** Every approval request the API lists (newest first, up to 500). */
export function useApprovals() {
  const api = useApi();
  const live = useLive();
  return useQuery({
    queryKey: ['approvals'],
    queryFn: () => approvalsApi.list(api),
    refetchInterval: live.refetchInterval,
  });
}
