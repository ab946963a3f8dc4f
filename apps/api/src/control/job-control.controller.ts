import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AttemptView } from '@app/common';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import type { Caller } from '../auth/roles';
import { requestIdOf } from '../http/problem';
import { ProblemDto } from '../http/problem.dto';
import { AttemptDto } from '../attempts/dto/attempt.dto';
import { OperationResponses, answerWithAttempt } from './control-http';
import { PauseRequestDto, RestartRequestDto } from './control.dto';
import { JobControlService } from './job-control.service';

/** Guarded pause and restart (DESIGN 2c). Any authenticated caller reaches them; a missing role is a `denied` row. */
@ApiTags('jobs')
@ApiExtraModels(AttemptDto, ProblemDto)
@ApiParam({ name: 'spId', description: 'Service principal object id (GUID)' })
@ApiParam({ name: 'jobId', description: 'Job id, ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' })
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
    @Param('spId') spId: string,
    @Param('jobId') jobId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AttemptView> {
    const decision = await this.control.pause({
      servicePrincipalId: spId,
      jobId,
      body,
      query: req.query,
      caller,
      requestId: requestIdOf(req),
    });
    return answerWithAttempt(decision, res);
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
    @Param('spId') spId: string,
    @Param('jobId') jobId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AttemptView> {
    const decision = await this.control.restart({
      servicePrincipalId: spId,
      jobId,
      body,
      query: req.query,
      caller,
      requestId: requestIdOf(req),
    });
    return answerWithAttempt(decision, res);
  }
}
