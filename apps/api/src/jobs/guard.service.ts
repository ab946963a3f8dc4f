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
import { ApprovalRepository, type ClaimRefusal, GuardRepository } from '@app/persistence';
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
  FINALISE_RETRY_DELAYS_MS,
  type GraphFailure,
  type StartPolicy,
  dryRunMessage,
  graphFailure,
  isStartable,
  startVerdict,
  startedMessage,
  describeStatus,
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
  /** Set when the claim refused the request (grant, cool-down, in flight, limit): the stable reason. */
  refusal?: ClaimRefusal;
}

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

/** What a decision has done so far, kept outside `run` so an unexpected exception still knows it. */
interface Progress {
  /** A start was handed to the Graph client and not proven unsent or refused: it may have taken effect. */
  startSent: boolean;
}

/** A POST is re-sent at most this many times, only when Graph proved it was not acted on. */
const MAX_START_RESENDS = 2;

/**
 * The guarded start of DESIGN section 3. Two database round trips (claim, finalise), no connection held while
 * Graph answers, one status read and at most one start unless Graph itself asks for a retry.
 */
@Injectable()
export class GuardService {
  private readonly logger = new Logger(GuardService.name);
  /** Waits for Graph's Retry-After and between finalise retries; replaceable in unit tests. */
  wait: (ms: number) => Promise<unknown> = sleep;
  /** The clock of the Graph time budget; replaceable in unit tests. */
  now: () => number = Date.now;

  constructor(
    private readonly repo: GuardRepository,
    private readonly graph: GraphClient,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly approvals: ApprovalRepository,
  ) {}

