import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { GraphModule } from '../graph.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { GuardService } from './guard.service';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ReconcilerService } from './reconciler.service';

/**
 * The guarded start and the job read endpoints, and the reconciler of attempts a stopped process left pending.
 * GuardService is exported for every other path that reaches Graph's writes (recovery, job control, the door).
 */
@Module({
  imports: [PersistenceModule, GraphModule, MetricsModule, SchedulingModule],
  controllers: [JobsController],
  providers: [GuardService, JobsService, ReconcilerService],
  exports: [GuardService, JobsService],
})
export class JobsModule {}
