import { Body, Controller, Get, HttpException, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { GraphClient, GraphError, type SyncJob } from '@app/graph';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { httpStatusForOutcome } from '../http/outcome-status';
import { requestIdOf } from '../http/problem';
import { graphFailure } from './guard-policy';
import { JobsService } from './jobs.service';
import { idProblem } from './start-request';

export interface JobView extends SyncJob {
  servicePrincipalId: string;
}

function toJobView(servicePrincipalId: string, job: SyncJob): JobView {
  return { servicePrincipalId, ...job };
}

/** Maps a Graph failure on a read endpoint to an HTTP error carrying the same one-sentence message. */
function readError(error: unknown, res: Response): never {
  if (!(error instanceof GraphError)) {
    throw error;
  }
  const f = graphFailure(error, 'read');
  if (f.retryAfterSeconds !== null) {
    res.setHeader('Retry-After', String(f.retryAfterSeconds));
  }
  const status =
    f.outcome === 'upstream_error'
      ? httpStatusForOutcome(f.outcome, f.upstreamStatus)
      : httpStatusForOutcome(f.outcome, null);
  throw new HttpException(f.message, status);
}

@Controller({ path: 'servicePrincipals/:spId/synchronization/jobs', version: '1' })
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly graph: GraphClient,
  ) {}

  @Get()
  @Roles(Role.Read)
  async list(
    @Param('spId') spId: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ items: JobView[] }> {
    const problem = idProblem(spId, 'x');
    if (problem) {
      throw new HttpException(problem, 400);
    }
    try {
      const r = await this.graph.listJobs(spId, { clientRequestId: requestIdOf(req) ?? undefined });
      return { items: r.value.map((j) => toJobView(spId, j)) };
    } catch (error) {
      readError(error, res);
    }
  }

  @Get(':jobId')
  @Roles(Role.Read)
  async get(
    @Param('spId') spId: string,
    @Param('jobId') jobId: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobView> {
    const problem = idProblem(spId, jobId);
    if (problem) {
      throw new HttpException(problem, 400);
    }
    try {
      const r = await this.graph.getJob(
        { servicePrincipalId: spId, jobId },
        { clientRequestId: requestIdOf(req) ?? undefined },
      );
      return toJobView(spId, r.value);
    } catch (error) {
      readError(error, res);
    }
  }

  /** The guarded start (DESIGN section 3). Any authenticated caller reaches it; a missing role is a `denied` row. */
  @Post(':jobId/start')
  @Roles()
  async start(
    @Param('spId') spId: string,
    @Param('jobId') jobId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const decision = await this.jobs.start({
      servicePrincipalId: spId,
      jobId,
      body,
      caller,
      requestId: requestIdOf(req),
    });
    const { attempt } = decision;
    res.status(httpStatusForOutcome(attempt.outcome, decision.upstreamStatus));
    if (
      attempt.retryAfterSeconds !== null &&
      (attempt.outcome === 'rate_limited' || attempt.outcome === 'upstream_error')
    ) {
      res.setHeader('Retry-After', String(attempt.retryAfterSeconds));
    }
    return attempt;
  }
}
