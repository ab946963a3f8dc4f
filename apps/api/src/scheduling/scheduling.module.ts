import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Clock, SystemClock } from '@app/common';
import { PeriodicWork } from './periodic-work';

/**
 * Time and timers for the modules that do periodic work: the one `PeriodicWork` seam (over @nestjs/schedule's
 * SchedulerRegistry) and the `Clock` the services ask what time it is (tests give a ManualClock).
 */
@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [PeriodicWork, { provide: Clock, useClass: SystemClock }],
  exports: [PeriodicWork, Clock],
})
export class SchedulingModule {}
