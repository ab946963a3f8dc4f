import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { GraphModule } from '../graph.module';
import { JobsModule } from '../jobs/jobs.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { ApprovalsController } from '../approvals/approvals.controller';
import { ApprovalsService } from '../approvals/approvals.service';
import { HoldsController } from '../holds/holds.controller';
import { HoldsService } from '../holds/holds.service';
import { JobControlController } from './job-control.controller';
import { JobControlService } from './job-control.service';

/**
 * Job control beyond start (DESIGN 2c): holds, guarded pause and restart, approvals. The services are exported
 * for the other doors (the Graph-compatible one calls pause and restart through them).
 */
@Module({
  imports: [PersistenceModule, GraphModule, JobsModule, SchedulingModule],
  controllers: [JobControlController, HoldsController, ApprovalsController],
  providers: [JobControlService, HoldsService, ApprovalsService],
  exports: [JobControlService, HoldsService, ApprovalsService],
})
export class ControlModule {}
