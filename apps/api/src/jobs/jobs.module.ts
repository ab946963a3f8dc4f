import { Global, Module } from '@nestjs/common';
import { GuardService } from './guard.service';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

/** The guarded start and the job read endpoints. GuardService is shared with scheduled recovery. */
@Global()
@Module({ controllers: [JobsController], providers: [GuardService, JobsService], exports: [GuardService] })
export class JobsModule {}
