import {
  All,
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Logger,
  Post,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import {
  ApiBody,
  ApiExcludeEndpoint,
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { type HttpReply, type HttpRequest, pathOf } from '../http/http';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import type { Caller } from '../auth/roles';
import { httpStatusForError } from '../http/error-status';
import { toDomainError } from '../http/errors.filter';
import { OwnQueryCheck } from '../http/strict-query';
import { ATTEMPT_HEADER, DOOR_ERRORS } from './door-answers';
import { doorIdsOf, sendDoorAnswer, sendDoorError } from './door-http';
import { DOOR_PREFIXES, type DoorPrefix } from './door-routes';
import {
  GraphBatchRequestDto,
  GraphBatchResponseDto,
  GraphErrorDto,
  GraphJobDto,
  GraphJobListDto,
  GraphRestartRequestDto,
} from './graph-door.dto';
import { DOOR_RESTART_DEFAULT_REASON, GraphDoorService, REASON_HEADER } from './graph-door.service';

function prefixOf(path: string): { prefix: DoorPrefix; rest: string } {
  for (const prefix of DOOR_PREFIXES) {
    const head = `/${prefix}`;
    if (path === head || path.startsWith(`${head}/`)) {
      return { prefix, rest: path.slice(head.length) || '/' };
    }
  }
  return { prefix: 'v1.0', rest: path };
}

/** Errors before the door's own code runs (no or bad token, a missing role) in Graph's envelope. */
@Catch()
export class GraphDoorErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('graph-door');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<HttpRequest>();
    const res = host.switchToHttp().getResponse<HttpReply>();
    if (res.sent || res.raw.headersSent) {
      return;
    }
    const error = toDomainError(exception, this.logger);
    sendDoorError(req, res, httpStatusForError(error.code), error.message);
  }
}

const GRAPH_ERROR = { $ref: getSchemaPath(GraphErrorDto) };
const REFUSALS = Object.entries(DOOR_ERRORS)
  .map(([code, status]) => `\`${code}\` (${status})`)
  .join(', ');

function DoorResponses(success: { status: number; description: string; type?: unknown }): MethodDecorator {
  const decorators = [
    ApiExtraModels(GraphErrorDto),
    ApiHeader({
      name: 'client-request-id',
      required: false,
      description: "The caller's request id, echoed in the answer and in Graph's innerError",
    }),
    ApiResponse({
      status: success.status,
      description: `${success.description}. Headers: request-id, client-request-id, date, and ${ATTEMPT_HEADER} when an attempt was made`,
      ...(success.type ? { type: success.type as never } : {}),
    }),
    ApiResponse({
      status: 'default',
      description: `Graph's error envelope; error.code is one of ${REFUSALS}, or Graph's own code when Graph's error is passed through. Guard refusals are never 429; Retry-After accompanies the cool-down, the limit and Graph's own throttling`,
      schema: GRAPH_ERROR,
    }),
  ];
  return (target, key, descriptor) => {
    for (const d of decorators) {
      d(target, key, descriptor);
    }
  };
}

const paths = (suffix: string) => DOOR_PREFIXES.map((p) => `${p}${suffix}`);
const JOBS = '/servicePrincipals/:spId/synchronization/jobs';

/**
 * The Graph-compatible door (DESIGN section 2b): under /v1.0 and /beta, Graph's own paths for synchronization
 * jobs, answered as Graph does, through the same guard as /v1. Same tokens and roles as /v1: list and get need
 * JobControl.Read, start needs JobControl.Start (a missing role is a `denied` attempt).
 */
@ApiTags('graph-compatible door')
@Controller()
@UseFilters(GraphDoorErrorsFilter)
// The door refuses query options itself, in Graph's envelope (the start: as a rejected attempt, like /v1).
@OwnQueryCheck()
export class GraphDoorController {
  constructor(private readonly door: GraphDoorService) {}

  private async serve(req: HttpRequest, res: HttpReply, caller: Caller): Promise<void> {
    const ids = doorIdsOf(req);
    const { prefix, rest } = prefixOf(pathOf(req));
    const reason = req.headers[REASON_HEADER];
    const host = req.headers.host ?? 'localhost';
    const answer = await this.door.handle({
      prefix,
      method: req.method,
      path: rest,
      query: req.query as Record<string, unknown>,
      body: req.body,
      caller,
      requestId: ids.requestId,
      clientRequestId: ids.clientRequestId,
      origin: `${req.protocol}://${host}`,
      topLevel: true,
      reason: typeof reason === 'string' ? reason : null,
    });
    sendDoorAnswer(req, res, answer);
  }

