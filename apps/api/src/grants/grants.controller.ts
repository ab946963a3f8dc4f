import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpReply } from '../http/http';
import type { GrantEventView, GrantView } from '@app/persistence';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { ProblemDto, ProblemResponses } from '../http/problem.dto';
import { DEFAULT_EVENTS_LIMIT, MAX_EVENTS_LIMIT } from './grant-request';
import { GrantsService } from './grants.service';
import { CreateGrantDto, GrantDto, GrantEventListDto, GrantListDto } from './grants.dto';
import { OwnQueryCheck } from '../http/strict-query';

/**
 * Grants narrow a caller (`principalId`, the token's oid) to named service principals (DESIGN section 2). The
 * guard enforces them in its claim statement; every change is an admin event.
 */
@ApiTags('grants')
@ProblemResponses('The token lacks the JobControl.Admin role (FORBIDDEN)')
@Controller({ path: 'grants', version: '1' })
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

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
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<GrantView> {
    const { grant, created } = await this.grants.create(body, caller);
    void res.status(created ? 201 : 200);
    return grant;
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
    return { items: await this.grants.list(query) };
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
    return { items: await this.grants.events(query) };
  }

  @Delete(':grantId')
  @Roles(Role.Admin)
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a grant' })
  @ApiParam({ name: 'grantId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'grantId is not a UUID' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'No grant with this id' })
  remove(@Param('grantId') grantId: string, @CurrentCaller() caller: Caller): Promise<void> {
    return this.grants.remove(grantId, caller);
  }
}
