import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../http/http';
import type { AttemptView } from '@app/common';
import { APPROVAL_STATES, type ApprovalView } from '@app/persistence';
import { CurrentCaller, Roles } from '../auth/auth.guard';
import { type Caller, Role } from '../auth/roles';
import { requestIdOf } from '../http/problem';
import { ProblemDto } from '../http/problem.dto';
import { AttemptDto } from '../attempts/dto/attempt.dto';
import { OperationResponses, answerWithAttempt } from '../control/control-http';
import { ApprovalDto, ApprovalListDto, DecideApprovalDto } from '../control/control.dto';
import { ApprovalsService } from './approvals.service';
import { OwnQueryCheck } from '../http/strict-query';

/** The two-person rule (DESIGN 2c). */
@ApiTags('approvals')
@ApiExtraModels(AttemptDto, ProblemDto)
@ApiResponse({ status: 401, type: ProblemDto, description: 'No or bad bearer token' })
@Controller({ path: 'approvals', version: '1' })
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @OwnQueryCheck()
  @Get()
  @Roles(Role.Read)
  @ApiOperation({ summary: 'Approval requests, newest first' })
  @ApiQuery({ name: 'state', required: false, enum: APPROVAL_STATES })
  @ApiOkResponse({ type: ApprovalListDto })
  @ApiResponse({ status: 400, type: ProblemDto, description: 'INVALID_INPUT' })
  list(@Query() query: Record<string, unknown>): Promise<{ items: ApprovalView[] }> {
    return this.approvals.list(query);
  }

  @Get(':approvalId')
  @Roles(Role.Read)
  @ApiOperation({ summary: 'One approval request' })
  @ApiParam({ name: 'approvalId', format: 'uuid' })
  @ApiOkResponse({ type: ApprovalDto })
  @ApiResponse({ status: 404, type: ProblemDto, description: 'APPROVAL_NOT_FOUND' })
  get(@Param('approvalId') approvalId: string): Promise<ApprovalView> {
    return this.approvals.get(approvalId);
  }

  @Post(':approvalId/approve')
  @Roles(Role.Admin)
  @ApiOperation({
    summary: 'Approve, and run the operation now',
    description:
      'A JobControl.Admin other than the requester (other oid) approves a pending request before it expires. The operation then runs once through the guard with a fresh read (trigger approval, the approver as actor, requestedBy on the attempt); holds, limits and the cool-down apply. Answers with that Attempt.',
  })
  @ApiParam({ name: 'approvalId', format: 'uuid' })
  @ApiBody({ type: DecideApprovalDto, required: false })
  @OperationResponses('started or restarted: the approved operation ran')
  @ApiResponse({
    status: 409,
    type: ProblemDto,
    description: 'APPROVAL_EXPIRED or APPROVAL_ALREADY_DECIDED (used or rejected); or skipped (an Attempt)',
  })
  @ApiResponse({
    status: 403,
    type: ProblemDto,
    description: 'APPROVAL_OWN_REQUEST, or the token lacks JobControl.Admin; or denied (an Attempt)',
  })
  async approve(
    @Param('approvalId') approvalId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Req() req: HttpRequest,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<AttemptView> {
    const decision = await this.approvals.approve(approvalId, body, caller, requestIdOf(req));
    return answerWithAttempt(decision, res);
  }

  @Post(':approvalId/reject')
  @Roles(Role.Admin)
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject (or, by the requester, withdraw) a pending request' })
  @ApiParam({ name: 'approvalId', format: 'uuid' })
  @ApiBody({ type: DecideApprovalDto, required: false })
  @ApiOkResponse({ type: ApprovalDto })
  @ApiResponse({ status: 404, type: ProblemDto, description: 'APPROVAL_NOT_FOUND' })
  @ApiResponse({ status: 409, type: ProblemDto, description: 'APPROVAL_EXPIRED or APPROVAL_ALREADY_DECIDED' })
  reject(
    @Param('approvalId') approvalId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ApprovalView> {
    return this.approvals.reject(approvalId, body, caller);
  }
}
