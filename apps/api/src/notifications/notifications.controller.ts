import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  Inject,
  Logger,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
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
import { Clock } from '@app/common';
import { type DeliveryView, type DestinationView, NotificationRepository } from '@app/persistence';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { ProblemDto } from '../http/problem.dto';
import {
  DEFAULT_DELIVERIES_LIMIT,
  MAX_DELIVERIES_LIMIT,
  encodeCursor,
  parseDeliveriesQuery,
  parseDestinationBody,
  parseId,
} from './notification-request';
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
@ApiUnauthorizedResponse({ type: ProblemDto, description: 'No or bad bearer token' })
@ApiForbiddenResponse({ type: ProblemDto, description: 'The token lacks the role' })
@ApiServiceUnavailableResponse({ type: ProblemDto, description: 'The database is unavailable' })
@Controller({ path: 'notifications', version: '1' })
export class NotificationsController {
  private readonly logger = new Logger('notifications');

  constructor(
    private readonly repo: NotificationRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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
  async create(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<DestinationView> {
    const parsed = parseDestinationBody(body, this.config.production);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    return this.db('creating a notification destination', () =>
      this.repo.createDestination({ ...parsed.value, createdBy: caller.actor.id }),
    );
  }

  @Get('destinations')
  @OwnQueryCheck()
  @Roles(Role.Admin)
  @ApiOperation({ summary: 'List notification destinations (without secrets)' })
  @ApiOkResponse({ type: DestinationListDto })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'An unknown query parameter' })
  async list(@Query() query: Record<string, unknown>): Promise<{ items: DestinationView[] }> {
    const extra = Object.keys(query);
    if (extra.length > 0) {
      throw new HttpException(`unknown query parameter ${extra[0] ?? ''}`, 400);
    }
    return { items: await this.db('listing notification destinations', () => this.repo.listDestinations()) };
  }

  @Delete('destinations/:destinationId')
  @Roles(Role.Admin)
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a notification destination and its deliveries' })
  @ApiParam({ name: 'destinationId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiBadRequestResponse({ type: ProblemDto, description: 'destinationId is not a UUID' })
  @ApiNotFoundResponse({ type: ProblemDto, description: 'No destination with this id' })
  async remove(@Param('destinationId') destinationId: string): Promise<void> {
    const id = parseId(destinationId, 'destinationId');
    if (!id.ok) {
      throw new HttpException(id.message, 400);
    }
    const removed = await this.db('removing a notification destination', () =>
      this.repo.deleteDestination(id.value),
    );
    if (removed === null) {
      throw new HttpException(`No destination ${id.value}`, 404);
    }
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
  async deliveries(
    @Query() query: Record<string, unknown>,
  ): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    const parsed = parseDeliveriesQuery(query);
    if (!parsed.ok) {
      throw new HttpException(parsed.message, 400);
    }
    const q = parsed.value;
    const items = await this.db('listing notification deliveries', () =>
      this.repo.listDeliveries({ ...q, limit: q.limit + 1 }),
    );
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    const nextCursor =
      items.length > q.limit && last !== undefined
        ? encodeCursor({ at: new Date(last.createdAt), id: last.deliveryId })
        : null;
    return { items: page, nextCursor };
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
  async redeliver(@Param('deliveryId') deliveryId: string): Promise<DeliveryView> {
    const id = parseId(deliveryId, 'deliveryId');
    if (!id.ok) {
      throw new HttpException(id.message, 400);
    }
    const result = await this.db('redelivering a notification', () =>
      this.repo.redeliver(id.value, this.clock.now()),
    );
    if (result === null) {
      throw new HttpException(`No delivery ${id.value}`, 404);
    }
    if (result === 'pending') {
      throw new HttpException(`Delivery ${id.value} is still pending; it is being tried`, 409);
    }
    return result;
  }
}
