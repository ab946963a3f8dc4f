import { Module } from '@nestjs/common';
import { ControlModule } from '../control/control.module';
import { GraphModule } from '../graph.module';
import { JobsModule } from '../jobs/jobs.module';
import { JobControlService } from '../control/job-control.service';
import { GraphDoorController } from './graph-door.controller';
import {
  DOOR_JOB_CONTROL,
  DOOR_RESTART_DEFAULT_REASON,
  type DoorJobControl,
  GraphDoorService,
} from './graph-door.service';

/**
 * The Graph-compatible door (DESIGN section 2b) under /v1.0 and /beta. A second HTTP shape over the same
 * services as /v1 (JobsService and its guard, JobControlService, the GraphClient); no second implementation.
 */
@Module({
  imports: [ControlModule, JobsModule, GraphModule],
  controllers: [GraphDoorController],
  providers: [
    GraphDoorService,
    {
      // Graph's pause (no body) and restart are the guarded pause and restart of DESIGN section 2c. Graph's
      // restart body has no reason: it comes from the sjg-reason header (the same rules as /v1's reason), else
      // a fixed text. Graph's scope names are parsed by the same rules as /v1's resetScope.
      provide: DOOR_JOB_CONTROL,
      inject: [JobControlService],
      useFactory: (control: JobControlService): DoorJobControl => ({
        pause: (call) => control.pause({ ...call, body: undefined }),
        restart: ({ resetScope, reason, ...call }) =>
          control.restart({
            ...call,
            body: { resetScope, reason: reason ?? DOOR_RESTART_DEFAULT_REASON },
          }),
      }),
    },
  ],
})
export class GraphDoorModule {}
