import { ApiProperty } from '@nestjs/swagger';
import { MAX_REASON_LENGTH } from '../start-request';

/** Optional body of the guarded start. Unknown properties are refused (outcome `rejected`, 400). */
export class StartRequestDto {
  @ApiProperty({
    required: false,
    maxLength: MAX_REASON_LENGTH,
    description: 'Why the caller asks for a start; stored with the attempt',
  })
  reason?: string;

  @ApiProperty({
    required: false,
    default: false,
    description: 'Decide and record, but send nothing to Graph (outcome `dry_run`)',
  })
  dryRun?: boolean;
}
