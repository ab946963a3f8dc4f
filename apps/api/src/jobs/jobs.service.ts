import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DomainError,
  ErrorCode,
  type Operation,
  type QuarantineClock,
  escapeNul,
  quarantineClock,
  sanitizeForAudit,
  unknownKeys,
} from '@app/common';
import { GraphClient, type SyncJob } from '@app/graph';
import { GuardRepository, HoldRepository, type HoldView, holdApplying } from '@app/persistence';
import { isEscrowPause } from '../control/control-policy';
import type { ControlCall } from '../control/job-control.service';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { Role, hasRole } from '../auth/roles';
import { MetricsService } from '../metrics/metrics.service';
import { ATTEMPTS, REFUSALS_UNRECORDED } from '../metrics/metric-names';
import { AuditUnavailableError } from './guard.errors';
import { readFromGraph } from './graph-read-error';
import { type GuardDecision, GuardService } from './guard.service';
import { idProblem, parseStartBody } from './start-request';

export interface JobView extends SyncJob {
  servicePrincipalId: string;
  // ---- job control (DESIGN 2c)
  /** From Graph's status.quarantine: since (seriesBegan), nextEntraRetry (nextAttempt), autoDisableAt (+28 days). */
  quarantineClock: QuarantineClock;
  /** Paused by Graph itself after pruning escrows (escrowsPruned), not by a person: never started by recovery. */
  escrowPause: boolean;
  /** The hold that applies to the job now, if any. */
  hold: HoldView | null;
}

function toJobView(servicePrincipalId: string, job: SyncJob, holds: HoldView[]): JobView {
  return {
    servicePrincipalId,
    ...job,
    quarantineClock: quarantineClock(job.quarantine),
    escrowPause: isEscrowPause(job),
    hold: holdApplying(holds, servicePrincipalId, job.id),
  };
}

/** What the job endpoints need of their collaborators (unit tests pass fakes that implement exactly this). */
export type GuardDecider = Pick<GuardService, 'decide'>;
export type RefusalRecorder = Pick<GuardRepository, 'recordFinal'>;
export type JobReader = Pick<GraphClient, 'getJob' | 'listJobs'>;
export type ActiveHolds = Pick<HoldRepository, 'activeFor'>;
export type AttemptCounters = Pick<MetricsService, 'counter'>;

/**
 * One start, from the REST API or the Graph-compatible door: the same shape as a pause or restart. The start
 * takes no query parameters, so any is refused (a stray ?dryRun=true must not start).
 */
export type StartCall = ControlCall;

/**
 * The job endpoints: the start's checks before the guard (role, ids, body; each refusal is an attempt row), and
 * the live job views (Graph's job with the hold that applies to it).
 */
@Injectable()
export class JobsService {
  constructor(
    @Inject(GuardService) private readonly guard: GuardDecider,
    @Inject(GuardRepository) private readonly repo: RefusalRecorder,
    @Inject(MetricsService) private readonly metrics: AttemptCounters,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(GraphClient) private readonly graph: JobReader,
    @Inject(HoldRepository) private readonly holds: ActiveHolds,
  ) {}

  /** The service principal's jobs from Graph, each with the hold that applies to it now. */
  async list(servicePrincipalId: string, requestId: string | null): Promise<JobView[]> {
    this.checkIds(servicePrincipalId, 'x');
    const [r, holds] = await Promise.all([
      readFromGraph(() =>
        this.graph.listJobs(servicePrincipalId, { clientRequestId: requestId ?? undefined }),
      ),
      this.holds.activeFor([servicePrincipalId]),
    ]);
    return r.value.map((j) => toJobView(servicePrincipalId, j, holds));
  }

  /** One job's live status from Graph, with the hold that applies to it now (the database down is a 503). */
  async get(servicePrincipalId: string, jobId: string, requestId: string | null): Promise<JobView> {
    this.checkIds(servicePrincipalId, jobId);
    const [r, holds] = await Promise.all([
      readFromGraph(() =>
        this.graph.getJob({ servicePrincipalId, jobId }, { clientRequestId: requestId ?? undefined }),
      ),
      this.holds.activeFor([servicePrincipalId]),
    ]);
    return toJobView(servicePrincipalId, r.value, holds);
  }

  private checkIds(servicePrincipalId: string, jobId: string): void {
    const problem = idProblem(servicePrincipalId, jobId);
    if (problem) {
      throw new DomainError(ErrorCode.INVALID_INPUT, problem);
    }
  }

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
      throw new AuditUnavailableError(error);
    }
  }
}
