import { Controller, Get, Logger, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../http/http';
import { OPERATIONS, TRIGGERS, type AttemptView } from '@app/common';
import { STORED_OUTCOMES } from '@app/persistence';
import { Roles } from '../auth/auth.guard';
import { Role } from '../auth/roles';
import { httpStatusForError } from '../http/error-status';
import { problemOf } from '../http/problem';
import { AuditUnavailableError } from '../jobs/guard.errors';
import {
  DEFAULT_LIMIT,
  DEFAULT_STATS_GROUPS,
  EXPORT_FORMATS,
  MAX_LIMIT,
  STATS_GROUPS,
  type RawQuery,
  parseAttemptId,
  parseExportQuery,
  parseListQuery,
  parseStatsQuery,
} from './attempt-query';
import { AttemptsService, type AttemptPageView, type AttemptStatsView } from './attempts.service';
import { AttemptDto, AttemptPageDto, AttemptStatsDto } from './dto/attempt.dto';
import { CsvFormatter, NdjsonFormatter } from './export-format';
import { ProblemResponses } from '../http/problem.dto';
import { OwnQueryCheck } from '../http/strict-query';

/** The filters every audit endpoint shares. */
function FilterQueries(): MethodDecorator {
  const decorators = [
    ApiQuery({ name: 'servicePrincipalId', required: false, description: 'Service principal (GUID)' }),
    ApiQuery({ name: 'jobId', required: false, description: 'Synchronization job id' }),
    ApiQuery({
      name: 'outcome',
      required: false,
      enum: STORED_OUTCOMES,
      isArray: true,
      description: 'Repeat for several outcomes: ?outcome=denied&outcome=rate_limited',
    }),
    ApiQuery({
      name: 'actor',
      required: false,
      description: 'Actor id (token oid, or the replica id of the scheduler)',
    }),
    ApiQuery({ name: 'trigger', required: false, enum: TRIGGERS }),
    ApiQuery({ name: 'operation', required: false, enum: OPERATIONS }),
    ApiQuery({
      name: 'from',
      required: false,
      description: 'ISO 8601 date or date-time with offset; inclusive',
      example: '2026-11-28T00:00:00Z',
    }),
    ApiQuery({
      name: 'to',
      required: false,
      description: 'ISO 8601 date or date-time with offset; exclusive; not before `from`',
      example: '2026-11-29T00:00:00Z',
    }),
  ];
  return (target, key, descriptor) => {
    for (const d of decorators) {
      d(target, key, descriptor);
    }
  };
}

const PROBLEM_400 =
  'A filter, limit or cursor is invalid, or a query parameter is unknown; the message names it';

/** Audit queries (DESIGN section 2): who started what, when, why and what happened. */
@ApiTags('attempts')
@ProblemResponses('The token lacks the JobControl.Read role (FORBIDDEN)')
@Controller({ path: 'attempts', version: '1' })
export class AttemptsController {
  private readonly logger = new Logger('attempts');

  constructor(private readonly attempts: AttemptsService) {}

  @Get()
  @OwnQueryCheck()
  @Roles(Role.Read)
  @ApiOperation({
    summary: 'Query attempts, newest first',
    description:
      'Keyset pagination: pass `nextCursor` back as `cursor` with the same filters. Pages stay stable while new attempts arrive.',
  })
  @FilterQueries()
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `Page size, 1-${MAX_LIMIT} (default ${DEFAULT_LIMIT}); out of range is a 400, never clamped`,
  })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiOkResponse({ type: AttemptPageDto })
  @ApiBadRequestResponse({ description: PROBLEM_400 })
  list(@Query() query: RawQuery): Promise<AttemptPageView> {
    return this.attempts.list(parseListQuery(query));
  }

  // Declared before ':attemptId' so these paths are not taken for an id.
  @Get('stats')
  @OwnQueryCheck()
  @Roles(Role.Read)
  @ApiOperation({
    summary: 'Counts of attempts by outcome, optionally by job or by actor',
    description:
      'E.g. refused starts today, by job: ?from=2026-11-28&outcome=denied&outcome=rate_limited&groupBy=job',
  })
  @FilterQueries()
  @ApiQuery({ name: 'groupBy', required: false, enum: STATS_GROUPS })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `With groupBy: number of groups, 1-${MAX_LIMIT} (default ${DEFAULT_STATS_GROUPS}), the largest first`,
  })
  @ApiOkResponse({ type: AttemptStatsDto })
  @ApiBadRequestResponse({ description: PROBLEM_400 })
  stats(@Query() query: RawQuery): Promise<AttemptStatsView> {
    return this.attempts.stats(parseStatsQuery(query));
  }

  @Get('export')
  @OwnQueryCheck()
  @Roles(Role.Read)
  @ApiOperation({
    summary: 'Every attempt matching the filters, streamed (NDJSON or CSV)',
    description:
      'Streamed from one database snapshot in constant memory, newest first. CSV follows RFC 4180 (header row, CRLF); cells that a spreadsheet would take for a formula are prefixed with an apostrophe.',
  })
  @FilterQueries()
  @ApiQuery({ name: 'format', required: false, enum: EXPORT_FORMATS, description: 'Default ndjson' })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'One Attempt per line (NDJSON), or CSV rows' })
  @ApiBadRequestResponse({ description: PROBLEM_400 })
  async export(@Query() query: RawQuery, @Req() req: HttpRequest, @Res() reply: HttpReply): Promise<void> {
    const q = parseExportQuery(query);
    const exp = await this.attempts.openExport(q);
    const formatter = q.format === 'csv' ? new CsvFormatter() : new NdjsonFormatter();
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    // Streamed straight to the socket in constant memory; the headers set so far (request id, helmet's) go with it.
    reply.hijack();
    const res = reply.raw;
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) {
        res.setHeader(name, value);
      }
    }
    res.statusCode = 200;
    res.setHeader(
      'Content-Type',
      q.format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8',
    );
    res.setHeader('Content-Disposition', `attachment; filename=attempts-${stamp}.${q.format}`);
    res.setHeader('Cache-Control', 'no-store');
    res.on('close', () => exp.close());
    const fail = (error: Error): void => {
      this.logger.warn(`attempt export failed: ${error.message}`);
      exp.close();
      formatter.unpipe(res);
      formatter.destroy();
      if (!res.headersSent) {
        // Nothing was sent yet: answer in the problem shape.
        const refusal = new AuditUnavailableError(error);
        const status = httpStatusForError(refusal.code);
        res.removeHeader('Content-Disposition');
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        const retryAfter = refusal.details?.retryAfterSeconds;
        if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) {
          res.setHeader('Retry-After', String(Math.max(0, Math.ceil(retryAfter))));
        }
        res.end(JSON.stringify(problemOf(req, status, refusal.message, refusal.code, refusal.details)));
      } else {
        // Cut the chunked body short: the client sees an incomplete response, never a silently truncated file.
        res.destroy(error);
      }
    };
    exp.rows.on('error', fail);
    formatter.on('error', fail);
    exp.rows.pipe(formatter).pipe(res);
  }

  @Get(':attemptId')
  @Roles(Role.Read)
  @ApiOperation({ summary: 'One attempt' })
  @ApiOkResponse({ type: AttemptDto })
  @ApiBadRequestResponse({ description: 'attemptId is not a UUID' })
  @ApiNotFoundResponse({ description: 'No attempt with this id' })
  get(@Param('attemptId') attemptId: string): Promise<AttemptView> {
    return this.attempts.get(parseAttemptId(attemptId));
  }
}
