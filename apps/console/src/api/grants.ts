import type { Api } from './client';
import type { Grant, GrantEvent } from './types';

export const grantsApi = {
  list: (api: Api) => api.get<{ items: Grant[] }>('/v1/grants').then((r) => r.items),
  events: (api: Api) => api.get<{ items: GrantEvent[] }>('/v1/grants/events').then((r) => r.items),
  create: (api: Api, body: { principalId: string; servicePrincipalId: string }) =>
    api.post<Grant>('/v1/grants', body),
  remove: (api: Api, grantId: string) => api.del(`/v1/grants/${encodeURIComponent(grantId)}`),
};
