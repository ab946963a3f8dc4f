import { Module } from '@nestjs/common';
import { GraphDoorController } from './graph-door.controller';
import { GraphDoorService } from './graph-door.service';

/**
 * The Graph-compatible door (DESIGN section 2b) under /v1.0 and /beta. A second HTTP shape over the same
 * services as /v1 (JobsService and its guard, the GraphClient); no second implementation of any rule.
 * Guarded pause and restart plug in by binding DOOR_JOB_CONTROL (see graph-door.service.ts).
 */
@Module({
  controllers: [GraphDoorController],
  providers: [GraphDoorService],
})
export class GraphDoorModule {}
