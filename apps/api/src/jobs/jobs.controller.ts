import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../http/http';
import { Roles } from '../auth/auth.guard';
import { Role } from '../auth/roles';
import { OperationCall, answerWithAttempt } from '../control/control-http';
import { requestIdOf } from '../http/problem';
import { ProblemDto } from '../http/problem.dto';
import { AttemptDto } from '../attempts/dto/attempt.dto';
import { JobDto, JobListDto } from './dto/job.dto';
import { StartRequestDto } from './dto/start-request.dto';
import { type JobView, JobsService, type StartCall } from './jobs.service';
import { OwnQueryCheck } from '../http/strict-query';

const ATTEMPT = { $ref: getSchemaPath(AttemptDto) };
const PROBLEM = { $ref: getSchemaPath(ProblemDto) };
const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
};

/** Responses of the read endpoints (problem shape). */
function ReadResponses(): MethodDecorator {
  const decorators = [
    ApiBadRequestResponse({ type: ProblemDto, description: 'spId is not a GUID, or jobId is malformed' }),
    ApiResponse({ status: 401, type: ProblemDto, description: 'No or bad bearer token' }),
    ApiResponse({ status: 403, type: ProblemDto, description: 'The token lacks the JobControl.Read role' }),
    ApiResponse({
      status: 404,
      type: ProblemDto,
      description: 'Graph does not know the job or service principal',
    }),
    ApiResponse({
      status: 429,
      type: ProblemDto,
      headers: RETRY_AFTER,
      description: 'Graph throttled us and asks to wait',
    }),
    ApiResponse({
      status: 502,
      type: ProblemDto,
      description: 'Graph failed, or refused our identity (the message names the permission)',
    }),
    ApiResponse({ status: 503, type: ProblemDto, description: 'Graph is unavailable' }),
    ApiResponse({ status: 504, type: ProblemDto, description: 'Graph did not answer in time' }),
  ];
  return (target, key, descriptor) => {
    for (const d of decorators) {
      d(target, key, descriptor);
    }
  };
}

/** Responses of the guarded start: every outcome carries the Attempt; 401, 413, 415 and some 400/503 cannot. */
function StartResponses(): MethodDecorator {
  const attempt = (status: number, description: string, headers?: typeof RETRY_AFTER) =>
    ApiResponse({ status, description, schema: ATTEMPT, ...(headers ? { headers } : {}) });
  const decorators = [
    ApiExtraModels(AttemptDto, ProblemDto),
    attempt(200, 'started (Graph accepted the start) or dry_run'),
    attempt(
      202,
      'awaiting_approval: the job is quarantined for a reason that needs a person; another Admin must approve (approvalId)',
    ),
    attempt(423, 'held: a hold on the job or its service principal (message: reason, who, until)'),
    ApiResponse({
      status: 400,
      description:
        'rejected: malformed ids or body (an Attempt); a body that is not valid JSON is refused before any attempt (problem)',
      schema: { oneOf: [ATTEMPT, PROBLEM] },
    }),
    ApiResponse({ status: 401, type: ProblemDto, description: 'No or bad bearer token (not an attempt)' }),
    attempt(403, 'denied: the caller lacks JobControl.Start, or a grant for this service principal'),
    attempt(404, 'not_found: Graph does not know the job'),
    attempt(409, 'skipped: the job is neither paused nor in quarantine; the message says which status'),
    ApiResponse({ status: 413, type: ProblemDto, description: 'The body is larger than BODY_LIMIT_BYTES' }),
    ApiResponse({ status: 415, type: ProblemDto, description: 'A body that is not application/json' }),
    attempt(
      429,
      'rate_limited: the per-job request limit or the cool-down after a start; Retry-After says when to try again',
      RETRY_AFTER,
    ),
    attempt(502, 'forbidden (Graph refused our identity), upstream_error or unknown'),
    ApiResponse({
      status: 503,
      description:
        'upstream_error when Graph said 503 (an Attempt, with Retry-After when Graph gave one); the audit store unreachable (problem, nothing sent to Graph)',
      schema: { oneOf: [ATTEMPT, PROBLEM] },
      headers: RETRY_AFTER,
    }),
    attempt(504, 'upstream_error: Graph timed out'),
  ];
  return (target, key, descriptor) => {
    for (const d of decorators) {
      d(target, key, descriptor);
    }
  };
}

@ApiTags('jobs')
@ApiParam({ name: 'spId', type: String, description: 'Service principal object id (GUID)' })
@Controller({ path: 'servicePrincipals/:spId/synchronization/jobs', version: '1' })
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @Roles(Role.Read)
  @ApiOperation({ summary: "The service principal's synchronization jobs, with normalised status" })
  @ApiOkResponse({ type: JobListDto })
  @ReadResponses()
  async list(@Param('spId') spId: string, @Req() req: HttpRequest): Promise<{ items: JobView[] }> {
    return { items: await this.jobs.list(spId, requestIdOf(req)) };
  }

  @Get(':jobId')
  @Roles(Role.Read)
  @ApiOperation({ summary: "One job's live status from Graph, normalised" })
  @ApiParam({ name: 'jobId', type: String, description: 'Job id, ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' })
  @ApiOkResponse({ type: JobDto })
  @ReadResponses()
  get(@Param('spId') spId: string, @Param('jobId') jobId: string, @Req() req: HttpRequest): Promise<JobView> {
    return this.jobs.get(spId, jobId, requestIdOf(req));
  }

  /** The guarded start (DESIGN section 3). Any authenticated caller reaches it; a missing role is a `denied` row. */
  @Post(':jobId/start')
  @OwnQueryCheck()
  @Roles()
  @ApiOperation({
    summary: 'The guarded start',
    description:
      'Sends a start to Graph only when the job is paused or in quarantine, once per job across every replica, within the per-job request limit and cool-down. Every decision is recorded before acting and answered with the Attempt. Needs JobControl.Start (a missing role is a `denied` attempt).',
  })
  @ApiParam({ name: 'jobId', type: String, description: 'Job id, ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' })
  @ApiParam({ name: 'spId', type: String, description: 'Service principal object id (GUID)' })
  @ApiBody({ type: StartRequestDto, required: false })
  @StartResponses()
  async start(@OperationCall() call: StartCall, @Res({ passthrough: true }) res: HttpReply) {
    return answerWithAttempt(await this.jobs.start(call), res);
  }
}
