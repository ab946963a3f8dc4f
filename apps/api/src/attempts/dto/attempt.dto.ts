import { ApiProperty } from '@nestjs/swagger';
import { ACTOR_TYPES, OBSERVED_STATUSES, OPERATIONS, OUTCOMES, TRIGGERS } from '@app/common';

/** Swagger descriptions of the Attempt (DESIGN section 2) and of the audit responses. */

export const ATTEMPT_OUTCOMES = [...OUTCOMES, 'pending'] as const;

export class ActorDto {
  @ApiProperty({
    enum: ACTOR_TYPES,
    description: 'user (delegated token), app (app-only token) or scheduler',
  })
  type!: string;

  @ApiProperty({
    description:
      "The token's oid (object id of the user or of the calling app), or the replica id for the scheduler",
  })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Display name from the token, when it has one' })
  name!: string | null;
}

export class RequestedByDto {
  @ApiProperty({ description: "The requester's oid" }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

export class AttemptDto {
  @ApiProperty({ format: 'uuid' })
  attemptId!: string;

  @ApiProperty({ format: 'date-time', description: 'When the attempt was recorded (before acting)' })
  createdAt!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the outcome was written; null while pending',
  })
  finishedAt!: string | null;

  @ApiProperty({ description: 'Service principal (GUID)' })
  servicePrincipalId!: string;

  @ApiProperty({ description: 'Synchronization job id' })
  jobId!: string;

  @ApiProperty({
    enum: TRIGGERS,
    description: 'api (a caller), recovery (the scheduled sweep) or approval (a second Admin approved it)',
  })
  trigger!: string;

  @ApiProperty({ type: () => ActorDto })
  actor!: ActorDto;

  @ApiProperty({
    enum: ATTEMPT_OUTCOMES,
    description: 'What happened; pending while the decision is in flight',
  })
  outcome!: string;

  @ApiProperty({
    enum: OBSERVED_STATUSES,
    nullable: true,
    description: 'Job status seen in Graph, normalised',
  })
  observedStatus!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Quarantine reason reported by Graph' })
  quarantineReason!: string | null;

  @ApiProperty({ type: String, nullable: true, description: "The caller's reason text" })
  reason!: string | null;

  @ApiProperty({ description: 'The caller asked for a dry run' })
  dryRun!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'Why, in one sentence' })
  message!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Seconds to wait before trying again' })
  retryAfterSeconds!: number | null;

  @ApiProperty({ type: [String], description: 'request-id headers of the Graph calls made' })
  graphRequestIds!: string[];

  @ApiProperty({ type: Number, nullable: true, description: 'Time the decision took' })
  durationMs!: number | null;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: 'Dry runs: whether the start would have been sent (the message says why); null otherwise',
  })
  wouldStart!: boolean | null;

  @ApiProperty({
    type: String,
    enum: OPERATIONS,
    description: 'What was asked of Graph; attempts before job control read start',
  })
  operation!: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The approval this attempt ran under (trigger approval) or asked for (awaiting_approval)',
  })
  approvalId!: string | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The hold that refused it (held), or the hold a pause placed',
  })
  holdId!: string | null;

  @ApiProperty({ type: [String], description: "A restart's reset scopes; empty otherwise" })
  resetScope!: string[];

  @ApiProperty({
    type: () => RequestedByDto,
    nullable: true,
    description: 'Under an approval: who asked for the operation (the actor is the approver)',
  })
  requestedBy!: RequestedByDto | null;
}

export class AttemptPageDto {
  @ApiProperty({ type: () => [AttemptDto], description: 'Newest first' })
  items!: AttemptDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Opaque cursor of the next page (pass it as `cursor` with the same filters); null on the last page',
  })
  nextCursor!: string | null;
}

/** Counts per outcome; every outcome is present (0 when none). */
export class OutcomeCountsDto {
  @ApiProperty() pending!: number;
  @ApiProperty() started!: number;
  @ApiProperty() skipped!: number;
  @ApiProperty() dry_run!: number;
  @ApiProperty() rate_limited!: number;
  @ApiProperty() not_found!: number;
  @ApiProperty() denied!: number;
  @ApiProperty() forbidden!: number;
  @ApiProperty() rejected!: number;
  @ApiProperty() upstream_error!: number;
  @ApiProperty() unknown!: number;
  @ApiProperty() paused!: number;
  @ApiProperty() restarted!: number;
  @ApiProperty() awaiting_approval!: number;
  @ApiProperty() held!: number;
}

export class AttemptStatsGroupDto {
  @ApiProperty({ required: false, description: 'groupBy=job: the service principal' })
  servicePrincipalId?: string;

  @ApiProperty({ required: false, description: 'groupBy=job: the job' })
  jobId?: string;

  @ApiProperty({ required: false, description: 'groupBy=actor: the actor id' })
  actorId?: string;

  @ApiProperty({
    type: String,
    nullable: true,
    required: false,
    description: "groupBy=actor: the actor's name",
  })
  actorName?: string | null;

  @ApiProperty({ description: 'Attempts of this group' })
  total!: number;

  @ApiProperty({ type: () => OutcomeCountsDto })
  byOutcome!: OutcomeCountsDto;
}

export class AttemptStatsDto {
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Start of the range (inclusive)',
  })
  from!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'End of the range (exclusive)',
  })
  to!: string | null;

  @ApiProperty({ description: 'Attempts matching the filters' })
  total!: number;

  @ApiProperty({ type: () => OutcomeCountsDto })
  byOutcome!: OutcomeCountsDto;

  @ApiProperty({ enum: ['job', 'actor'], nullable: true, description: 'The grouping asked for, if any' })
  groupBy!: string | null;

  @ApiProperty({
    type: () => [AttemptStatsGroupDto],
    description: 'With groupBy: the groups with the most attempts, most first (at most `limit`)',
  })
  groups!: AttemptStatsGroupDto[];
}
