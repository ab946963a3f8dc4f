import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiAcceptedResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../http/http';
import { DomainError, ErrorCode } from '@app/common';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { requestIdOf } from '../http/problem';
import { ProblemDto, ProblemResponses } from '../http/problem.dto';
import { RecoveryService } from './recovery.service';
import { RecoveryWatchService } from './recovery-watch.service';
import {
  CreateWatchDto,
  RecoverySweepDto,
  RecoverySweepPageDto,
  RecoveryWatchBulkDto,
  RecoveryWatchDto,
  RecoveryWatchPageDto,
} from './recovery.dto';
import { MAX_LIMIT } from './recovery-query';
import { OwnQueryCheck } from '../http/strict-query';

/** The watch list and the sweep history of scheduled recovery (DESIGN sections 2 and 3a). */
@ApiTags('recovery')
@ApiBadRequestResponse({ type: ProblemDto, description: 'Malformed input; the message names the field' })
@ProblemResponses('The token lacks the role (FORBIDDEN)')
@Controller({ path: 'recovery', version: '1' })
export class RecoveryController {
  constructor(
    private readonly watches: RecoveryWatchService,
    private readonly recovery: RecoveryService,
  ) {}

  @Post('watches')
  @Roles(Role.Admin)
  @ApiOperation({
    summary: 'Watch a job (or every job of a service principal) for scheduled recovery',
    description:
      'Answers 201 with the new watch, or 200 with the existing one when the job is already watched. With allJobs: true, the jobs are listed from Graph and { items, created } is returned.',
  })
  @ApiBody({ type: CreateWatchDto })
  @ApiCreatedResponse({ type: RecoveryWatchDto, description: 'Watch created' })
  @ApiOkResponse({ type: RecoveryWatchDto, description: 'Already watched: the existing watch' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'Graph has no such job or service principal' })
  async create(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Req() req: HttpRequest,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<RecoveryWatchDto | RecoveryWatchBulkDto> {
    const result = await this.watches.create(body, caller, requestIdOf(req));
    // DESIGN allows "200 or 409" when the job is already watched: we answer 200 with the existing watch, so
    // creating a watch is idempotent for scripts that re-apply their configuration.
    if (result.kind === 'one') {
      void res.status(result.created ? 201 : 200);
      return result.watch;
    }
    void res.status(result.created > 0 ? 201 : 200);
    return { items: result.items, created: result.created };
  }

  @Get('watches')
  @OwnQueryCheck()
  @Roles(Role.Read)
  @ApiOperation({
    summary: 'The watch list, oldest first, with each job’s last seen status and recovery state',
  })
  @ApiQuery({ name: 'limit', required: false, description: `1–${MAX_LIMIT}, default 50` })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiQuery({ name: 'servicePrincipalId', required: false })
  @ApiQuery({
    name: 'state',
    required: false,
    enum: ['ok', 'recovering', 'backing_off', 'needs_attention', 'held'],
  })
  @ApiOkResponse({ type: RecoveryWatchPageDto })
  list(@Query() query: Record<string, unknown>): Promise<RecoveryWatchPageDto> {
    return this.watches.list(query);
  }

  @Delete('watches/:watchId')
  @Roles(Role.Admin)
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop watching a job' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'No such watch' })
  remove(@Param('watchId') watchId: string, @CurrentCaller() caller: Caller): Promise<void> {
    return this.watches.remove(watchId, caller);
  }

  @Get('sweeps')
  @OwnQueryCheck()
  @Roles(Role.Read)
  @ApiOperation({
    summary: 'Sweep history, newest first: when, which replica led, jobs read, started, left for a person',
  })
  @ApiQuery({ name: 'limit', required: false, description: `1–${MAX_LIMIT}, default 50` })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiOkResponse({ type: RecoverySweepPageDto })
  sweeps(@Query() query: Record<string, unknown>): Promise<RecoverySweepPageDto> {
    return this.watches.sweeps(query);
  }

  @Post('sweeps')
  @Roles(Role.Admin)
  @HttpCode(202)
  @ApiOperation({
    summary: 'Sweep now: led by the current leader, never two at once',
    description:
      'Runs a sweep on this replica when it holds or wins the leader lease (joining the sweep already running here, if any) and answers 202 with it. 409 when another replica leads (it sweeps at its next tick) or when RECOVERY_ENABLED=false.',
  })
  @ApiAcceptedResponse({ type: RecoverySweepDto, description: 'The sweep, finished' })
  @ApiConflictResponse({ type: ProblemDto, description: 'Another replica leads, or recovery is disabled' })
  async sweepNow(): Promise<RecoverySweepDto> {
    const result = await this.recovery.sweepNow();
    switch (result.status) {
      case 'swept':
        return result.sweep;
      case 'not_leader':
        throw new DomainError(
          ErrorCode.NOT_RECOVERY_LEADER,
          'Another replica leads recovery and sweeps at its next tick; send the request again to have the leader run it now',
          { details: { retryAfterSeconds: this.recovery.leaseSeconds } },
        );
      case 'disabled':
        throw new DomainError(
          ErrorCode.RECOVERY_DISABLED,
          'Scheduled recovery is disabled (RECOVERY_ENABLED=false)',
        );
      default:
        throw new DomainError(
          ErrorCode.SERVICE_UNAVAILABLE,
          'The sweep could not run (database unavailable or shutting down); try again later',
        );
    }
  }
}
