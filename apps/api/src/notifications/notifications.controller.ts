import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { DeliveryView, DestinationView } from '@app/persistence';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { ProblemDto, ProblemResponses } from '../http/problem.dto';
import { DEFAULT_DELIVERIES_LIMIT, MAX_DELIVERIES_LIMIT } from './notification-request';
import { NotificationsService } from './notifications.service';
import {
  CreateDestinationDto,
  DeliveryDto,
  DeliveryListDto,
  DestinationDto,
  DestinationListDto,
} from './notifications.dto';
import { OwnQueryCheck } from '../http/strict-query';

/**
 * Notification destinations and deliveries (DESIGN section 2d). Destinations are Admin-only and their secrets
 * write-only; deliveries show what was sent where, and a dead-lettered one can be sent again.
 */
@ApiTags('notifications')
@ProblemResponses('The token lacks the role (FORBIDDEN)')
@Controller({ path: 'notifications', version: '1' })
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Post('destinations')
  @Roles(Role.Admin)
  @ApiOperation({
    summary: 'Add a notification destination',
    description:
      'Every event that matches the filters is delivered to it from now on, at least once, in order per job. The secret (and the secret parts of the URL) are never returned.',
  })
  @ApiBody({ type: CreateDestinationDto })
  @ApiCreatedResponse({ type: DestinationDto })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'An unknown property or a bad value (named)' })
  create(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<DestinationView> {
    return this.notifications.createDestination(body, caller);
  }

  @Get('destinations')
  @OwnQueryCheck()
  @Roles(Role.Admin)
  @ApiOperation({ summary: 'List notification destinations (without secrets)' })
  @ApiOkResponse({ type: DestinationListDto })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'An unknown query parameter' })
  async list(@Query() query: Record<string, unknown>): Promise<{ items: DestinationView[] }> {
    return { items: await this.notifications.listDestinations(query) };
  }

  @Delete('destinations/:destinationId')
  @Roles(Role.Admin)
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a notification destination and its deliveries' })
  @ApiParam({ name: 'destinationId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'destinationId is not a UUID' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'No destination with this id' })
  remove(@Param('destinationId') destinationId: string): Promise<void> {
    return this.notifications.removeDestination(destinationId);
  }

  @Get('deliveries')
  @OwnQueryCheck()
  @Roles(Role.Read)
  @ApiOperation({ summary: 'Notification deliveries, newest first: state, tries, last status and error' })
  @ApiQuery({ name: 'state', required: false, enum: ['pending', 'delivered', 'dead'] })
  @ApiQuery({ name: 'destinationId', required: false })
  @ApiQuery({ name: 'eventType', required: false })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `1-${MAX_DELIVERIES_LIMIT} (default ${DEFAULT_DELIVERIES_LIMIT})`,
  })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiOkResponse({ type: DeliveryListDto })
  @ApiBadRequestResponse({
    type: ProblemDto,
    description: 'An unknown query parameter or a bad value (named)',
  })
  deliveries(
    @Query() query: Record<string, unknown>,
  ): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    return this.notifications.deliveries(query);
  }

  @Post('deliveries/:deliveryId/redeliver')
  @Roles(Role.Admin)
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a delivered or dead-lettered notification again',
    description:
      'The delivery is due at once with a fresh retry schedule, under the same event id (receivers deduplicate on it).',
  })
  @ApiParam({ name: 'deliveryId', format: 'uuid' })
  @ApiAcceptedResponse({ type: DeliveryDto, description: 'Queued again' })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'deliveryId is not a UUID' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'No delivery with this id' })
  @ApiConflictResponse({ type: ProblemDto, description: 'The delivery is still pending (being tried)' })
  redeliver(@Param('deliveryId') deliveryId: string): Promise<DeliveryView> {
    return this.notifications.redeliver(deliveryId);
  }
}
