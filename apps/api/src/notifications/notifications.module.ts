import { Module } from '@nestjs/common';
import { Clock, SystemClock } from '@app/common';
import { NotificationsController } from './notifications.controller';
import { NotificationDispatcher } from './dispatcher.service';
import { NotificationsService } from './notifications.service';

/**
 * Notifications (DESIGN section 2d): the destinations and deliveries API, and the dispatcher that delivers the
 * outbox on every replica. NotificationRepository comes from the global PersistenceModule, the scheduler
 * registry from ScheduleModule.forRoot() in AppModule.
 */
@Module({
  controllers: [NotificationsController],
  providers: [NotificationDispatcher, NotificationsService, { provide: Clock, useClass: SystemClock }],
  exports: [NotificationDispatcher],
})
export class NotificationsModule {}
