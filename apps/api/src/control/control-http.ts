import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { type AttemptView, DomainError, ErrorCode } from '@app/common';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import type { HttpReply } from '../http/http';
import { requestIdOf } from '../http/problem';
import { AttemptDto } from '../attempts/dto/attempt.dto';
import { ProblemDto } from '../http/problem.dto';
import { httpStatusForOutcome } from '../http/outcome-status';
import type { GuardDecision } from '../jobs/guard.service';
import type { ControlCall } from './job-control.service';

/**
 * The operation on `servicePrincipals/:spId/synchronization/jobs/:jobId/…` as the services take it: ids, body,
 * query (these operations take none: the service refuses any), the caller and the request id.
 */
export const OperationCall = createParamDecorator((_: unknown, ctx: ExecutionContext): ControlCall => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!req.caller) {
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'authentication required');
  }
  const { spId, jobId } = req.params as Record<string, string | undefined>;
  return {
    servicePrincipalId: spId ?? '',
    jobId: jobId ?? '',
    body: req.body,
    query: req.query as Record<string, unknown> | undefined,
    caller: req.caller,
    requestId: requestIdOf(req),
  };
});

/** The Attempt as the answer: HTTP status by outcome, Retry-After when there is one to wait for. */
export function answerWithAttempt(decision: GuardDecision, res: HttpReply): AttemptView {
  const { attempt } = decision;
  void res.status(httpStatusForOutcome(attempt.outcome, decision.upstreamStatus));
  if (
    attempt.retryAfterSeconds !== null &&
    (attempt.outcome === 'rate_limited' || attempt.outcome === 'upstream_error')
  ) {
    void res.header('Retry-After', String(attempt.retryAfterSeconds));
  }
  return attempt;
}

const ATTEMPT = { $ref: getSchemaPath(AttemptDto) };
const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
};

/** Responses of an operation answered with its Attempt (pause, restart, approve). */
export function OperationResponses(success: string): MethodDecorator {
  const attempt = (status: number, description: string, headers?: typeof RETRY_AFTER) =>
    ApiResponse({ status, description, schema: ATTEMPT, ...(headers ? { headers } : {}) });
  const decorators = [
    attempt(200, success),
    attempt(202, 'awaiting_approval: another Admin must approve (approvalId on the attempt); nothing sent'),
    attempt(400, 'rejected: malformed ids or body'),
    ApiResponse({ status: 401, type: ProblemDto, description: 'No or bad bearer token (not an attempt)' }),
    attempt(403, 'denied: the caller lacks the role or a grant'),
    attempt(404, 'not_found: Graph does not know the job'),
    attempt(409, 'skipped: the job is in a status where the operation is not allowed'),
    attempt(423, 'held: a hold on the job or its service principal (message: reason, who, until)'),
    attempt(
      429,
      'rate_limited: limit, cool-down, another operation in flight, or Graph throttling',
      RETRY_AFTER,
    ),
    attempt(502, 'forbidden (Graph refused our identity), upstream_error or unknown'),
    ApiResponse({
      status: 503,
      description: 'upstream_error when Graph said 503 (an Attempt); the audit store unreachable (problem)',
      schema: { oneOf: [ATTEMPT, { $ref: getSchemaPath(ProblemDto) }] },
    }),
    attempt(504, 'upstream_error: Graph timed out'),
  ];
  return (target, key, descriptor) => {
    for (const d of decorators) {
      d(target, key, descriptor);
    }
  };
}
