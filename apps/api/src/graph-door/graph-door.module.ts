import { Module } from '@nestjs/common';
import { ControlModule } from '../control/control.module';
import { JobControlService } from '../control/job-control.service';
import { GraphDoorController } from './graph-door.controller';
import { DOOR_JOB_CONTROL, type DoorJobControl, GraphDoorService } from './graph-door.service';

/**
 * The Graph-compatible door (DESIGN section 2b) under /v1.0 and /beta. A second HTTP shape over the same
 * services as /v1 (JobsService and its guard, JobControlService, the GraphClient); no second implementation.
 */
@Module({
  imports: [ControlModule],
  controllers: [GraphDoorController],
  providers: [
    GraphDoorService,
    {
      // Graph's pause (no body) is the guarded pause of DESIGN section 2c. Graph's restart carries no reason,
      // which the guarded restart requires, so it is not bound yet: the door refuses it as not served.
      provide: DOOR_JOB_CONTROL,
      inject: [JobControlService],
      useFactory: (control: JobControlService): DoorJobControl => ({
        pause: (call) => control.pause({ ...call, body: undefined }),
      }),
    },
  ],
})
export class GraphDoorModule {}
