import { Inject, Injectable } from '@nestjs/common';
import { Clock, DomainError, ErrorCode, validInput } from '@app/common';
import { type DeliveryView, type DestinationView, NotificationRepository } from '@app/persistence';
import type { Caller } from '../auth/roles';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { encodeCursor, parseDeliveriesQuery, parseDestinationBody, parseId } from './notification-request';
import { type Page, pageOf } from '../http/page';

/** What the notifications API needs of the store (a test fake implements exactly this). */
export type NotificationStore = Pick<
  NotificationRepository,
  'createDestination' | 'listDestinations' | 'deleteDestination' | 'listDeliveries' | 'redeliver'
>;

/**
 * Notification destinations and deliveries (DESIGN section 2d). Destinations are Admin-only and their secrets
 * write-only; deliveries show what was sent where, and a dead-lettered one can be sent again.
 */
@Injectable()
export class NotificationsService {
  constructor(
    @Inject(NotificationRepository) private readonly repo: NotificationStore,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  createDestination(body: unknown, caller: Caller): Promise<DestinationView> {
    const input = validInput(parseDestinationBody(body, this.config.production));
    return this.repo.createDestination({ ...input, createdBy: caller.actor.id });
  }

  listDestinations(query: Record<string, unknown>): Promise<DestinationView[]> {
    const extra = Object.keys(query);
    if (extra.length > 0) {
      throw new DomainError(ErrorCode.UNKNOWN_QUERY_PARAMETER, `unknown query parameter ${extra[0] ?? ''}`);
    }
    return this.repo.listDestinations();
  }

  async removeDestination(destinationId: string): Promise<void> {
    const id = validInput(parseId(destinationId, 'destinationId'));
    if ((await this.repo.deleteDestination(id)) === null) {
      throw new DomainError(ErrorCode.DESTINATION_NOT_FOUND, `No destination ${id}`);
    }
  }

  /** Deliveries, newest first, one page (keyset cursor). */
  async deliveries(query: Record<string, unknown>): Promise<Page<DeliveryView>> {
    const q = validInput(parseDeliveriesQuery(query));
    const rows = await this.repo.listDeliveries({ ...q, limit: q.limit + 1 });
    return pageOf(rows, q.limit, (d) => encodeCursor({ at: new Date(d.createdAt), id: d.deliveryId }));
  }

  /** Makes a delivered or dead-lettered delivery due at once; a pending one is being tried (409). */
  async redeliver(deliveryId: string): Promise<DeliveryView> {
    const id = validInput(parseId(deliveryId, 'deliveryId'));
    const result = await this.repo.redeliver(id, this.clock.now());
    if (result === null) {
      throw new DomainError(ErrorCode.DELIVERY_NOT_FOUND, `No delivery ${id}`);
    }
    if (result === 'pending') {
      throw new DomainError(ErrorCode.DELIVERY_PENDING, `Delivery ${id} is still pending; it is being tried`);
    }
    return result;
  }
}
