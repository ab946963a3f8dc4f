import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { GraphModule } from '../graph.module';
import { HealthModule } from '../health/health.module';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { RecoveryController } from './recovery.controller';
import { RecoveryLease } from './recovery-lease';
import { RecoveryScheduler } from './recovery.scheduler';
import { RecoverySweep } from './recovery-sweep';
import { RecoveryService } from './recovery.service';
import { RecoveryWatchService } from './recovery-watch.service';

/**
 * Scheduled recovery (DESIGN section 3a): the watch and sweep endpoints, the sweep (RecoverySweep, through the
 * guard of JobsModule), the leader lease and the timer.
 */
@Module({
  imports: [PersistenceModule, GraphModule, JobsModule, MetricsModule, HealthModule, SchedulingModule],
  controllers: [RecoveryController],
  providers: [RecoveryService, RecoverySweep, RecoveryLease, RecoveryScheduler, RecoveryWatchService],
  exports: [RecoveryService],
})
export class RecoveryModule {}