  async decide(req: GuardRequest): Promise<GuardDecision> {
    const startedAt = performance.now();
    const attemptId = randomUUID();
    const key = jobKey(req.servicePrincipalId, req.jobId);
    const g = this.config.guard;
    let claim;
    try {
      claim = await this.repo.claim({
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
        operation: req.operation ?? 'start',
        resetScope: req.resetScope ?? [],
        approvalId: req.approval?.approvalId ?? null,
        requestedBy: req.approval?.requestedBy ?? null,
        holdId: req.holdId ?? null,
      });
    } catch (error) {
      throw new AuditUnavailableError(error);
    }
    if (!claim.claimed) {
      if (!claim.stored) {
        this.metrics.counter(REFUSALS_UNRECORDED).inc({ outcome: claim.attempt.outcome });
      }
      this.count(claim.attempt.outcome, req.trigger, startedAt);
      return { attempt: claim.attempt, upstreamStatus: null, job: null, refusal: claim.refusal };
    }

    const requestIds: string[] = [];
    const progress: Progress = { startSent: false };
    let result: RunResult;
    try {
      result = await this.run(req, attemptId, requestIds, progress);
    } catch (error) {
      this.logger.error(
        `guard failed unexpectedly for attempt ${attemptId}: ${error instanceof Error ? error.stack : String(error)}`,
      );
      result = {
        outcome: 'unknown',
        message: progress.startSent
          ? 'The guard failed unexpectedly after a start was sent to Graph; the start may have taken effect, so the cool-down applies'
          : 'The guard failed unexpectedly before any start was sent to Graph; the job was not started by this attempt',
        retryAfterSeconds: null,
        upstreamStatus: null,
        observedStatus: null,
        quarantineReason: null,
        job: null,
        // An unexpected failure after the start went out counts as "the start may have been sent".
        startSent: progress.startSent,
      };
    }
    const durationMs = Math.round(performance.now() - startedAt);
    const finalise = {
      attemptId,
      jobKey: key,
      outcome: result.outcome,
      observedStatus: result.observedStatus,
      quarantineReason: result.quarantineReason,
      message: result.message,
      retryAfterSeconds: result.retryAfterSeconds,
      graphRequestIds: requestIds,
      durationMs,
      cooldownSeconds: result.startSent && g.startCooldownSeconds > 0 ? g.startCooldownSeconds : null,
      wouldStart: result.wouldStart ?? null,
      approvalId: result.approvalId ?? null,
    };
    for (let i = 0; ; i++) {
      try {
        const attempt = await this.repo.finalise(finalise);
        this.count(attempt.outcome, req.trigger, startedAt);
        return { attempt, upstreamStatus: result.upstreamStatus, job: result.job };
      } catch (error) {
        const delay = FINALISE_RETRY_DELAYS_MS[i];
        if (delay === undefined) {
          this.logger.error(
            `attempt ${attemptId} (${result.outcome}) could not be finalised: ${String(error)}`,
          );
          throw new AuditUnavailableError(error, {
            attemptId,
            outcome: result.outcome,
            startSent: result.startSent,
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

  private async read(
    ref: JobRef,
    ctx: GraphCallContext,
    requestIds: string[],
  ): Promise<SyncJob | GraphError> {
    try {
      const r = await this.graph.getJob(ref, ctx);
      requestIds.push(...r.requestIds);
      return r.value;
    } catch (error) {
      if (error instanceof GraphError) {
        requestIds.push(...error.requestIds);
        return error;
      }
      throw error;
    }
  }

  // ---------------------------------------------------------------- job control (DESIGN 2c)

  /** Writes the approval request; the operation waits for another Admin (no Graph call for it). */
  private async askApproval(
    req: GuardRequest,
    attemptId: string,
    why: string,
  ): Promise<{ failure: GraphFailure; approvalId: string }> {
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
    return {
      approvalId: approval.approvalId,
      failure: {
        outcome: 'awaiting_approval',
        message: `${why}. Approval ${approval.approvalId} waits for another Admin until ${approval.expiresAt}; nothing was sent to Graph`,
        retryAfterSeconds: null,
        upstreamStatus: null,
      },
    };
  }

  private async runPause(
    req: GuardRequest,
    ref: JobRef,
    ctx: GraphCallContext,
    requestIds: string[],
    seen: (job: SyncJob | null, failure: GraphFailure, startSent?: boolean) => RunResult,
    plain: (outcome: Outcome, message: string) => GraphFailure,
  ): Promise<RunResult> {
    const job = await this.read(ref, ctx, requestIds);
    if (job instanceof GraphError) {
      return seen(null, graphFailure(job, 'read'));
    }
    const held = req.holdId ? `; hold ${req.holdId} keeps it from being started or restarted` : '';
    if (req.dryRun) {
      return seen(job, plain('dry_run', `Dry run: job is ${describeStatus(job)}, so a pause would be sent`));
    }
    try {
      const r = await this.graph.pauseJob(ref, ctx);
      requestIds.push(...r.requestIds);
      return seen(
        job,
        plain('paused', `Pause sent: job was ${describeStatus(job)}; Graph accepted the pause${held}`),
      );
    } catch (error) {
      if (!(error instanceof GraphError)) {
        throw error;
      }
      requestIds.push(...error.requestIds);
      if (error.kind === 'lost' || error.kind === 'timeout') {
        const after = await this.read(ref, ctx, requestIds);
        if (!(after instanceof GraphError) && after.observedStatus === 'paused') {
          return seen(
            after,
            plain('paused', `${graphFailure(error, 'pause').message}, but the job now reads paused${held}`),
          );
        }
        return seen(
          after instanceof GraphError ? job : after,
          plain(
            'unknown',
            `${graphFailure(error, 'pause').message}; the pause may or may not have taken effect`,
          ),
        );
      }
      return seen(job, graphFailure(error, 'pause'));
    }
  }

  private async runRestart(
    req: GuardRequest,
    attemptId: string,
    ref: JobRef,
    ctx: GraphCallContext,
    requestIds: string[],
    seen: (job: SyncJob | null, failure: GraphFailure, startSent?: boolean) => RunResult,
    plain: (outcome: Outcome, message: string) => GraphFailure,
    progress: Progress,
  ): Promise<RunResult> {
    const scopes = req.resetScope ?? [];
    const approvalWhy = req.trigger === 'approval' ? null : restartApprovalWhy(scopes);
    if (approvalWhy && !req.dryRun) {
      // No Graph call at all until another Admin approves.
      const asked = await this.askApproval(req, attemptId, approvalWhy);
      return { ...seen(null, asked.failure), approvalId: asked.approvalId };
    }
    const job = await this.read(ref, ctx, requestIds);
    if (job instanceof GraphError) {
      return seen(null, graphFailure(job, 'read'));
    }
    if (!isRestartable(job.observedStatus)) {
      return seen(
        job,
        plain(
          'skipped',
          `Job is ${describeStatus(job)}; restart is only allowed when paused, in quarantine or active`,
        ),
      );
    }
    const what = `restart (${scopes.join(', ')})`;
    if (req.dryRun) {
      return seen(
        job,
        plain(
          'dry_run',
          `Dry run: job is ${describeStatus(job)}, so a ${what} would be sent${approvalWhy ? `, once another Admin approves it. ${approvalWhy}` : ''}`,
        ),
      );
    }
    if (
      ctx.deadline !== undefined &&
      ctx.deadline - this.now() < minWriteBudgetMs(this.config.graph.timeoutMs)
    ) {
      return seen(job, {
        outcome: 'upstream_error',
        message:
          "The guard's Graph time budget was used up before the restart could be sent; the restart was not sent to Graph",
        retryAfterSeconds: null,
        upstreamStatus: 504,
      });
    }
    try {
      // From here an unexpected failure counts as "the restart may have been sent" (cool-down).
      progress.startSent = true;
      const r = await this.graph.restartJob(ref, scopes.map(toGraphScope), ctx);
      requestIds.push(...r.requestIds);
      return seen(
        job,
        plain('restarted', `Restart sent: job was ${describeStatus(job)}; Graph accepted the ${what}`),
        true,
      );
    } catch (error) {
      if (!(error instanceof GraphError)) {
        throw error;
      }
      requestIds.push(...error.requestIds);
      if (error.kind === 'lost' || error.kind === 'timeout') {
        // Never re-sent: a lost restart may have been acted on; the cool-down applies.
        return seen(
          job,
          plain(
            'unknown',
            `${graphFailure(error, 'restart').message}; the restart may have taken effect and is not sent again`,
          ),
          true,
        );
      }
      return seen(
        job,
        graphFailure(error, 'restart'),
        error.kind === 'unavailable' && error.details.status !== undefined && !error.details.notActedOn,
      );
    }
  }

  // ---------------------------------------------------------------- end job control

  private async run(
    req: GuardRequest,
    attemptId: string,
    requestIds: string[],
    progress: Progress,
  ): Promise<RunResult> {
    const ref: JobRef = { servicePrincipalId: req.servicePrincipalId, jobId: req.jobId };
    const deadline = this.now() + this.config.graph.budgetMs;
    const leastToSend = minWriteBudgetMs(this.config.graph.timeoutMs);
    const ctx: GraphCallContext = { clientRequestId: req.requestId ?? attemptId, deadline };
    const seen = (job: SyncJob | null, failure: GraphFailure, startSent = false): RunResult => ({
      ...failure,
      observedStatus: job?.observedStatus ?? null,
      quarantineReason: job?.quarantine?.reason ?? null,
      job,
      startSent,
    });
    const plain = (outcome: Outcome, message: string): GraphFailure => ({
      outcome,
      message,
      retryAfterSeconds: null,
      upstreamStatus: null,
    });
    const notSent = (job: SyncJob, why: string): RunResult =>
      seen(job, {
        outcome: 'upstream_error',
        message: `${why}; the start was not sent to Graph`,
        retryAfterSeconds: null,
        upstreamStatus: 504,
      });

    // ---- job control (DESIGN 2c): pause and restart have their own steps.
    if (req.operation === 'pause') {
      return this.runPause(req, ref, ctx, requestIds, seen, plain);
    }
    if (req.operation === 'restart') {
      return this.runRestart(req, attemptId, ref, ctx, requestIds, seen, plain, progress);
    }
    // ---- end job control

    // Step 6: the fresh status.
    let job = await this.read(ref, ctx, requestIds);
    if (job instanceof GraphError) {
      return seen(null, graphFailure(job, 'read'));
    }
    // Step 7: the one complete decision (status, the caller's policy and the two-person rule), on this read and on
    // every re-read.
    const approvalRule = req.trigger === 'api' ? startApprovalWhy : undefined;
    const verdict = startVerdict(job, req.policy, approvalRule);
    if (req.dryRun) {
      // A dry run is always answered as such, with whether the start would be sent and why.
      const refusal = verdict.allowed
        ? null
        : verdict.approvalWhy
          ? `${verdict.approvalWhy}; it is sent once another Admin approves it`
          : verdict.message;
      return { ...seen(job, plain('dry_run', dryRunMessage(job, refusal))), wouldStart: verdict.allowed };
    }
    if (!verdict.allowed && verdict.approvalWhy) {
      const asked = await this.askApproval(req, attemptId, verdict.approvalWhy);
      return { ...seen(job, asked.failure), approvalId: asked.approvalId };
    }
    if (!verdict.allowed) {
      return seen(job, plain('skipped', verdict.message));
    }
    // Step 8: the start. Never re-sent blindly: only when Graph's answer proves it was not acted on
    // (429, or 503 with Retry-After), and only after re-reading the status.
    for (let resends = 0; ; resends++) {
      const before: SyncJob = job;
      if (deadline - this.now() < leastToSend) {
        return notSent(before, "The guard's Graph time budget was used up before the start could be sent");
      }
      try {
        progress.startSent = true;
        const r = await this.graph.startJob(ref, ctx);
        requestIds.push(...r.requestIds);
        return seen(before, plain('started', startedMessage(before)), true);
      } catch (error) {
        if (!(error instanceof GraphError)) {
          throw error;
        }
        requestIds.push(...error.requestIds);
        if (error.details.notSent) {
          progress.startSent = false;
          const failure = graphFailure(error, 'start');
          return seen(before, { ...failure, message: `${failure.message}; the start was not sent to Graph` });
        }
        if (error.details.notActedOn) {
          progress.startSent = false;
          const waitMs = Math.max(1, error.details.retryAfterSeconds ?? 1) * 1000;
          if (resends >= MAX_START_RESENDS || this.now() + waitMs + leastToSend > deadline) {
            return seen(before, graphFailure(error, 'start'));
          }
          await this.wait(waitMs);
          const again = await this.read(ref, ctx, requestIds);
          if (again instanceof GraphError) {
            return seen(before, graphFailure(again, 'read'));
          }
          const reread = startVerdict(again, req.policy, approvalRule);
          if (!reread.allowed) {
            return seen(
              again,
              plain(
                'skipped',
                `While the start waited for Graph's Retry-After the job changed: ${reread.message}; not sent again`,
              ),
            );
          }
          job = again;
          continue;
        }
        if (error.kind === 'lost' || error.kind === 'timeout' || error.kind === 'unavailable') {
          // The start may have been acted on: re-read the status instead of posting again.
          const after = await this.read(ref, ctx, requestIds);
          if (after instanceof GraphError) {
            return seen(
              before,
              plain(
                'unknown',
                `${graphFailure(error, 'start').message}, and the status could not be re-read; the start may or may not have taken effect`,
              ),
              true,
            );
          }
          if (!isStartable(after.observedStatus)) {
            return seen(
              after,
              plain(
                'started',
                `${graphFailure(error, 'start').message}, but the job now reads ${describeStatus(after)}: the start took effect`,
              ),
              true,
            );
          }
          if (error.kind === 'unavailable') {
            // Graph answered (500/502/503): it may still have acted while reporting the old status, so the
            // cool-down applies all the same.
            return seen(after, graphFailure(error, 'start'), error.details.status !== undefined);
          }
          return seen(
            after,
            plain(
              'unknown',
              `${graphFailure(error, 'start').message} and the job still reads ${describeStatus(after)}; not sent again, to avoid starting a running job`,
            ),
            true,
          );
        }
        // Graph answered and refused (403, 404, 400...): nothing was acted on.
        progress.startSent = false;
        return seen(before, graphFailure(error, 'start'));
      }
    }
  }
}
