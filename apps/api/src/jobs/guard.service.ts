import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Actor,
  type AttemptView,
  type ObservedStatus,
  type Operation,
  type Outcome,
  type Trigger,
  jobKey,
} from '@app/common';
import {
  GraphClient,
  GraphError,
  minWriteBudgetMs,
  type GraphCallContext,
  type JobRef,
  type SyncJob,
} from '@app/graph';
import {
  ApprovalRepository,
  type ClaimInput,
  type ClaimRefusal,
  type ClaimResult,
  type FinaliseInput,
  GuardRepository,
  type GuardStore,
} from '@app/persistence';
import {
  type ResetScope,
  isRestartable,
  restartApprovalWhy,
  startApprovalWhy,
  toGraphScope,
} from '../control/control-policy';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { ATTEMPTS, GUARD_DURATION, REFUSALS_UNRECORDED } from '../metrics/metric-names';
import { AuditUnavailableError } from './guard.errors';
import {
  CLAIM_WORDING,
  FINALISE_RETRY_DELAYS_MS,
  type GraphFailure,
  type StartPolicy,
  type StartVerdict,
  awaitingApproval,
  dryRunMessage,
  graphFailure,
  isStartable,
  say,
  startVerdict,
  startedMessage,
  unexpectedFailure,
} from './guard-policy';

export interface GuardRequest extends JobRef {
  trigger: Trigger;
  actor: Actor;
  reason: string | null;
  dryRun: boolean;
  requestId: string | null;
  /**
   * The caller's own rule (recovery: quarantine only, never a reason that needs a person), applied with the status
   * rule to the first read and to every re-read of the decision (guard-policy `startVerdict`).
   */
  policy?: StartPolicy;
  // ---- job control (DESIGN 2c)
  /** Default `start`. */
  operation?: Operation;
  /** Restart: the scopes, by our names. */
  resetScope?: ResetScope[];
  /** Trigger `approval`: the approval it runs under and who asked for it (the actor is the approver). */
  approval?: { approvalId: string; requestedBy: { id: string; name: string | null } };
  /** A pause that placed a hold in the same step. */
  holdId?: string | null;
}

export interface GuardDecision {
  attempt: AttemptView;
  /** 503/504 when Graph said so, for the HTTP status of upstream_error. */
  upstreamStatus: number | null;
  /** The job as last read from Graph during this decision, when it was read. */
  job: SyncJob | null;
  /** Set when the claim refused the request (grant, hold, cool-down, in flight, limit): the stable reason. */
  refusal?: ClaimRefusal;
}

/** What the guard needs of approvals: asking for one. */
export type ApprovalRequests = Pick<ApprovalRepository, 'create'>;

interface RunResult extends GraphFailure {
  observedStatus: ObservedStatus | null;
  quarantineReason: string | null;
  job: SyncJob | null;
  /** A start was sent (its answer may have been lost): the cool-down applies. */
  startSent: boolean;
  /** Dry runs: whether the start would have been sent. */
  wouldStart?: boolean;
  /** Outcome awaiting_approval: the approval request written. */
  approvalId?: string | null;
}

/** One decision's exchange with Graph, kept outside the steps so an unexpected exception still knows it. */
interface Exchange {
  ref: JobRef;
  ctx: GraphCallContext & { deadline: number };
  /** Graph's request ids of every call, for the attempt row. */
  requestIds: string[];
  /** A start (or restart) was handed to the Graph client and not proven unsent or refused: it may have taken effect. */
  startSent: boolean;
}

/** A POST is re-sent at most this many times, only when Graph proved it was not acted on. */
const MAX_START_RESENDS = 2;

/** The result of a decision step, with what was last read of the job. */
function seen(job: SyncJob | null, failure: GraphFailure, startSent = false): RunResult {
  return {
    ...failure,
    observedStatus: job?.observedStatus ?? null,
    quarantineReason: job?.quarantine?.reason ?? null,
    job,
    startSent,
  };
}

