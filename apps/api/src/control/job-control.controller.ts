import { Controller, Post, Res } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../http/http';
import type { AttemptView } from '@app/common';
import { Roles } from '../auth/auth.guard';
import { ProblemDto } from '../http/problem.dto';
import { AttemptDto } from '../attempts/dto/attempt.dto';
import { OperationCall, OperationResponses, answerWithAttempt } from './control-http';
import { PauseRequestDto, RestartRequestDto } from './control.dto';
import { type ControlCall, JobControlService } from './job-control.service';

/** Guarded pause and restart (DESIGN 2c). Any authenticated caller reaches them; a missing role is a `denied` row. */
@ApiTags('jobs')
@ApiExtraModels(AttemptDto, ProblemDto)
@ApiParam({ name: 'jobId', type: String, description: 'Job id, ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' })
@ApiParam({ name: 'spId', type: String, description: 'Service principal object id (GUID)' })
@Controller({ path: 'servicePrincipals/:spId/synchronization/jobs', version: '1' })
export class JobControlController {
  constructor(private readonly control: JobControlService) {}

  @Post(':jobId/pause')
  @Roles()
  @ApiOperation({
    summary: 'The guarded pause',
    description:
      'Pauses the job in any status, recorded as an attempt (operation pause, outcome paused), one operation per job at a time. With `hold`, a hold is placed first, in the same step, so no start slips in before the pause. Needs JobControl.Start.',
  })
  @ApiBody({ type: PauseRequestDto, required: false })
  @OperationResponses('paused: Graph accepted the pause (or dry_run)')
  async pause(
    @OperationCall() call: ControlCall,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<AttemptView> {
    return answerWithAttempt(await this.control.pause(call), res);
  }

  @Post(':jobId/restart')
  @Roles()
  @ApiOperation({
    summary: 'The guarded restart',
    description:
      "Sends Graph's restart with the given reset scopes, under the same lease, limit, cool-down and holds as a start. Full, Watermark and ForceDeletion answer 202 awaiting_approval and wait for another Admin. Needs JobControl.Start.",
  })
  @ApiBody({ type: RestartRequestDto })
  @OperationResponses('restarted: Graph accepted the restart (or dry_run)')
  async restart(
    @OperationCall() call: ControlCall,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<AttemptView> {
    return answerWithAttempt(await this.control.restart(call), res);
  }
}
