import type { Api } from './client';
import type { Page, Sweep, Watch } from './types';

export const recoveryApi = {
  watches: (api: Api) => api.get<Page<Watch>>('/v1/recovery/watches', { limit: 500 }).then((p) => p.items),
  addWatch: (api: Api, body: { servicePrincipalId: string; jobId?: string; allJobs?: boolean }) =>
    api.post<unknown>('/v1/recovery/watches', body),
  removeWatch: (api: Api, watchId: string) => api.del(`/v1/recovery/watches/${encodeURIComponent(watchId)}`),
  sweeps: (api: Api) => api.get<Page<Sweep>>('/v1/recovery/sweeps', { limit: 20 }).then((p) => p.items),
};
