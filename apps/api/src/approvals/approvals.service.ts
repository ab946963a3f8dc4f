import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DomainError, ErrorCode, escapeNul, isUuid, unknownKeys } from '@app/common';
import { APPROVAL_STATES, ApprovalRepository, type ApprovalState, type ApprovalView } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import type { Caller } from '../auth/roles';
import { RESET_SCOPES, type ResetScope } from '../control/control-policy';
import { type GuardDecision, GuardService } from '../jobs/guard.service';
import { MAX_REASON_LENGTH } from '../jobs/start-request';
import { PeriodicWork } from '../scheduling/periodic-work';

/** Name of the expiry of pending approvals in the scheduler. */
export const APPROVAL_EXPIRY_NAME = 'approvals-expiry';

export interface ApprovalDecision extends GuardDecision {
  approval: ApprovalView;
}

function describeState(a: ApprovalView): string {
  switch (a.state) {
    case 'approved':
      return `was already approved by ${a.decidedBy?.name ?? a.decidedBy?.id ?? 'someone'} and used${a.attemptId ? ` (attempt ${a.attemptId})` : ''}`;
    case 'rejected':
      return `was rejected by ${a.decidedBy?.name ?? a.decidedBy?.id ?? 'someone'}`;
    case 'expired':
      return `expired at ${a.expiresAt}`;
    case 'pending':
      return 'is pending';
  }
}

/**
 * The two-person rule (DESIGN 2c). Approving runs the operation through the guard with a fresh read
 * (trigger `approval`, the approver as actor, the requester on the attempt); holds, limits and the cool-down
 * apply as to any start. Pending requests past APPROVAL_TTL_SECONDS are closed by a timer on every replica
 * (the statement is idempotent).
 */
