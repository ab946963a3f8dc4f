import {
  type BatchItemResult,
  GraphClient,
  GraphError,
  type GraphCallContext,
  type GraphResult,
  type JobRef,
  type SyncJob,
} from '@app/graph';
import type { ObservedStatus } from '@app/common';

/** A job as the scripted Graph holds it. */
export interface ScriptedJob {
  status: ObservedStatus;
  reason: string | null;
}

export function syncJob(jobId: string, j: ScriptedJob): SyncJob {
  return {
    id: jobId,
    templateId: 'scim',
    observedStatus: j.status,
    rawStatusCode: j.status,
    quarantine:
      j.status === 'quarantine'
        ? {
            reason: j.reason,
            currentBegan: null,
            nextAttempt: null,
            seriesBegan: null,
            seriesCount: 1,
            error: null,
          }
        : null,
    schedule: null,
    lastExecution: null,
    countSuccessiveCompleteFailures: null,
    troubleshootingUrl: null,
    escrowsPruned: false,
  };
}

/** What the scripted Graph does with one call: answer from its state, or fail in one of Graph's ways. */
export type Answer =
  | { kind: 'ok' }
  | { kind: 'error'; error: GraphError }
  /** A start that Graph acts on but whose answer is lost. */
  | { kind: 'actedThenLost' };

export interface ReceivedStart {
  servicePrincipalId: string;
  jobId: string;
  /** The caller's client-request-id (the guard sends its attempt id when the request has none). */
  clientRequestId: string | null;
  /** The job as Graph held it when the start arrived. */
  before: ScriptedJob;
  at: number;
}

/**
 * A GraphClient behind the interface, for tests of the guard's decisions against real PostgreSQL: it keeps each
 * job's status, applies a start the way Graph does (paused or quarantine → active), records every start it
 * received, and answers from a script (`nextAnswer`) so a test can make any call fail in any of Graph's ways.
 */
export class ScriptedGraph extends GraphClient {
  readonly jobs = new Map<string, ScriptedJob>();
  readonly starts: ReceivedStart[] = [];
  /** Every answered read: who read (client-request-id), which job, and what it read. */
  readonly readLog: { clientRequestId: string | null; key: string; job: ScriptedJob }[] = [];
  reads = 0;
  /** Decides how the next call is answered; default: normally. */
  nextAnswer: (call: 'get' | 'start', ref: JobRef, ctx: GraphCallContext) => Answer = () => ({ kind: 'ok' });
  /** Runs before every call answers (e.g. a person changes the job, or a test moves time). */
  beforeAnswer: (call: 'get' | 'start', ref: JobRef, ctx: GraphCallContext) => Promise<void> | void = () =>
    undefined;
  /** Runs after a call was answered or failed (e.g. the calling process dies now). */
  afterAnswer: (call: 'get' | 'start', ref: JobRef, ctx: GraphCallContext) => void = () => undefined;

  key(ref: JobRef): string {
    return `${ref.servicePrincipalId.toLowerCase()}/${ref.jobId}`;
  }

  set(ref: JobRef, job: ScriptedJob): void {
    this.jobs.set(this.key(ref), { ...job });
  }

  get(ref: JobRef): ScriptedJob | undefined {
    return this.jobs.get(this.key(ref));
  }

  async getJob(ref: JobRef, ctx: GraphCallContext = {}): Promise<GraphResult<SyncJob>> {
    await this.beforeAnswer('get', ref, ctx);
    this.reads += 1;
    const answer = this.nextAnswer('get', ref, ctx);
    try {
      if (answer.kind === 'error') {
        throw answer.error;
      }
      const job = this.get(ref);
      if (!job) {
        throw new GraphError('not_found', 'no such job', { status: 404 });
      }
      this.readLog.push({
        clientRequestId: ctx.clientRequestId ?? null,
        key: this.key(ref),
        job: { ...job },
      });
      return { value: syncJob(ref.jobId, job), requestIds: [`get-${this.reads}`] };
    } finally {
      this.afterAnswer('get', ref, ctx);
    }
  }

  async startJob(ref: JobRef, ctx: GraphCallContext = {}): Promise<GraphResult<void>> {
    await this.beforeAnswer('start', ref, ctx);
    const answer = this.nextAnswer('start', ref, ctx);
    try {
      if (answer.kind === 'error') {
        const { notSent, notActedOn, status } = answer.error.details;
        if (!notSent && !notActedOn && status !== 404 && status !== 403) {
          // A failure that may come after Graph received it (500, lost): Graph saw the start but did not act.
          this.received(ref, ctx);
        }
        throw answer.error;
      }
      this.received(ref, ctx);
      const job = this.get(ref);
      if (!job) {
        throw new GraphError('not_found', 'no such job', { status: 404 });
      }
      if (job.status === 'paused' || job.status === 'quarantine') {
        this.set(ref, { status: 'active', reason: null });
      }
      if (answer.kind === 'actedThenLost') {
        throw new GraphError('lost', 'The answer from Graph was lost while sending the start');
      }
      return { value: undefined, requestIds: [`start-${this.starts.length}`] };
    } finally {
      this.afterAnswer('start', ref, ctx);
    }
  }

  private received(ref: JobRef, ctx: GraphCallContext): void {
    const before = this.get(ref) ?? { status: 'unknown' as const, reason: null };
    this.starts.push({
      servicePrincipalId: ref.servicePrincipalId,
      jobId: ref.jobId,
      clientRequestId: ctx.clientRequestId ?? null,
      before: { ...before },
      at: Date.now(),
    });
  }

  listJobs(): Promise<GraphResult<SyncJob[]>> {
    return Promise.reject(new Error('not scripted'));
  }

  pauseJob(): Promise<GraphResult<void>> {
    return Promise.reject(new Error('not scripted'));
  }

  restartJob(): Promise<GraphResult<void>> {
    return Promise.reject(new Error('not scripted'));
  }

  batchGetJobs(_refs: JobRef[]): Promise<GraphResult<BatchItemResult[]>> {
    return Promise.reject(new Error('not scripted'));
  }
}