/** An outcome with its message, no Retry-After and the outcome's own HTTP status. */
function plain(outcome: Outcome, message: string): GraphFailure {
  return { outcome, message, retryAfterSeconds: null, upstreamStatus: null };
}

/** The budget ran out before sending: upstream_error 504, nothing sent. */
function budgetUsedUp(job: SyncJob, what: 'start' | 'restart'): RunResult {
  return seen(job, { ...plain('upstream_error', say.budgetUsedUp(what)), upstreamStatus: 504 });
}

/**
 * The guarded start of DESIGN section 3 (and the guarded pause and restart of 2c). Two database round trips
 * (claim, finalise), no connection held while Graph answers, one status read and at most one start unless Graph
 * itself asks for a retry. Every message it writes comes from guard-policy.
 */
@Injectable()
export class GuardService {
  private readonly logger = new Logger(GuardService.name);
  /** Waits for Graph's Retry-After and between finalise retries; replaceable in unit tests. */
  wait: (ms: number) => Promise<unknown> = sleep;
  /** The clock of the Graph time budget; replaceable in unit tests. */
  now: () => number = Date.now;

  constructor(
    @Inject(GuardRepository) private readonly repo: GuardStore,
    private readonly graph: GraphClient,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ApprovalRepository) private readonly approvals: ApprovalRequests,
  ) {}

  async decide(req: GuardRequest): Promise<GuardDecision> {
    const startedAt = performance.now();
    const attemptId = randomUUID();
    const key = jobKey(req.servicePrincipalId, req.jobId);
    const claim = await this.claim(this.claimInput(req, attemptId, key));
    if (!claim.claimed) {
      if (!claim.stored) {
        this.metrics.counter(REFUSALS_UNRECORDED).inc({ outcome: claim.attempt.outcome });
      }
      this.count(claim.attempt.outcome, req.trigger, startedAt);
      return { attempt: claim.attempt, upstreamStatus: null, job: null, refusal: claim.refusal.kind };
    }
    const x: Exchange = {
      ref: { servicePrincipalId: req.servicePrincipalId, jobId: req.jobId },
      ctx: { clientRequestId: req.requestId ?? attemptId, deadline: this.now() + this.config.graph.budgetMs },
      requestIds: [],
      startSent: false,
    };
    const result = await this.runSafely(req, attemptId, x);
    const cooldown = this.config.guard.startCooldownSeconds;
    const attempt = await this.finalise(
      {
        attemptId,
        jobKey: key,
        outcome: result.outcome,
        observedStatus: result.observedStatus,
        quarantineReason: result.quarantineReason,
        message: result.message,
        retryAfterSeconds: result.retryAfterSeconds,
        graphRequestIds: x.requestIds,
        durationMs: Math.round(performance.now() - startedAt),
        cooldownSeconds: result.startSent && cooldown > 0 ? cooldown : null,
        wouldStart: result.wouldStart ?? null,
        approvalId: result.approvalId ?? null,
      },
      result.startSent,
    );
    this.count(attempt.outcome, req.trigger, startedAt);
    return { attempt, upstreamStatus: result.upstreamStatus, job: result.job };
  }

  // ---------------------------------------------------------------- the two round trips

  private claimInput(req: GuardRequest, attemptId: string, key: string): ClaimInput {
    const g = this.config.guard;
    return {
      attemptId,
      jobKey: key,
      servicePrincipalId: req.servicePrincipalId,
      jobId: req.jobId,
      trigger: req.trigger,
      actor: req.actor,
      reason: req.reason,
      dryRun: req.dryRun,
      requestId: req.requestId,
      replicaId: this.config.replicaId,
      limit: g.rateLimitPerJob,
      windowSeconds: g.rateLimitWindowSeconds,
      leaseSeconds: g.leaseSeconds,
      cooldownSeconds: g.startCooldownSeconds,
      grantPrincipalId: req.actor.type === 'scheduler' ? null : req.actor.id,
      requireGrants: this.config.requireGrants,
      refusalLimit: { perCaller: g.refusalsPerCaller, windowSeconds: g.refusalWindowSeconds },
      wording: CLAIM_WORDING,
      operation: req.operation ?? 'start',
      resetScope: req.resetScope ?? [],
      approvalId: req.approval?.approvalId ?? null,
      requestedBy: req.approval?.requestedBy ?? null,
      holdId: req.holdId ?? null,
    };
  }

  /** Fails closed: when the claim cannot be written, nothing is sent to Graph (503). */
  private async claim(input: ClaimInput): Promise<ClaimResult> {
    try {
      return await this.repo.claim(input);
    } catch (error) {
      throw new AuditUnavailableError(error);
    }
  }

  /** Retries while the database blinks; past the last retry the answer is 503 and the reconciler settles the row. */
  private async finalise(input: FinaliseInput, startSent: boolean): Promise<AttemptView> {
    for (let i = 0; ; i++) {
      try {
        return await this.repo.finalise(input);
      } catch (error) {
        const delay = FINALISE_RETRY_DELAYS_MS[i];
        if (delay === undefined) {
          this.logger.error(
            `attempt ${input.attemptId} (${input.outcome}) could not be finalised: ${String(error)}`,
          );
          throw new AuditUnavailableError(error, {
            attemptId: input.attemptId,
            outcome: input.outcome,
            startSent,
          });
        }
        await this.wait(delay);
      }
    }
  }

  private count(outcome: Outcome | 'pending', trigger: Trigger, startedAt: number): void {
    this.metrics.counter(ATTEMPTS).inc({ outcome, trigger });
    this.metrics.histogram(GUARD_DURATION).observe({ outcome }, (performance.now() - startedAt) / 1000);
  }

  // ---------------------------------------------------------------- the decision, once claimed

  /** An unexpected exception becomes an `unknown` outcome, never an unfinalised row. */
  private async runSafely(req: GuardRequest, attemptId: string, x: Exchange): Promise<RunResult> {
    try {
      return await this.run(req, attemptId, x);
    } catch (error) {
      this.logger.error(
        `guard failed unexpectedly for attempt ${attemptId}: ${error instanceof Error ? error.stack : String(error)}`,
      );
      // After the start went out, an unexpected failure counts as "the start may have been sent".
      return seen(null, plain('unknown', unexpectedFailure(x.startSent)), x.startSent);
    }
  }

  private run(req: GuardRequest, attemptId: string, x: Exchange): Promise<RunResult> {
    switch (req.operation ?? 'start') {
      case 'start':
        return this.runStart(req, attemptId, x);
      case 'pause':
        return this.runPause(req, x);
      case 'restart':
        return this.runRestart(req, attemptId, x);
    }
  }

  private async read(x: Exchange): Promise<SyncJob | GraphError> {
    try {
      const r = await this.graph.getJob(x.ref, x.ctx);
      x.requestIds.push(...r.requestIds);
      return r.value;
    } catch (error) {
      if (error instanceof GraphError) {
        x.requestIds.push(...error.requestIds);
        return error;
      }
      throw error;
    }
  }

  /** Whether the rest of the Graph budget still allows a write (MIN_WRITE_BUDGET_MS). */
  private canSend(x: Exchange, waitMs = 0): boolean {
    return x.ctx.deadline - this.now() - waitMs >= minWriteBudgetMs(this.config.graph.timeoutMs);
  }

  /** Steps 6 and 7: the fresh status and the one complete decision, then step 8. */
  private async runStart(req: GuardRequest, attemptId: string, x: Exchange): Promise<RunResult> {
    const job = await this.read(x);
    if (job instanceof GraphError) {
      return seen(null, graphFailure(job, 'read'));
    }
    // Status, the caller's policy and the two-person rule, on this read and on every re-read.
    const approvalRule = req.trigger === 'api' ? startApprovalWhy : undefined;
    const recheck = (j: SyncJob): StartVerdict => startVerdict(j, req.policy, approvalRule);
    const verdict = recheck(job);
    if (req.dryRun) {
      // A dry run is always answered as such, with whether the start would be sent and why.
      return { ...seen(job, plain('dry_run', dryRunMessage(job, verdict))), wouldStart: verdict.allowed };
    }
    if (!verdict.allowed && verdict.approvalWhy) {
      return this.askApproval(req, attemptId, verdict.approvalWhy, job);
    }
    if (!verdict.allowed) {
      return seen(job, plain('skipped', verdict.message));
    }
    return this.sendStart(x, job, recheck);
  }

  /**
   * Step 8: the start. Never re-sent blindly: only when Graph's answer proves it was not acted on (429, or 503
   * with Retry-After), and only after re-reading the status under the same decision.
   */
  private async sendStart(
    x: Exchange,
    first: SyncJob,
    recheck: (job: SyncJob) => StartVerdict,
  ): Promise<RunResult> {
    let job = first;
    for (let resends = 0; ; resends++) {
      if (!this.canSend(x)) {
        return budgetUsedUp(job, 'start');
      }
      try {
        x.startSent = true;
        const r = await this.graph.startJob(x.ref, x.ctx);
        x.requestIds.push(...r.requestIds);
        return seen(job, plain('started', startedMessage(job)), true);
      } catch (error) {
        if (!(error instanceof GraphError)) {
          throw error;
        }
        x.requestIds.push(...error.requestIds);
        if (!error.details.notActedOn || error.details.notSent) {
          return this.startFailed(x, job, error);
        }
        x.startSent = false;
        const next = await this.rereadBeforeResend(x, job, error, resends, recheck);
        if ('result' in next) {
          return next.result;
        }
        job = next.again;
      }
    }
  }

  /** Graph proved the start was not acted on: wait its Retry-After, re-read and decide again, or give up. */
  private async rereadBeforeResend(
    x: Exchange,
    before: SyncJob,
    error: GraphError,
    resends: number,
    recheck: (job: SyncJob) => StartVerdict,
  ): Promise<{ again: SyncJob } | { result: RunResult }> {
    const waitMs = Math.max(1, error.details.retryAfterSeconds ?? 1) * 1000;
    if (resends >= MAX_START_RESENDS || !this.canSend(x, waitMs)) {
      return { result: seen(before, graphFailure(error, 'start')) };
    }
    await this.wait(waitMs);
    const again = await this.read(x);
    if (again instanceof GraphError) {
      return { result: seen(before, graphFailure(again, 'read')) };
    }
    const verdict = recheck(again);
    if (!verdict.allowed) {
      return { result: seen(again, plain('skipped', say.changedWhileWaiting(verdict.message))) };
    }
    return { again };
  }

  /** A start Graph did not accept, other than a proven "not acted on". */
  private async startFailed(x: Exchange, before: SyncJob, error: GraphError): Promise<RunResult> {
    if (error.details.notSent) {
      x.startSent = false;
      const failure = graphFailure(error, 'start');
      return seen(before, { ...failure, message: say.notSent(failure.message) });
    }
    if (error.kind === 'lost' || error.kind === 'timeout' || error.kind === 'unavailable') {
      return this.settleStart(x, before, error);
    }
    // Graph answered and refused (403, 404, 400...): nothing was acted on.
    x.startSent = false;
    return seen(before, graphFailure(error, 'start'));
  }

  /** The start may have been acted on (answer lost, timed out, 5xx): re-read the status instead of posting again. */
  private async settleStart(x: Exchange, before: SyncJob, error: GraphError): Promise<RunResult> {
    const failure = graphFailure(error, 'start');
    const after = await this.read(x);
    if (after instanceof GraphError) {
      return seen(before, plain('unknown', say.startUnsettled(failure.message)), true);
    }
    if (!isStartable(after.observedStatus)) {
      return seen(after, plain('started', say.startTookEffect(failure.message, after)), true);
    }
    if (error.kind === 'unavailable') {
      // Graph answered (500/502/503): it may still have acted while reporting the old status, so the
      // cool-down applies all the same.
      return seen(after, failure, error.details.status !== undefined);
    }
    return seen(after, plain('unknown', say.startStillReads(failure.message, after)), true);
  }

  // ---------------------------------------------------------------- job control (DESIGN 2c)

  /** Writes the approval request; the operation waits for another Admin (no Graph call for it). */
  private async askApproval(
    req: GuardRequest,
    attemptId: string,
    why: string,
    job: SyncJob | null,
  ): Promise<RunResult> {
    const approval = await this.approvals.create({
      approvalId: randomUUID(),
      servicePrincipalId: req.servicePrincipalId,
      jobId: req.jobId,
      operation: req.operation ?? 'start',
      resetScope: req.resetScope ?? [],
      reason: req.reason,
      why,
      ttlSeconds: this.config.approvalTtlSeconds,
      requestedBy: req.actor,
      requestAttemptId: attemptId,
    });
    const message = awaitingApproval(why, approval.approvalId, approval.expiresAt);
    return { ...seen(job, plain('awaiting_approval', message)), approvalId: approval.approvalId };
  }

  private async runPause(req: GuardRequest, x: Exchange): Promise<RunResult> {
    const job = await this.read(x);
    if (job instanceof GraphError) {
      return seen(null, graphFailure(job, 'read'));
    }
    if (req.dryRun) {
      return seen(job, plain('dry_run', say.pauseDryRun(job)));
    }
    const holdId = req.holdId ?? null;
    try {
      const r = await this.graph.pauseJob(x.ref, x.ctx);
      x.requestIds.push(...r.requestIds);
      return seen(job, plain('paused', say.paused(job, holdId)));
    } catch (error) {
      if (!(error instanceof GraphError)) {
        throw error;
      }
      x.requestIds.push(...error.requestIds);
      if (error.kind !== 'lost' && error.kind !== 'timeout') {
        return seen(job, graphFailure(error, 'pause'));
      }
      // A lost pause is settled by re-reading, like a lost start.
      const failure = graphFailure(error, 'pause').message;
      const after = await this.read(x);
      if (!(after instanceof GraphError) && after.observedStatus === 'paused') {
        return seen(after, plain('paused', say.pauseLostButPaused(failure, holdId)));
      }
      return seen(after instanceof GraphError ? job : after, plain('unknown', say.pauseUnsettled(failure)));
    }
  }

  private async runRestart(req: GuardRequest, attemptId: string, x: Exchange): Promise<RunResult> {
    const scopes = req.resetScope ?? [];
    const approvalWhy = req.trigger === 'approval' ? null : restartApprovalWhy(scopes);
    if (approvalWhy && !req.dryRun) {
      // No Graph call at all until another Admin approves.
      return this.askApproval(req, attemptId, approvalWhy, null);
    }
    const job = await this.read(x);
    if (job instanceof GraphError) {
      return seen(null, graphFailure(job, 'read'));
    }
    if (!isRestartable(job.observedStatus)) {
      return seen(job, plain('skipped', say.notRestartable(job)));
    }
    const what = `restart (${scopes.join(', ')})`;
    if (req.dryRun) {
      return seen(job, plain('dry_run', say.restartDryRun(job, what, approvalWhy)));
    }
    if (!this.canSend(x)) {
      return budgetUsedUp(job, 'restart');
    }
    try {
      // From here an unexpected failure counts as "the restart may have been sent" (cool-down).
      x.startSent = true;
      const r = await this.graph.restartJob(x.ref, scopes.map(toGraphScope), x.ctx);
      x.requestIds.push(...r.requestIds);
      return seen(job, plain('restarted', say.restarted(job, what)), true);
    } catch (error) {
      if (!(error instanceof GraphError)) {
        throw error;
      }
      x.requestIds.push(...error.requestIds);
      if (error.kind === 'lost' || error.kind === 'timeout') {
        // Never re-sent: a lost restart may have been acted on; the cool-down applies.
        return seen(
          job,
          plain('unknown', say.restartUnsettled(graphFailure(error, 'restart').message)),
          true,
        );
      }
      const mayHaveActed =
        error.kind === 'unavailable' && error.details.status !== undefined && !error.details.notActedOn;
      return seen(job, graphFailure(error, 'restart'), mayHaveActed);
    }
  }
}
