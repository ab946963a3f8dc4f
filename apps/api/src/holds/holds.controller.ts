import { Body, Controller, Delete, Get, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpRequest } from '../http/http';
import type { HoldView } from '@app/persistence';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { requestIdOf } from '../http/problem';
import { ProblemDto, ProblemResponses } from '../http/problem.dto';
import { HoldDto, HoldListDto, PlaceHoldDto } from '../control/control.dto';
import { HoldsService } from './holds.service';
import { OwnQueryCheck } from '../http/strict-query';

/** Holds (DESIGN 2c): while active, every start and restart of the job is refused with outcome `held`. */
@ApiTags('holds')
@ProblemResponses(null)
@Controller({ path: 'holds', version: '1' })
export class HoldsController {
  constructor(private readonly holds: HoldsService) {}

  @Post()
  @Roles(Role.Start)
  @ApiOperation({
    summary: 'Hold a job, or every job of a service principal',
    description:
      'While the hold is active (not released, until not passed), every start and restart — API, Graph-compatible door, recovery, approvals — is refused with outcome held (423). Graph must know the job (or the service principal). Recorded as admin event hold.placed.',
  })
  @ApiBody({ type: PlaceHoldDto })
  @ApiCreatedResponse({ type: HoldDto })
  @ApiResponse({ status: 400, type: ProblemDto, description: 'INVALID_INPUT, or HOLD_UNTIL_IN_PAST' })
  @ApiResponse({ status: 403, type: ProblemDto, description: 'The token lacks JobControl.Start' })
  @ApiResponse({ status: 404, type: ProblemDto, description: 'JOB_NOT_FOUND: Graph has no such job' })
  place(@Body() body: unknown, @CurrentCaller() caller: Caller, @Req() req: HttpRequest): Promise<HoldView> {
    return this.holds.place(body, caller, requestIdOf(req));
  }

  @OwnQueryCheck()
  @Get()
  @Roles(Role.Read)
  @ApiOperation({ summary: 'Holds, newest first (active ones by default)' })
  @ApiQuery({ name: 'servicePrincipalId', required: false })
  @ApiQuery({
    name: 'jobId',
    required: false,
    description: 'holds on the job or on its whole service principal',
  })
  @ApiQuery({ name: 'state', required: false, enum: ['active', 'all'] })
  @ApiOkResponse({ type: HoldListDto })
  @ApiResponse({ status: 400, type: ProblemDto, description: 'INVALID_INPUT' })
  @ApiResponse({ status: 403, type: ProblemDto, description: 'The token lacks JobControl.Read' })
  list(@Query() query: Record<string, unknown>): Promise<{ items: HoldView[] }> {
    return this.holds.list(query);
  }

  @Delete(':holdId')
  @Roles(Role.Start)
  @ApiOperation({
    summary: 'Release a hold',
    description:
      'By a JobControl.Admin, or by the person who placed it. Recorded as admin event hold.released.',
  })
  @ApiParam({ name: 'holdId', format: 'uuid' })
  @ApiOkResponse({ type: HoldDto })
  @ApiResponse({ status: 403, type: ProblemDto, description: 'HOLD_NOT_YOURS: neither Admin nor the placer' })
  @ApiResponse({ status: 404, type: ProblemDto, description: 'HOLD_NOT_FOUND' })
  @ApiResponse({ status: 409, type: ProblemDto, description: 'HOLD_ALREADY_RELEASED' })
  release(@Param('holdId') holdId: string, @CurrentCaller() caller: Caller): Promise<HoldView> {
    return this.holds.release(holdId, caller);
  }
}
