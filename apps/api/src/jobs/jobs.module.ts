import { Global, Module } from '@nestjs/common';
import { GuardService } from './guard.service';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { ReconcilerService } from './reconciler.service';

/** The guarded start and the job read endpoints. GuardService is shared with scheduled recovery. */
@Global()
@Module({
  controllers: [JobsController],
  providers: [GuardService, JobsService, ReconcilerService],
  exports: [GuardService, JobsService],
})
export class JobsModule {}
