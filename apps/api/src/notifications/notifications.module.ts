import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { NotificationsController } from './notifications.controller';
import { NotificationDispatcher } from './dispatcher.service';
import { NotificationsService } from './notifications.service';

/**
 * Notifications (DESIGN section 2d): the destinations and deliveries API, and the dispatcher that delivers the
 * outbox on every replica.
 */
@Module({
  imports: [PersistenceModule, MetricsModule, SchedulingModule],
  controllers: [NotificationsController],
  providers: [NotificationDispatcher, NotificationsService],
  exports: [NotificationDispatcher],
})
export class NotificationsModule {}
