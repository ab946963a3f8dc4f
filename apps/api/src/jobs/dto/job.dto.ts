import { ApiProperty } from '@nestjs/swagger';
import { OBSERVED_STATUSES } from '@app/common';
import { HoldDto } from '../../control/control.dto';

export class QuarantineErrorDto {
  @ApiProperty({ type: String, nullable: true }) code!: string | null;
  @ApiProperty({ type: String, nullable: true }) message!: string | null;
  @ApiProperty({ type: Boolean, nullable: true }) tenantActionable!: boolean | null;
}

export class QuarantineDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'e.g. EncounteredQuarantineException, TooManyDeletes, QuarantinedOnDemand',
  })
  reason!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true }) currentBegan!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextAttempt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) seriesBegan!: string | null;
  @ApiProperty({ type: Number, nullable: true }) seriesCount!: number | null;
  @ApiProperty({ type: () => QuarantineErrorDto, nullable: true }) error!: QuarantineErrorDto | null;
}

export class JobScheduleDto {
  @ApiProperty({ type: String, nullable: true, description: 'ISO 8601 duration' }) interval!: string | null;
  @ApiProperty({ type: String, nullable: true }) state!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiration!: string | null;
}

export class JobExecutionDto {
  @ApiProperty({ type: String, nullable: true }) state!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) timeBegan!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) timeEnded!: string | null;
  @ApiProperty({ type: String, nullable: true }) errorCode!: string | null;
}

export class QuarantineClockDto {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: "Graph's seriesBegan" })
  since!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "Graph's nextAttempt: when Entra ID retries on its own",
  })
  nextEntraRetry!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'seriesBegan + 28 days: when Entra ID disables a job still in quarantine',
  })
  autoDisableAt!: string | null;
}

/** A synchronization job's live status from Graph, normalised. */
export class JobDto {
  @ApiProperty({ description: 'Service principal (GUID) that owns the job' })
  servicePrincipalId!: string;

  @ApiProperty({ description: 'Job id, e.g. scim.e4bbf44533ea4eabb17027f3a92e92aa' })
  id!: string;

  @ApiProperty({ type: String, nullable: true }) templateId!: string | null;

  @ApiProperty({
    enum: OBSERVED_STATUSES,
    description: 'status.code compared case-insensitively; unknown for anything else',
  })
  observedStatus!: string;

  @ApiProperty({ type: String, nullable: true, description: 'status.code exactly as Graph wrote it' })
  rawStatusCode!: string | null;

  @ApiProperty({
    type: () => QuarantineDto,
    nullable: true,
    description: 'Set only when the job is in quarantine',
  })
  quarantine!: QuarantineDto | null;

  @ApiProperty({ type: () => JobScheduleDto, nullable: true }) schedule!: JobScheduleDto | null;
  @ApiProperty({ type: () => JobExecutionDto, nullable: true }) lastExecution!: JobExecutionDto | null;
  @ApiProperty({ type: Number, nullable: true }) countSuccessiveCompleteFailures!: number | null;
  @ApiProperty({ type: String, nullable: true }) troubleshootingUrl!: string | null;

  @ApiProperty({ type: Boolean, nullable: true, description: "Graph's status.escrowsPruned" })
  escrowsPruned!: boolean | null;

  @ApiProperty({ type: () => QuarantineClockDto }) quarantineClock!: QuarantineClockDto;

  @ApiProperty({
    description: 'Paused by Graph itself after pruning escrows (not by a person); recovery never starts it',
  })
  escrowPause!: boolean;

  @ApiProperty({ type: () => HoldDto, nullable: true, description: 'The hold that applies to the job now' })
  hold!: HoldDto | null;
}

export class JobListDto {
  @ApiProperty({ type: () => [JobDto] })
  items!: JobDto[];
}
