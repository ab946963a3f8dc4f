import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  NOTIFICATION_DELIVERY_STATES,
  NOTIFICATION_DESTINATION_KINDS,
  NOTIFICATION_EVENT_TYPES,
} from '@app/common';

export class CreateDestinationDto {
  @ApiProperty({
    enum: NOTIFICATION_DESTINATION_KINDS,
    description:
      'webhook: CloudEvents 1.0 JSON signed per Standard Webhooks; teams: a Teams Workflows webhook (Adaptive Card); slack: an incoming webhook',
  })
  kind!: string;

  @ApiPropertyOptional({ maxLength: 200 })
  name?: string;

  @ApiProperty({
    maxLength: 2048,
    description:
      'Where to POST (https; http only outside production). Write-only: listed without its secret parts',
  })
  url!: string;

  @ApiPropertyOptional({
    description:
      'webhook only, required there: a Standard Webhooks secret (whsec_…). Write-only: never returned',
  })
  secret?: string;

  @ApiPropertyOptional({
    enum: NOTIFICATION_EVENT_TYPES,
    isArray: true,
    description: 'Only these event types (absent or empty: every event)',
  })
  eventTypes?: string[];

  @ApiPropertyOptional({
    type: [String],
    description: 'Only events of these service principals (GUIDs; absent or empty: every one)',
  })
  servicePrincipalIds?: string[];
}

export class DestinationDto {
  @ApiProperty({ format: 'uuid' }) destinationId!: string;
  @ApiProperty({ enum: NOTIFICATION_DESTINATION_KINDS }) kind!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({
    description:
      'The URL without its secret parts: origin and path of a webhook, origin only for teams and slack',
  })
  url!: string;
  @ApiProperty({ description: 'Whether a signing secret is set (the secret itself is never returned)' })
  hasSecret!: boolean;
  @ApiProperty({ enum: NOTIFICATION_EVENT_TYPES, isArray: true, description: 'Empty: every event' })
  eventTypes!: string[];
  @ApiProperty({ type: [String], description: 'Empty: every service principal' })
  servicePrincipalIds!: string[];
  @ApiProperty({ description: 'Configured by NOTIFY_WEBHOOK_URL (re-created at boot while it is set)' })
  managed!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty() createdBy!: string;
}

export class DestinationListDto {
  @ApiProperty({ type: () => [DestinationDto], description: 'Oldest first' })
  items!: DestinationDto[];
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid' }) deliveryId!: string;
  @ApiProperty({ format: 'uuid', description: 'The CloudEvents id (and webhook-id): the idempotency key' })
  eventId!: string;
  @ApiProperty({ enum: NOTIFICATION_EVENT_TYPES }) eventType!: string;
  @ApiProperty({ format: 'date-time', description: 'When the change it reports was committed' })
  eventTime!: string;
  @ApiProperty({ type: String, nullable: true }) servicePrincipalId!: string | null;
  @ApiProperty({ type: String, nullable: true }) jobId!: string | null;
  @ApiProperty({ format: 'uuid' }) destinationId!: string;
  @ApiProperty({ enum: NOTIFICATION_DESTINATION_KINDS }) destinationKind!: string;
  @ApiProperty({
    enum: NOTIFICATION_DELIVERY_STATES,
    description: 'pending (being tried), delivered, dead (every retry failed; redeliverable)',
  })
  state!: string;
  @ApiProperty({ description: 'Tries so far (reset by a redelivery)' }) attempts!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Next try (pending only)' })
  nextAttemptAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastAttemptAt!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: "The receiver's last HTTP status" })
  lastStatus!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last try failed' })
  lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deadAt!: string | null;
}

export class DeliveryListDto {
  @ApiProperty({ type: () => [DeliveryDto], description: 'Newest first' })
  items!: DeliveryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor!: string | null;
}