  @Get(paths(JOBS))
  @Roles()
  @ApiOperation({
    summary: "Graph's list of a service principal's synchronization jobs (JobControl.Read)",
    description: "Graph's own job JSON, with @odata.context pointing at this service.",
  })
  @ApiParam({ name: 'spId', description: 'Service principal object id (GUID)' })
  @DoorResponses({ status: 200, description: "Graph's job list", type: GraphJobListDto })
  async list(@Req() req: HttpRequest, @Res() res: HttpReply, @CurrentCaller() caller: Caller): Promise<void> {
    await this.serve(req, res, caller);
  }

  @Get(paths(`${JOBS}/:jobId`))
  @Roles()
  @ApiOperation({ summary: "Graph's job (JobControl.Read)", description: "Graph's own job JSON." })
  @ApiParam({ name: 'spId', description: 'Service principal object id (GUID)' })
  @ApiParam({ name: 'jobId', description: 'Job id, ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' })
  @DoorResponses({ status: 200, description: "Graph's job", type: GraphJobDto })
  async get(@Req() req: HttpRequest, @Res() res: HttpReply, @CurrentCaller() caller: Caller): Promise<void> {
    await this.serve(req, res, caller);
  }

  @Post(paths(`${JOBS}/:jobId/start`))
  @Roles()
  @ApiOperation({
    summary: "The guarded start, in Graph's shape (JobControl.Start)",
    description:
      "Sent to Graph only when the job is paused or in quarantine, as POST /v1/…/start. 204 with no body when Graph accepted the start; otherwise Graph's error envelope with a stable code and the same message as /v1. No body (or {}) as in Graph.",
  })
  @ApiParam({ name: 'spId', description: 'Service principal object id (GUID)' })
  @ApiParam({ name: 'jobId', description: 'Job id, ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' })
  @DoorResponses({ status: 204, description: 'Started: Graph accepted the start' })
  async start(
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.serve(req, res, caller);
  }

  @Post(paths(`${JOBS}/:jobId/pause`))
  @Roles()
  @ApiOperation({
    summary: "The guarded pause, in Graph's shape (JobControl.Start)",
    description:
      "The guarded pause of POST /v1/…/pause (any status, recorded as an attempt with outcome paused): 204 with no body when Graph accepted it; otherwise Graph's error envelope with a stable code. No body (or {}) as in Graph.",
  })
  @ApiParam({ name: 'spId', description: 'Service principal object id (GUID)' })
  @ApiParam({ name: 'jobId', description: 'Job id' })
  @DoorResponses({ status: 204, description: 'Paused: Graph accepted the pause' })
  async pause(
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.serve(req, res, caller);
  }

  @Post(paths(`${JOBS}/:jobId/restart`))
  @Roles()
  @ApiOperation({
    summary: "The guarded restart, in Graph's shape (JobControl.Start)",
    description:
      'The guarded restart of POST /v1/…/restart with Graph\'s body {"criteria":{"resetScope":"Escrows, QuarantineState"}}: 204 with no body when Graph accepted it; otherwise Graph\'s error envelope with a stable code. Graph\'s ForceDeletes is our ForceDeletion; None, ConnectorDataStore, unknown or no scopes are refused with BadRequest (400). Full, Watermark and ForceDeletes need another JobControl.Admin\'s approval: ApprovalRequired (409), whose message says how to approve, and nothing is sent to Graph until then. A hold answers JobOnHold (423). The reason recorded comes from the sjg-reason header (at most 500 characters, not empty), else "' +
      DOOR_RESTART_DEFAULT_REASON +
      '".',
  })
  @ApiParam({ name: 'spId', description: 'Service principal object id (GUID)' })
  @ApiParam({ name: 'jobId', description: 'Job id' })
  @ApiHeader({
    name: REASON_HEADER,
    required: false,
    description: `Why (at most 500 characters, not empty); recorded on the attempt. Absent: "${DOOR_RESTART_DEFAULT_REASON}"`,
  })
  @ApiBody({ type: GraphRestartRequestDto, required: false })
  @DoorResponses({ status: 204, description: 'Restarted: Graph accepted the restart' })
  async restart(
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.serve(req, res, caller);
  }

  @Post(paths('/$batch'))
  @Roles()
  @ApiOperation({
    summary: "Graph's JSON batching over the door (at most 20 requests)",
    description:
      'Each sub-request goes through the door as if sent alone (start through the guard). dependsOn is honoured: a request runs after its dependencies, and answers 424 FailedDependency when one failed. The envelope is 200 whenever the batch parses; check every status.',
  })
  @ApiBody({ type: GraphBatchRequestDto })
  @DoorResponses({ status: 200, description: 'One answer per request', type: GraphBatchResponseDto })
  async batch(
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.serve(req, res, caller);
  }

  /** Everything else under the prefixes: a Graph-shaped NotSupportedByGuard error; nothing is proxied. */
  @All([...DOOR_PREFIXES, ...paths('/*')])
  @Roles()
  @ApiExcludeEndpoint()
  async other(
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.serve(req, res, caller);
  }
}
