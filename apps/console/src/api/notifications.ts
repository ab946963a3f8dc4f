import type { Api } from './client';
import type { Delivery, Destination, Page } from './types';

export interface NewDestination {
  kind: string;
  name?: string;
  url: string;
  secret?: string;
  eventTypes?: string[];
  servicePrincipalIds?: string[];
}

/** Notification destinations (Admin) and deliveries (DESIGN 2d). */
export const notificationsApi = {
  destinations: (api: Api) =>
    api.get<{ items: Destination[] }>('/v1/notifications/destinations').then((r) => r.items),
  create: (api: Api, body: NewDestination) => api.post<Destination>('/v1/notifications/destinations', body),
  remove: (api: Api, destinationId: string) =>
    api.del(`/v1/notifications/destinations/${encodeURIComponent(destinationId)}`),
  deliveries: (api: Api, q: { state?: string; limit?: number }) =>
    api.get<Page<Delivery>>('/v1/notifications/deliveries', { limit: 100, ...q }),
  redeliver: (api: Api, deliveryId: string) =>
    api.post<Delivery>(`/v1/notifications/deliveries/${encodeURIComponent(deliveryId)}/redeliver`),
};
