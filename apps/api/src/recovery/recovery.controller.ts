import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  Logger,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiAcceptedResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { GraphClient, GraphError } from '@app/graph';
import { HoldRepository, RecoveryRepository, holdApplying } from '@app/persistence';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { graphFailure } from '../jobs/guard-policy';
import { httpStatusForOutcome } from '../http/outcome-status';
import { requestIdOf } from '../http/problem';
import { ProblemDto } from '../http/problem.dto';
import { RecoveryService } from './recovery.service';
import {
  CreateWatchDto,
  RecoverySweepDto,
  RecoverySweepPageDto,
  RecoveryWatchBulkDto,
  RecoveryWatchDto,
  RecoveryWatchPageDto,
} from './recovery.dto';
import {
  MAX_LIMIT,
  encodeCursor,
  isUuid,
  parseSweepListQuery,
  parseWatchBody,
  parseWatchListQuery,
} from './recovery-query';
import { OwnQueryCheck } from '../http/strict-query';

/** The watch list and the sweep history of scheduled recovery (DESIGN sections 2 and 3a). */
@ApiTags('recovery')
@ApiBadRequestResponse({ type: ProblemDto, description: 'Malformed input; the message names the field' })
@ApiForbiddenResponse({ type: ProblemDto, description: 'The token lacks the role' })
@ApiServiceUnavailableResponse({ type: ProblemDto, description: 'The database is unavailable' })
@Controller({ path: 'recovery', version: '1' })
export class RecoveryController {
  private readonly logger = new Logger(RecoveryController.name);

  constructor(
    private readonly repo: RecoveryRepository,
    private readonly graph: GraphClient,
    private readonly recovery: RecoveryService,
    private readonly holds: HoldRepository,
  ) {}

  /** Database failures fail closed: 503 in the problem shape, the cause only in the log. */
  private async db<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.logger.warn(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new HttpException('The database is unavailable; try again later', 503);
    }
  }

  /** A Graph read for a watch: its failure answers as the guard's outcome would (404 not_found, 429, 502…). */
  private async fromGraph<T>(res: Response, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof GraphError)) {
        throw error;
      }
      const f = graphFailure(error, 'read');
      if (f.retryAfterSeconds !== null) {
        res.setHeader('Retry-After', String(f.retryAfterSeconds));
      }
      throw new HttpException(f.message, httpStatusForOutcome(f.outcome, f.upstreamStatus));
    }
  }

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
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RecoveryWatchDto | RecoveryWatchBulkDto> {
    const parsed = parseWatchBody(body);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    const request = parsed.value;
    const event = { actorId: caller.actor.id, actorName: caller.actor.name, action: 'watch.create' };
    const ctx = { clientRequestId: requestIdOf(req) ?? undefined };
    if (request.kind === 'one') {
      // Only a job Graph has can be watched: an unknown one is refused now (404), not flagged by a later sweep.
      await this.fromGraph(res, () =>
        this.graph.getJob({ servicePrincipalId: request.servicePrincipalId, jobId: request.jobId }, ctx),
      );
      const { watches, created } = await this.db('creating a watch', () =>
        this.repo.createWatches(request.servicePrincipalId, [request.jobId], event),
      );
      const watch = watches[0];
      if (!watch) {
        throw new HttpException('The watch could not be created', 503);
      }
      // DESIGN allows "200 or 409" when the job is already watched: we answer 200 with the existing watch, so
      // creating a watch is idempotent for scripts that re-apply their configuration.
      res.status(created.has(watch.watchId) ? 201 : 200);
      return watch;
    }
    const listed = await this.fromGraph(res, () => this.graph.listJobs(request.servicePrincipalId, ctx));
    const jobIds = listed.value.map((j) => j.id);
    const { watches, created } = await this.db('creating watches', () =>
      this.repo.createWatches(request.servicePrincipalId, jobIds, event),
    );
    res.status(created.size > 0 ? 201 : 200);
    return { items: watches, created: created.size };
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
  async list(@Query() query: Record<string, unknown>): Promise<RecoveryWatchPageDto> {
    const parsed = parseWatchListQuery(query);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    const q = parsed.value;
    const rows = await this.db('listing watches', () =>
      this.repo.listWatches({
        ...(q.servicePrincipalId !== undefined ? { servicePrincipalId: q.servicePrincipalId } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        after: q.cursor,
        limit: q.limit + 1,
      }),
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    // Job control (DESIGN 2c): whether a hold applies to each watched job now.
    const holds = await this.db('reading holds', () =>
      this.holds.activeFor([...new Set(page.map((w) => w.servicePrincipalId))]),
    );
    const items = page.map((w) => ({ ...w, hold: holdApplying(holds, w.servicePrincipalId, w.jobId) }));
    return {
      items,
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.watchId) : null,
    };
  }

  @Delete('watches/:watchId')
  @Roles(Role.Admin)
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop watching a job' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'No such watch' })
  async remove(@Param('watchId') watchId: string, @CurrentCaller() caller: Caller): Promise<void> {
    if (!isUuid(watchId)) {
      throw new HttpException('watchId must be a UUID', 400);
    }
    const deleted = await this.db('deleting a watch', () =>
      this.repo.deleteWatch(watchId, {
        actorId: caller.actor.id,
        actorName: caller.actor.name,
        action: 'watch.delete',
      }),
    );
    if (!deleted) {
      throw new HttpException(`No watch ${watchId}`, 404);
    }
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
  async sweeps(@Query() query: Record<string, unknown>): Promise<RecoverySweepPageDto> {
    const parsed = parseSweepListQuery(query);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    const q = parsed.value;
    const rows = await this.db('listing sweeps', () =>
      this.repo.listSweeps({ before: q.cursor, limit: q.limit + 1 }),
    );
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.startedAt, last.sweepId) : null,
    };
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
  async sweepNow(@Res({ passthrough: true }) res: Response): Promise<RecoverySweepDto> {
    const result = await this.recovery.sweepNow();
    switch (result.status) {
      case 'swept':
        return result.sweep;
      case 'not_leader':
        res.setHeader('Retry-After', String(this.recovery.leaseSeconds));
        throw new HttpException(
          'Another replica leads recovery and sweeps at its next tick; send the request again to have the leader run it now',
          409,
        );
      case 'disabled':
        throw new HttpException('Scheduled recovery is disabled (RECOVERY_ENABLED=false)', 409);
      default:
        throw new HttpException(
          'The sweep could not run (database unavailable or shutting down); try again later',
          503,
        );
    }
  }
}