@Injectable()
export class ApprovalsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ApprovalsService.name);
  /** The expiry pass in progress, awaited at shutdown. */
  private expiring: Promise<unknown> | null = null;

  constructor(
    private readonly approvals: ApprovalRepository,
    private readonly guard: GuardService,
    private readonly periodic: PeriodicWork,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = Math.min(60, this.config.approvalTtlSeconds) * 1000;
    this.periodic.every(APPROVAL_EXPIRY_NAME, everyMs, () => {
      if (this.expiring === null) {
        this.expiring = this.expireDue()
          .catch(() => undefined)
          .finally(() => {
            this.expiring = null;
          });
      }
    });
  }

  /**
   * Stops before the database pool closes (PersistenceModule is destroyed after this module): no new pass, and
   * the pass in progress finishes while the pool is open.
   */
  async onModuleDestroy(): Promise<void> {
    this.periodic.cancel(APPROVAL_EXPIRY_NAME);
    await this.expiring;
  }

  async expireDue(): Promise<number> {
    try {
      const n = await this.approvals.expireDue();
      if (n > 0) {
        this.logger.log(`closed ${n} expired approval request(s)`);
      }
      return n;
    } catch (error) {
      this.logger.warn(
        `expired approvals not closed: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw error;
    }
  }

  async list(query: Record<string, unknown>): Promise<{ items: ApprovalView[] }> {
    const extra = unknownKeys(query, ['state'], 'query parameter');
    if (extra) {
      throw new DomainError(ErrorCode.INVALID_INPUT, extra);
    }
    const state = query.state;
    if (state !== undefined && !(APPROVAL_STATES as readonly unknown[]).includes(state)) {
      throw new DomainError(ErrorCode.INVALID_INPUT, `state must be one of ${APPROVAL_STATES.join(', ')}`);
    }
    const items = await this.approvals.list({
      ...(state !== undefined ? { state: state as ApprovalState } : {}),
      limit: 500,
    });
    return { items };
  }

  async get(approvalId: string): Promise<ApprovalView> {
    this.checkId(approvalId);
    const a = await this.approvals.get(approvalId);
    if (a === null) {
      throw new DomainError(ErrorCode.APPROVAL_NOT_FOUND, `No approval ${approvalId}`);
    }
    return a;
  }

  /** A different Admin approves: the operation runs once, now, through the guard. */
  async approve(
    approvalId: string,
    body: unknown,
    caller: Caller,
    requestId: string | null,
  ): Promise<ApprovalDecision> {
    this.checkId(approvalId);
    const note = this.parseNote(body);
    const result = await this.approvals.decide(approvalId, 'approved', caller.actor, note);
    if (!result.ok) {
      this.refusal(approvalId, result.reason, result.approval, 'approve');
    }
    const approval = result.approval;
    const decision = await this.guard.decide({
      servicePrincipalId: approval.servicePrincipalId,
      jobId: approval.jobId,
      trigger: 'approval',
      actor: caller.actor,
      reason: approval.reason,
      dryRun: false,
      requestId,
      operation: approval.operation,
      resetScope: approval.resetScope.filter((s): s is ResetScope =>
        (RESET_SCOPES as readonly string[]).includes(s),
      ),
      approval: {
        approvalId: approval.approvalId,
        requestedBy: { id: approval.requestedBy.id, name: approval.requestedBy.name },
      },
    });
    await this.approvals.linkAttempt(approvalId, decision.attempt.attemptId).catch((error: unknown) => {
      this.logger.warn(
        `approval ${approvalId} ran as attempt ${decision.attempt.attemptId} but the link was not saved: ${String(error)}`,
      );
    });
    return { ...decision, approval: { ...approval, attemptId: decision.attempt.attemptId } };
  }

  /** Any Admin rejects, the requester included (a withdrawal). */
  async reject(approvalId: string, body: unknown, caller: Caller): Promise<ApprovalView> {
    this.checkId(approvalId);
    const note = this.parseNote(body);
    const result = await this.approvals.decide(approvalId, 'rejected', caller.actor, note);
    if (!result.ok) {
      this.refusal(approvalId, result.reason, result.approval, 'reject');
    }
    return result.approval;
  }

  private refusal(
    approvalId: string,
    reason: 'not_found' | 'own_request' | 'expired' | 'already_decided',
    approval: ApprovalView | null,
    what: 'approve' | 'reject',
  ): never {
    switch (reason) {
      case 'not_found':
        throw new DomainError(ErrorCode.APPROVAL_NOT_FOUND, `No approval ${approvalId}`);
      case 'own_request':
        throw new DomainError(
          ErrorCode.APPROVAL_OWN_REQUEST,
          `Approval ${approvalId} was requested by you: a different Admin must approve it`,
        );
      case 'expired':
        throw new DomainError(
          ErrorCode.APPROVAL_EXPIRED,
          `Approval ${approvalId} expired at ${approval?.expiresAt ?? 'its deadline'}; ask for the operation again`,
        );
      case 'already_decided':
        throw new DomainError(
          ErrorCode.APPROVAL_ALREADY_DECIDED,
          `Cannot ${what} approval ${approvalId}: it ${approval ? describeState(approval) : 'was already decided'}`,
        );
    }
  }

  private checkId(approvalId: string): void {
    if (!isUuid(approvalId)) {
      throw new DomainError(ErrorCode.INVALID_INPUT, 'approvalId must be a GUID');
    }
  }

  private parseNote(body: unknown): string | null {
    if (body === undefined || body === null) {
      return null;
    }
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new DomainError(ErrorCode.INVALID_INPUT, 'body must be a JSON object');
    }
    const record = body as Record<string, unknown>;
    const extra = unknownKeys(record, ['reason'], 'property');
    if (extra) {
      throw new DomainError(ErrorCode.INVALID_INPUT, extra);
    }
    const r = record.reason;
    if (r === undefined || r === null) {
      return null;
    }
    if (typeof r !== 'string' || r.length > MAX_REASON_LENGTH) {
      throw new DomainError(
        ErrorCode.INVALID_INPUT,
        `reason must be a string of at most ${MAX_REASON_LENGTH} characters`,
      );
    }
    return escapeNul(r);
  }
}
