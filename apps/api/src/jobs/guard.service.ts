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
import { GraphClient, GraphError, type GraphCallContext, type JobRef, type SyncJob } from '@app/graph';
import { ApprovalRepository, GuardRepository } from '@app/persistence';
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
import { ATTEMPTS, GUARD_DURATION } from '../metrics/metric-names';
import { AuditUnavailableError } from './guard.errors';
import {
  type GraphFailure,
  dryRunMessage,
  graphFailure,
  isStartable,
  skipMessage,
  startedMessage,
  describeStatus,
} from './guard-policy';

export interface GuardRequest extends JobRef {
  trigger: Trigger;
  actor: Actor;
  reason: string | null;
  dryRun: boolean;
  requestId: string | null;
  /** Extra rule applied to the fresh status (recovery: quarantine only, reasons that need a person). */
  policy?: (job: SyncJob) => string | null;
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
}

interface RunResult extends GraphFailure {
  observedStatus: ObservedStatus | null;
  quarantineReason: string | null;
  job: SyncJob | null;
  /** A start was sent (its answer may have been lost): the cool-down applies. */
  startSent: boolean;
  /** Outcome awaiting_approval: the approval request written. */
  approvalId?: string | null;
}

/** Retries of the finalising write when the database blinks between the claim and the end of a decision. */
const FINALISE_RETRY_DELAYS_MS = [100, 400, 1000];
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
        operation: req.operation ?? 'start',
        resetScope: req.resetScope ?? [],
        approvalId: req.approval?.approvalId ?? null,
        requestedBy: req.approval?.requestedBy ?? null,
        holdId: req.holdId ?? null,
      });
    } catch (error) {
      throw new AuditUnavailableError(
        'The audit store is unavailable, so nothing was sent to Graph; try again later',
        error,
      );
    }
    if (!claim.claimed) {
      this.count(claim.attempt.outcome, req.trigger, startedAt);
      return { attempt: claim.attempt, upstreamStatus: null, job: null };
    }

    const requestIds: string[] = [];
    let result: RunResult;
    try {
      result = await this.run(req, attemptId, requestIds);
    } catch (error) {
      this.logger.error(
        `guard failed unexpectedly for attempt ${attemptId}: ${error instanceof Error ? error.stack : String(error)}`,
      );
      result = {
        outcome: 'unknown',
        message:
          'The guard failed unexpectedly; the job was not started by this attempt unless a start was sent',
        retryAfterSeconds: null,
        upstreamStatus: null,
        observedStatus: null,
        quarantineReason: null,
        job: null,
        startSent: false,
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
          throw new AuditUnavailableError(
            `The decision was made (${result.outcome}) but the audit store became unavailable before it was recorded; attempt ${attemptId} will be settled when it is back`,
            error,
          );
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
    try {
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

  private async run(req: GuardRequest, attemptId: string, requestIds: string[]): Promise<RunResult> {
    const ref: JobRef = { servicePrincipalId: req.servicePrincipalId, jobId: req.jobId };
    const deadline = Date.now() + this.config.graph.budgetMs;
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

    // ---- job control (DESIGN 2c): pause and restart have their own steps.
    if (req.operation === 'pause') {
      return this.runPause(req, ref, ctx, requestIds, seen, plain);
    }
    if (req.operation === 'restart') {
      return this.runRestart(req, attemptId, ref, ctx, requestIds, seen, plain);
    }
    // ---- end job control

    // Step 6: the fresh status.
    let job = await this.read(ref, ctx, requestIds);
    if (job instanceof GraphError) {
      return seen(null, graphFailure(job, 'read'));
    }
    // Step 7: only paused or quarantined jobs may be started.
    if (!isStartable(job.observedStatus)) {
      return seen(job, plain('skipped', skipMessage(job)));
    }
    const refusal = req.policy?.(job);
    if (refusal) {
      return seen(job, plain('skipped', refusal));
    }
    // Two-person rule (DESIGN 2c): a caller's start of a job quarantined for a reason that needs a person.
    const approvalWhy = req.trigger === 'api' ? startApprovalWhy(job) : null;
    if (req.dryRun) {
      return seen(
        job,
        plain(
          'dry_run',
          approvalWhy
            ? `${dryRunMessage(job)}, once another Admin approves it. ${approvalWhy}`
            : dryRunMessage(job),
        ),
      );
    }
    if (approvalWhy) {
      const asked = await this.askApproval(req, attemptId, approvalWhy);
      return { ...seen(job, asked.failure), approvalId: asked.approvalId };
    }
    // Step 8: the start. Never re-sent blindly: only when Graph's answer proves it was not acted on
    // (429, or 503 with Retry-After), and only after re-reading the status.
    for (let resends = 0; ; resends++) {
      const before: SyncJob = job;
      try {
        const r = await this.graph.startJob(ref, ctx);
        requestIds.push(...r.requestIds);
        return seen(before, plain('started', startedMessage(before)), true);
      } catch (error) {
        if (!(error instanceof GraphError)) {
          throw error;
        }
        requestIds.push(...error.requestIds);
        if (error.details.notActedOn) {
          const waitMs = Math.max(1, error.details.retryAfterSeconds ?? 1) * 1000;
          if (resends >= MAX_START_RESENDS || Date.now() + waitMs >= deadline) {
            return seen(before, graphFailure(error, 'start'));
          }
          await this.wait(waitMs);
          const again = await this.read(ref, ctx, requestIds);
          if (again instanceof GraphError) {
            return seen(before, graphFailure(again, 'read'));
          }
          if (!isStartable(again.observedStatus)) {
            return seen(
              again,
              plain(
                'skipped',
                `Job became ${describeStatus(again)} while the start waited for Graph's Retry-After; not sent again`,
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
        return seen(before, graphFailure(error, 'start'));
      }
    }
  }
}
