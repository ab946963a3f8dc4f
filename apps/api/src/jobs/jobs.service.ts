import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type Operation, escapeNul, sanitizeForAudit, unknownKeys } from '@app/common';
import { GuardRepository } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { type Caller, Role, hasRole } from '../auth/roles';
import { MetricsService } from '../metrics/metrics.service';
import { ATTEMPTS, REFUSALS_UNRECORDED } from '../metrics/metric-names';
import { AuditUnavailableError } from './guard.errors';
import { type GuardDecision, GuardService } from './guard.service';
import { idProblem, parseStartBody } from './start-request';

export interface StartCall {
  servicePrincipalId: string;
  jobId: string;
  body: unknown;
  /** The query string: the start takes none, so any parameter is refused (a stray ?dryRun=true must not start). */
  query?: Record<string, unknown>;
  caller: Caller;
  requestId: string | null;
}

/** The start endpoint's checks before the guard: role, ids, body (each refusal is an attempt row). */
@Injectable()
export class JobsService {
  constructor(
    private readonly guard: GuardService,
    private readonly repo: GuardRepository,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(call: StartCall): Promise<GuardDecision> {
    const parsed = parseStartBody(call.body);
    const reason = parsed.ok ? parsed.value.reason : null;
    if (!hasRole(call.caller, Role.Start)) {
      return this.recordRefusal(call, 'denied', `Caller lacks the ${Role.Start} role`, reason);
    }
    const idError = idProblem(call.servicePrincipalId, call.jobId);
    if (idError) {
      return this.recordRefusal(call, 'rejected', idError, reason);
    }
    if (!parsed.ok) {
      return this.recordRefusal(call, 'rejected', parsed.message, null);
    }
    const stray = unknownKeys(call.query ?? {}, [], 'query parameter');
    if (stray) {
      return this.recordRefusal(
        call,
        'rejected',
        `${stray}; send reason and dryRun in the JSON body`,
        reason,
      );
    }
    return this.guard.decide({
      servicePrincipalId: call.servicePrincipalId.toLowerCase(),
      jobId: call.jobId,
      trigger: 'api',
      actor: call.caller.actor,
      reason: parsed.value.reason === null ? null : escapeNul(parsed.value.reason),
      dryRun: parsed.value.dryRun,
      requestId: call.requestId,
    });
  }

  /**
   * A refusal before the guard (no role, bad ids or body): one final attempt row, for every operation and door,
   * within the caller's refusal limit (past it, counted in metrics and not stored).
   */
  async recordRefusal(
    call: Pick<StartCall, 'servicePrincipalId' | 'jobId' | 'caller' | 'requestId'>,
    outcome: 'denied' | 'rejected',
    message: string,
    reason: string | null,
    control: { operation?: Operation; resetScope?: string[] } = {},
  ): Promise<GuardDecision> {
    try {
      const g = this.config.guard;
      const { attempt, stored } = await this.repo.recordFinal({
        attemptId: randomUUID(),
        servicePrincipalId: sanitizeForAudit(call.servicePrincipalId),
        jobId: sanitizeForAudit(call.jobId),
        trigger: 'api',
        actor: call.caller.actor,
        reason: reason === null ? null : escapeNul(reason),
        dryRun: false,
        requestId: call.requestId,
        replicaId: this.config.replicaId,
        outcome,
        observedStatus: null,
        message,
        retryAfterSeconds: null,
        operation: control.operation ?? 'start',
        resetScope: control.resetScope ?? [],
        refusalLimit: { perCaller: g.refusalsPerCaller, windowSeconds: g.refusalWindowSeconds },
      });
      this.metrics.counter(ATTEMPTS).inc({ outcome, trigger: 'api' });
      if (!stored) {
        this.metrics.counter(REFUSALS_UNRECORDED).inc({ outcome });
      }
      return { attempt, upstreamStatus: null, job: null };
    } catch (error) {
      throw new AuditUnavailableError('The audit store is unavailable; try again later', error);
    }
  }
}
