import { Injectable } from '@nestjs/common';
import { type Operation, escapeNul, unknownKeys } from '@app/common';
import type { HoldView } from '@app/persistence';
import { type Caller, Role, hasRole } from '../auth/roles';
import { type GuardDecision, GuardService } from '../jobs/guard.service';
import { JobsService } from '../jobs/jobs.service';
import { idProblem } from '../jobs/start-request';
import { HoldsService } from '../holds/holds.service';
import { parsePauseBody, parseRestartBody } from './control-policy';

/** One call of pause or restart, from the REST API or the Graph-compatible door. */
export interface ControlCall {
  servicePrincipalId: string;
  jobId: string;
  body: unknown;
  /** These operations take no query parameters: any is refused. */
  query?: Record<string, unknown>;
  caller: Caller;
  requestId: string | null;
}

export interface PauseDecision extends GuardDecision {
  /** The hold placed in the same step, when the body asked for one. */
  hold: HoldView | null;
}

/**
 * Guarded pause and restart (DESIGN 2c), as service methods so that every door (REST, Graph-compatible)
 * shares them. Each answers the same decision shape as the guarded start: an Attempt, recorded before acting.
 */
@Injectable()
export class JobControlService {
  constructor(
    private readonly guard: GuardService,
    private readonly jobs: JobsService,
    private readonly holds: HoldsService,
  ) {}

  /** Pause, in any status, single-flight with other operations; optionally placing a hold first. */
  async pause(call: ControlCall): Promise<PauseDecision> {
    const parsed = parsePauseBody(call.body, new Date());
    const reason = parsed.ok ? parsed.value.reason : null;
    const refusal = this.precheck(call, 'pause', reason, parsed.ok ? null : parsed.message);
    if (refusal) {
      return { ...(await refusal), hold: null };
    }
    if (!parsed.ok) {
      throw new Error('unreachable: the body was checked');
    }
    const servicePrincipalId = call.servicePrincipalId.toLowerCase();
    // The hold is placed before the pause is sent, so no start slips in between the two.
    const hold = parsed.value.hold
      ? await this.holds.placeChecked(servicePrincipalId, call.jobId, parsed.value.hold, call.caller)
      : null;
    const decision = await this.guard.decide({
      servicePrincipalId,
      jobId: call.jobId,
      trigger: 'api',
      actor: call.caller.actor,
      reason: reason === null ? null : escapeNul(reason),
      dryRun: false,
      requestId: call.requestId,
      operation: 'pause',
      holdId: hold?.holdId ?? null,
    });
    if (hold !== null && decision.attempt.outcome === 'not_found') {
      // Graph has no such job: the hold placed for it would only confuse; take it back.
      await this.holds.releaseChecked(hold.holdId, call.caller).catch(() => undefined);
      return { ...decision, hold: null };
    }
    return { ...decision, hold };
  }

  /** Restart with Graph's scopes; Full, Watermark and ForceDeletion wait for another Admin's approval. */
  async restart(call: ControlCall): Promise<GuardDecision> {
    const parsed = parseRestartBody(call.body);
    const reason = parsed.ok ? parsed.value.reason : this.looseReason(call.body);
    const refusal = this.precheck(call, 'restart', reason, parsed.ok ? null : parsed.message);
    if (refusal) {
      return refusal;
    }
    if (!parsed.ok) {
      throw new Error('unreachable: the body was checked');
    }
    return this.guard.decide({
      servicePrincipalId: call.servicePrincipalId.toLowerCase(),
      jobId: call.jobId,
      trigger: 'api',
      actor: call.caller.actor,
      reason: escapeNul(parsed.value.reason),
      dryRun: parsed.value.dryRun,
      requestId: call.requestId,
      operation: 'restart',
      resetScope: parsed.value.resetScope,
    });
  }

  /** Role, ids, body and query, in that order; a refusal is a final attempt row (denied or rejected). */
  private precheck(
    call: ControlCall,
    operation: Operation,
    reason: string | null,
    bodyProblem: string | null,
  ): Promise<GuardDecision> | null {
    if (!hasRole(call.caller, Role.Start)) {
      return this.jobs.recordRefusal(call, 'denied', `Caller lacks the ${Role.Start} role`, reason, {
        operation,
      });
    }
    const idError = idProblem(call.servicePrincipalId, call.jobId);
    if (idError) {
      return this.jobs.recordRefusal(call, 'rejected', idError, reason, { operation });
    }
    if (bodyProblem !== null) {
      return this.jobs.recordRefusal(call, 'rejected', bodyProblem, reason, { operation });
    }
    const stray = unknownKeys(call.query ?? {}, [], 'query parameter');
    if (stray) {
      return this.jobs.recordRefusal(
        call,
        'rejected',
        `${stray}; send the options in the JSON body`,
        reason,
        {
          operation,
        },
      );
    }
    return null;
  }

  private looseReason(body: unknown): string | null {
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const r = (body as Record<string, unknown>).reason;
      return typeof r === 'string' ? r.slice(0, 500) : null;
    }
    return null;
  }
}
