import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DOOR_ERRORS } from './door-answers';

export class GraphInnerErrorDto {
  @ApiProperty({ description: 'When the answer was made (ISO 8601, no fraction), as Graph writes it' })
  date!: string;
  @ApiProperty({ name: 'request-id', description: "This service's request id (also the request-id header)" })
  'request-id'!: string;
  @ApiProperty({
    name: 'client-request-id',
    description: "The caller's client-request-id, else the request-id",
  })
  'client-request-id'!: string;
  @ApiPropertyOptional({
    name: 'sjg-attempt-id',
    description: 'The attempt recorded for this request, if any',
  })
  'sjg-attempt-id'?: string;
}

export class GraphErrorBodyDto {
  @ApiProperty({
    description: "A stable code: the guard's own, or Graph's when Graph's error is passed through",
    example: 'JobInCooldown',
    enum: Object.keys(DOOR_ERRORS),
  })
  code!: string;
  @ApiProperty({ description: 'Why, in one sentence (the same words as /v1)' })
  message!: string;
  @ApiProperty({ type: () => GraphInnerErrorDto })
  innerError!: GraphInnerErrorDto;
}

/** Graph's error envelope. */
export class GraphErrorDto {
  @ApiProperty({ type: () => GraphErrorBodyDto })
  error!: GraphErrorBodyDto;
}

/** A synchronizationJob exactly as Graph returns it (only the main properties are described). */
export class GraphJobDto {
  @ApiProperty({ name: '@odata.context', description: "OData context, pointing at this service's origin" })
  '@odata.context'!: string;
  @ApiProperty() id!: string;
  @ApiProperty() templateId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "Graph's synchronizationSchedule" })
  schedule!: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "Graph's synchronizationStatus (code as Graph wrote it, quarantine, lastExecution, …)",
  })
  status!: Record<string, unknown>;
}

export class GraphJobListDto {
  @ApiProperty({ name: '@odata.context' })
  '@odata.context'!: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'synchronizationJob objects as Graph returns them',
  })
  value!: Record<string, unknown>[];
}

export class GraphRestartCriteriaDto {
  @ApiProperty({
    example: 'Escrows, QuarantineState',
    description:
      "Graph's synchronizationJobRestartScope flags, comma-separated: Escrows, QuarantineState, Watermark, Full, ForceDeletes (our ForceDeletion). Watermark, Full and ForceDeletes need another Admin's approval; None, ConnectorDataStore and unknown names are refused (BadRequest)",
  })
  resetScope!: string;
}

export class GraphRestartRequestDto {
  @ApiPropertyOptional({ type: () => GraphRestartCriteriaDto })
  criteria?: GraphRestartCriteriaDto;
}

export class GraphBatchItemDto {
  @ApiProperty({ description: 'Unique within the batch' }) id!: string;
  @ApiProperty({ example: 'POST' }) method!: string;
  @ApiProperty({ example: '/servicePrincipals/{spId}/synchronization/jobs/{jobId}/start' }) url!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  headers?: Record<string, string>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) body?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String], description: 'Ids of requests to run first; 424 when one failed' })
  dependsOn?: string[];
}

export class GraphBatchRequestDto {
  @ApiProperty({ type: () => [GraphBatchItemDto], maxItems: 20, minItems: 1 })
  requests!: GraphBatchItemDto[];
}

export class GraphBatchResponseItemDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'HTTP status of this request (204 started, 409 JobInCooldown, 424 …)' })
  status!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Includes sjg-attempt-id when an attempt was made, Retry-After where it applies',
  })
  headers!: Record<string, string>;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "Graph's JSON or error envelope",
  })
  body?: Record<string, unknown>;
}

export class GraphBatchResponseDto {
  @ApiProperty({ type: () => [GraphBatchResponseItemDto] })
  responses!: GraphBatchResponseItemDto[];
}
