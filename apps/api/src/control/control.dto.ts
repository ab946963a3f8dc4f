import { ApiProperty } from '@nestjs/swagger';
import { ACTOR_TYPES, OPERATIONS } from '@app/common';
import { APPROVAL_STATES } from '@app/persistence';
import { MAX_REASON_LENGTH } from '../jobs/start-request';
import { RESET_SCOPES } from './control-policy';

/** Swagger descriptions of DESIGN 2c: holds, pause, restart, approvals. Inputs are parsed strictly by hand. */

export class PersonDto {
  @ApiProperty({ description: "The token's oid" }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

export class HoldInputDto {
  @ApiProperty({ maxLength: MAX_REASON_LENGTH, description: 'Why the job must not be started (required)' })
  reason!: string;

  @ApiProperty({
    required: false,
    type: String,
    format: 'date-time',
    description: 'When the hold stops applying by itself; in the future. Absent: until released',
  })
  until?: string;
}

export class PlaceHoldDto extends HoldInputDto {
  @ApiProperty({ description: 'Service principal (GUID)' }) servicePrincipalId!: string;

  @ApiProperty({
    required: false,
    description: 'The job; absent: every job of the service principal. Graph must know it',
  })
  jobId?: string;
}

export class HoldDto {
  @ApiProperty({ format: 'uuid' }) holdId!: string;
  @ApiProperty() servicePrincipalId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: every job of the service principal' })
  jobId!: string | null;
  @ApiProperty() reason!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) until!: string | null;
  @ApiProperty({ format: 'date-time' }) placedAt!: string;
  @ApiProperty({ type: () => PersonDto }) placedBy!: PersonDto;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) releasedAt!: string | null;
  @ApiProperty({ type: () => PersonDto, nullable: true }) releasedBy!: PersonDto | null;
  @ApiProperty({ description: 'Applies now: not released and until not passed' }) active!: boolean;
}

export class HoldListDto {
  @ApiProperty({ type: () => [HoldDto] }) items!: HoldDto[];
}

export class PauseRequestDto {
  @ApiProperty({ required: false, maxLength: MAX_REASON_LENGTH }) reason?: string;

  @ApiProperty({
    required: false,
    type: () => HoldInputDto,
    description: 'Place a hold on the job in the same step, before the pause is sent',
  })
  hold?: HoldInputDto;
}

export class RestartRequestDto {
  @ApiProperty({
    isArray: true,
    enum: RESET_SCOPES,
    description:
      "Graph's reset scopes (ForceDeletion is sent as Graph's ForceDeletes). None and ConnectorDataStore are refused (Microsoft: do not use). Full, Watermark and ForceDeletion need another Admin's approval",
  })
  resetScope!: string[];

  @ApiProperty({ maxLength: MAX_REASON_LENGTH, description: 'Why (required)' }) reason!: string;

  @ApiProperty({ required: false, default: false }) dryRun?: boolean;
}

export class RequesterDto extends PersonDto {
  @ApiProperty({ enum: ACTOR_TYPES }) type!: string;
}

export class ApprovalDto {
  @ApiProperty({ format: 'uuid' }) approvalId!: string;
  @ApiProperty() servicePrincipalId!: string;
  @ApiProperty() jobId!: string;
  @ApiProperty({ enum: OPERATIONS }) operation!: string;
  @ApiProperty({ type: [String] }) resetScope!: string[];
  @ApiProperty({ type: String, nullable: true, description: "The requester's reason" }) reason!:
    string | null;
  @ApiProperty({ description: 'Why the operation needs a second person' }) why!: string;
  @ApiProperty({ enum: APPROVAL_STATES }) state!: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ format: 'date-time', description: 'requestedAt + APPROVAL_TTL_SECONDS' }) expiresAt!: string;
  @ApiProperty({ type: () => RequesterDto }) requestedBy!: RequesterDto;
  @ApiProperty({ format: 'uuid', description: 'The awaiting_approval attempt' }) requestAttemptId!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) decidedAt!: string | null;
  @ApiProperty({ type: () => PersonDto, nullable: true }) decidedBy!: PersonDto | null;
  @ApiProperty({ type: String, nullable: true }) decisionReason!: string | null;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The attempt that ran the approved operation',
  })
  attemptId!: string | null;
}

export class ApprovalListDto {
  @ApiProperty({ type: () => [ApprovalDto] }) items!: ApprovalDto[];
}

export class DecideApprovalDto {
  @ApiProperty({ required: false, maxLength: MAX_REASON_LENGTH }) reason?: string;
}
