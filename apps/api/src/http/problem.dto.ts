import { ApiProperty } from '@nestjs/swagger';
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
