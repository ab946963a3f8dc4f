import { HoldDto } from '../control/control.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RECOVERY_STATES, type RecoveryState } from '@app/common';
import type { RecoverySweepView, RecoveryWatchView } from '@app/persistence';

/**
 * OpenAPI shapes of the recovery API. Input is validated strictly by recovery-query.ts (unknown properties and
 * query parameters → 400 naming the field); these classes describe it for /docs.
 */
export class CreateWatchDto {
  @ApiProperty({ description: 'Object id (GUID) of the service principal', format: 'uuid' })
  servicePrincipalId!: string;

  @ApiPropertyOptional({
    description: 'Synchronization job id; required unless allJobs is true',
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$',
    example: 'scim.e4bbf44533ea4eabb17027f3a92e92aa',
  })
  jobId?: string;

  @ApiPropertyOptional({
    description:
      'Watch every job the service principal has now (listed from Graph); jobId must then be absent',
  })
  allJobs?: boolean;
}

export class RecoveryWatchDto implements RecoveryWatchView {
  @ApiProperty({ format: 'uuid' }) watchId!: string;
  @ApiProperty({ format: 'uuid' }) servicePrincipalId!: string;
  @ApiProperty() jobId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'Object id of the admin who created the watch' }) createdBy!: string;
  @ApiProperty({
    enum: RECOVERY_STATES,
    description:
      'ok: nothing to do; recovering: a start was sent, the next sweep checks it held; backing_off: failed recoveries, next try at nextTryAt; needs_attention: a person must act; held: a hold keeps recovery from starting it (not a failure)',
  })
  state!: RecoveryState;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'observedStatus at the last sweep that read the job',
  })
  lastSeenStatus!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastQuarantineReason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSeenAt!: string | null;
  @ApiProperty({ description: 'Failed recoveries in a row (relapses included)' }) failedAttempts!: number;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Not read again before this time; null: at the next sweep',
  })
  nextTryAt!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The last recovery attempt row' })
  lastAttemptId!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastMessage!: string | null;
  @ApiProperty({
    type: () => HoldDto,
    nullable: true,
    description: 'The hold that applies to the job now (listing only); recovery shows it as held',
  })
  hold?: HoldDto | null;
}

export class RecoveryWatchPageDto {
  @ApiProperty({ type: [RecoveryWatchDto] }) items!: RecoveryWatchDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null at the end',
  })
  nextCursor!: string | null;
}

export class RecoveryWatchBulkDto {
  @ApiProperty({ type: [RecoveryWatchDto] }) items!: RecoveryWatchDto[];
  @ApiProperty({ description: 'How many of the items were created by this request' }) created!: number;
}

export class RecoverySweepDto implements RecoverySweepView {
  @ApiProperty({ format: 'uuid' }) sweepId!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ description: 'Replica id of the leader that ran the sweep' }) leader!: string;
  @ApiProperty() jobsRead!: number;
  @ApiProperty() started!: number;
  @ApiProperty({ description: 'Guarded decisions that did not start (skipped, or waiting for the limit)' })
  skipped!: number;
  @ApiProperty({ description: 'Quarantined jobs left for a person' }) needsAttention!: number;
  @ApiProperty({ description: 'Read errors and failed recoveries' }) errors!: number;
  @ApiProperty({ description: 'HTTP requests sent to Graph' }) graphRequests!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why the sweep stopped early, when it did' })
  message!: string | null;
}

export class RecoverySweepPageDto {
  @ApiProperty({ type: [RecoverySweepDto] }) items!: RecoverySweepDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
