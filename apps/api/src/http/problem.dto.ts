import { applyDecorators } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorCode } from '@app/common';

/** The one error shape of every response that is not an Attempt (see problem.ts). */
export class ProblemDto {
  @ApiProperty({ description: 'HTTP status code', example: 400 })
  statusCode!: number;

  @ApiProperty({ description: 'HTTP reason phrase', example: 'Bad Request' })
  error!: string;

  @ApiProperty({ description: 'What went wrong, in one sentence; names the field when input was refused' })
  message!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The request id (also in the x-request-id response header and in every log line)',
  })
  requestId!: string | null;

  @ApiProperty({
    enum: ErrorCode,
    enumName: 'ErrorCode',
    description:
      'A stable code for the error, on every problem; match on it, never on the message. New codes may be added.',
    example: ErrorCode.INVALID_INPUT,
  })
  code!: ErrorCode;
}

/**
 * The problem answers every authenticated /v1 controller can give, for /docs: 401 (no or bad token), 403 (the
 * token lacks the role; `forbidden` says which, null when each route documents its own) and 503 (the audit
 * store is unavailable).
 */
export function ProblemResponses(forbidden: string | null): ClassDecorator {
  return applyDecorators(
    ApiUnauthorizedResponse({ type: ProblemDto, description: 'No or bad bearer token (UNAUTHENTICATED)' }),
    ...(forbidden === null ? [] : [ApiForbiddenResponse({ type: ProblemDto, description: forbidden })]),
    ApiServiceUnavailableResponse({
      type: ProblemDto,
      description:
        'The audit store is unavailable (AUDIT_UNAVAILABLE), or this replica cannot serve now; try again later',
    }),
  );
}
