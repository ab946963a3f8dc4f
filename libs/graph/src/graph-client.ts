import type { ObservedStatus } from '@app/common';

/** A job addressed in Graph: the service principal object id and the job id (both validated by the client). */
export interface JobRef {
  servicePrincipalId: string;
  jobId: string;
}

export interface QuarantineInfo {
  reason: string | null;
  currentBegan: string | null;
  nextAttempt: string | null;
  seriesBegan: string | null;
  seriesCount: number | null;
  error: { code: string | null; message: string | null; tenantActionable: boolean | null } | null;
}

/** A synchronizationJob, normalised. The decision is taken from `observedStatus` (status.code), never the schedule. */
export interface SyncJob {
  id: string;
  templateId: string | null;
  observedStatus: ObservedStatus;
  /** status.code exactly as Graph wrote it. */
  rawStatusCode: string | null;
  /** Set only when the job is in quarantine and Graph gave a reason. */
  quarantine: QuarantineInfo | null;
  schedule: { interval: string | null; state: string | null; expiration: string | null } | null;
  lastExecution: {
    state: string | null;
    timeBegan: string | null;
    timeEnded: string | null;
    errorCode: string | null;
  } | null;
  countSuccessiveCompleteFailures: number | null;
  troubleshootingUrl: string | null;
  /**
   * Graph's `status.escrowsPruned`. With `Paused` it marks the service's own pause after an initial cycle whose
   * errors were pruned ("waits for the customer to clean up the errors"), not a person's.
   */
  escrowsPruned: boolean | null;
}

/**
 * Graph's restart scopes (`synchronizationJobRestartScope`, sent comma-separated). `None` and
 * `ConnectorDataStore` exist in Graph but Microsoft says not to use them; callers never get to send them.
 */
export const GRAPH_RESTART_SCOPES = [
  'Escrows',
  'Watermark',
  'QuarantineState',
  'Full',
  'ForceDeletes',
] as const;
export type GraphRestartScope = (typeof GRAPH_RESTART_SCOPES)[number];

/** Per-call context: our request id (sent as client-request-id) and the time budget left. */
export interface GraphCallContext {
  clientRequestId?: string;
  /** Absolute deadline (epoch ms) for this call including its retries. */
  deadline?: number;
}

/** A successful answer with the `request-id`s Graph gave (one per HTTP exchange, retries included). */
export interface GraphResult<T> {
  value: T;
  requestIds: string[];
  /**
   * Graph's own JSON, unnormalised, for answers that repeat it verbatim (the Graph-compatible door): the job
   * object of `getJob`, the job objects of every page of `listJobs`. Absent from implementations that have none.
   */
  raw?: unknown;
}

export type BatchItemResult =
  | { ref: JobRef; ok: true; job: SyncJob; requestId: string | null }
  | { ref: JobRef; ok: false; error: GraphError };

export const GRAPH_ERROR_KINDS = [
  /** 404 from Graph. */
  'not_found',
  /** 401/403 that means *our* identity lacks a permission or ownership. */
  'forbidden',
  /** 429, with retryAfterSeconds when Graph sent Retry-After. */
  'throttled',
  /** 503 / 502 / 500: Graph failed; retryAfterSeconds when sent. */
  'unavailable',
  /** 504 from Graph, or our own timeout before a request was sent (connect). */
  'timeout',
  /** The request was sent and the answer was lost (timeout, reset): Graph may have acted on it. */
  'lost',
  /** Graph answered something we cannot read. */
  'bad_response',
  /** 400 / 409 and other client errors. */
  'rejected',
  /** No token could be acquired for Graph. */
  'token',
  /** The id did not pass validation; nothing was sent. */
  'invalid_id',
] as const;
export type GraphErrorKind = (typeof GRAPH_ERROR_KINDS)[number];

/**
 * A start or pause is never sent with less time left than this: the connect and Graph's answer (a few hundred
 * milliseconds normally) must fit, or the answer is certainly lost and the outcome becomes needlessly unknown.
 */
export const MIN_WRITE_BUDGET_MS = 1500;

/** The least time left to send a write with: MIN_WRITE_BUDGET_MS, or less when one exchange's timeout is shorter. */
export function minWriteBudgetMs(timeoutMs: number): number {
  return Math.min(MIN_WRITE_BUDGET_MS, timeoutMs);
}

export class GraphError extends Error {
  constructor(
    readonly kind: GraphErrorKind,
    message: string,
    readonly details: {
      status?: number;
      code?: string;
      retryAfterSeconds?: number;
      requestIds?: string[];
      /** True when Graph's answer proves the request was not acted on (429, or 503 with Retry-After). */
      notActedOn?: boolean;
      /** True when the request never left this process (time budget used up before sending, no token, ...). */
      notSent?: boolean;
      /** For `forbidden`: the permission Graph needs for this call. */
      requiredPermission?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }

  get requestIds(): string[] {
    return this.details.requestIds ?? [];
  }
}

/**
 * The only way the rest of the service talks to Microsoft Graph's synchronization API.
 * Reads retry within their budget; `startJob` never retries on its own (see HttpGraphClient).
 */
export abstract class GraphClient {
  abstract getJob(ref: JobRef, ctx?: GraphCallContext): Promise<GraphResult<SyncJob>>;
  abstract listJobs(servicePrincipalId: string, ctx?: GraphCallContext): Promise<GraphResult<SyncJob[]>>;
  /** One POST .../start. Resolves on 204. Throws GraphError; `lost` means Graph may have acted. */
  abstract startJob(ref: JobRef, ctx?: GraphCallContext): Promise<GraphResult<void>>;
  abstract pauseJob(ref: JobRef, ctx?: GraphCallContext): Promise<GraphResult<void>>;
  /** One POST .../restart with `{"criteria":{"resetScope":"A, B"}}`. Never retried on its own, like start. */
  abstract restartJob(
    ref: JobRef,
    scopes: readonly GraphRestartScope[],
    ctx?: GraphCallContext,
  ): Promise<GraphResult<void>>;
  /** Reads up to 20 jobs in one `$batch`. Throws GraphError when the whole batch failed (e.g. throttled). */
  abstract batchGetJobs(refs: JobRef[], ctx?: GraphCallContext): Promise<GraphResult<BatchItemResult[]>>;
}
