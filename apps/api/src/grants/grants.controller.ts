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
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { type AdminEventInput, type GrantEventView, GrantRepository, type GrantView } from '@app/persistence';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { ProblemDto } from '../http/problem.dto';
import {
  DEFAULT_EVENTS_LIMIT,
  MAX_EVENTS_LIMIT,
  parseEventsQuery,
  parseGrantBody,
  parseGrantId,
  parseGrantQuery,
} from './grant-request';
import { CreateGrantDto, GrantDto, GrantEventListDto, GrantListDto } from './grants.dto';
import { OwnQueryCheck } from '../http/strict-query';

function event(caller: Caller, action: string, details: AdminEventInput['details']): AdminEventInput {
  return { actorId: caller.actor.id, actorName: caller.actor.name, action, subjectId: '', details };
}

/**
 * Grants narrow a caller (`principalId`, the token's oid) to named service principals (DESIGN section 2). The
 * guard enforces them in its claim statement; every change is an admin event.
 */
@ApiTags('grants')
@ApiUnauthorizedResponse({ type: ProblemDto, description: 'No or bad bearer token' })
@ApiForbiddenResponse({ type: ProblemDto, description: 'The token lacks the JobControl.Admin role' })
@ApiServiceUnavailableResponse({ type: ProblemDto, description: 'The database is unavailable' })
@Controller({ path: 'grants', version: '1' })
export class GrantsController {
  private readonly logger = new Logger('grants');

  constructor(private readonly repo: GrantRepository) {}

  /** Database failures fail closed: 503 in the problem shape, the cause only in the log. */
  private async db<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.logger.warn(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new HttpException('The database is unavailable; try again later', 503);
    }
  }

  @Post()
  @Roles(Role.Admin)
  @ApiOperation({
    summary: 'Narrow a caller to a service principal',
    description:
      'A caller with at least one grant may act only on the service principals it is granted. With REQUIRE_GRANTS=true a caller without a grant for the service principal is refused. Answers 201 with the new grant, or 200 with the existing one.',
  })
  @ApiBody({ type: CreateGrantDto })
  @ApiCreatedResponse({ type: GrantDto, description: 'Grant created' })
  @ApiOkResponse({ type: GrantDto, description: 'The grant already existed' })
  @ApiBadRequestResponse({
    type: ProblemDto,
    description: 'Not a JSON object, an unknown property, or an id that is not a GUID',
  })
  async create(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) res: Response,
  ): Promise<GrantView> {
    const parsed = parseGrantBody(body);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    const { principalId, servicePrincipalId } = parsed.value;
    const result = await this.db('creating a grant', async () => {
      try {
        return await this.repo.create(
          principalId,
          servicePrincipalId,
          event(caller, 'grant.create', { principalId, servicePrincipalId }),
        );
      } catch (error) {
        // Two admins creating the same grant at once: the loser sees the winner's grant.
        const [existing] = await this.repo.list({ principalId, servicePrincipalId });
        if (existing) {
          return { grant: existing, created: false };
        }
        throw error;
      }
    });
    res.status(result.created ? 201 : 200);
    return result.grant;
  }

  @Get()
  @OwnQueryCheck()
  @Roles(Role.Admin)
  @ApiOperation({ summary: 'List grants, newest first' })
  @ApiQuery({ name: 'principalId', required: false, description: 'Only grants of this caller (GUID)' })
  @ApiQuery({
    name: 'servicePrincipalId',
    required: false,
    description: 'Only grants for this service principal (GUID)',
  })
  @ApiOkResponse({ type: GrantListDto })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'An unknown query parameter or a malformed GUID' })
  async list(@Query() query: Record<string, unknown>): Promise<{ items: GrantView[] }> {
    const parsed = parseGrantQuery(query);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    const items = await this.db('listing grants', () => this.repo.list(parsed.value));
    return { items };
  }

  @Get('events')
  @OwnQueryCheck()
  @Roles(Role.Admin)
  @ApiOperation({ summary: 'Grant changes (created, removed): who, when, what; newest first' })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `1-${MAX_EVENTS_LIMIT} (default ${DEFAULT_EVENTS_LIMIT})`,
  })
  @ApiOkResponse({ type: GrantEventListDto })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'An unknown query parameter or a bad limit' })
  async events(@Query() query: Record<string, unknown>): Promise<{ items: GrantEventView[] }> {
    const parsed = parseEventsQuery(query);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    const items = await this.db('listing grant events', () => this.repo.events(parsed.value.limit));
    return { items };
  }

  @Delete(':grantId')
  @Roles(Role.Admin)
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a grant' })
  @ApiParam({ name: 'grantId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'grantId is not a UUID' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'No grant with this id' })
  async remove(@Param('grantId') grantId: string, @CurrentCaller() caller: Caller): Promise<void> {
    const id = parseGrantId(grantId);
    if (!id.ok) {
      throw new HttpException(id.message, 400);
    }
    const removed = await this.db('removing a grant', () =>
      this.repo.delete(id.value, event(caller, 'grant.delete', {})),
    );
    if (!removed) {
      throw new HttpException(`No grant ${id.value}`, 404);
    }
  }
}
