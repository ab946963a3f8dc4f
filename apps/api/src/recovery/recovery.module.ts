import { Module } from '@nestjs/common';
import { RecoveryController } from './recovery.controller';
import { RecoveryService } from './recovery.service';
import { RecoveryWatchService } from './recovery-watch.service';

/**
 * Scheduled recovery (DESIGN section 3a): the watch and sweep endpoints, and the sweep itself. The guard
 * (GuardService) comes from the global JobsModule, the scheduler registry from ScheduleModule.forRoot() in
 * AppModule.
 */
@Module({
  controllers: [RecoveryController],
  providers: [RecoveryService, RecoveryWatchService],
  exports: [RecoveryService],
})
export class RecoveryModule {}
