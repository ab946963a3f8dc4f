import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { isRecord, isJobId, isServicePrincipalId } from '@app/common';
import {
  GraphClient,
  GraphError,
  type BatchItemResult,
  type GraphCallContext,
  type GraphRestartScope,
  type GraphResult,
  type JobRef,
  type SyncJob,
} from './graph-client';
import { batchItem, httpError, parseJob, refKey, withIds } from './graph-answers';
import type { GraphExchangeInfo, GraphLogger } from './graph-observer';
import { GraphTokenSource } from './graph-token';
import { GraphTransport } from './graph-transport';
import { normaliseJob } from './status';
import { describeCredential, graphScopeFor } from './credentials';

export type { GraphExchangeInfo, GraphLogger } from './graph-observer';

export interface HttpGraphClientOptions {
  /** Graph root including the version, e.g. https://graph.microsoft.com/v1.0 or the simulator's. */
  baseUrl: string;
  credential: TokenCredential;
  /** Token scope; defaults to `<origin of baseUrl>/.default`. */
  scope?: string;
  /** Total time for one HTTP exchange (connect + request + response). Default 10 000 ms. */
  timeoutMs?: number;
  /** Time to establish the TCP connection. Default 3 000 ms. */
  connectTimeoutMs?: number;
  /** Budget of a read including its retries when the caller gives no deadline. Default 8 000 ms. */
  readBudgetMs?: number;
  /** Longest Retry-After honoured between read retries. Default 10 s. */
  maxRetryAfterSeconds?: number;
  /** Attempts per read (first one included). Default 5. */
  maxReadAttempts?: number;
  /** Exponential backoff without Retry-After: base and cap (full jitter). Defaults 200 ms / 3 000 ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Sockets per host in the keep-alive pool. Default 256. */
  maxSockets?: number;
  /** Extra CA (PEM) to trust, e.g. a self-signed simulator. */
  tlsCaCertificate?: string;
  logger?: GraphLogger;
  /** Metrics hook: one call per HTTP exchange (retries included). */
  onExchange?: (info: GraphExchangeInfo) => void;
  /** Metrics hook: one call per acquisition from the credential (the client keeps the token until near expiry). */
  onToken?: (durationMs: number, ok: boolean) => void;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Largest number of requests Graph accepts in one `$batch`. */
export const GRAPH_BATCH_LIMIT = 20;

const JOB_PATH_TEMPLATE = '/servicePrincipals/{sp}/synchronization/jobs/{job}';
const LIST_PATH_TEMPLATE = '/servicePrincipals/{sp}/synchronization/jobs';
const MAX_LIST_PAGES = 100;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Graph over `node:http` / `node:https` (graph-http.ts): one keep-alive pool, bearer tokens from an @azure/identity credential (kept until near
 * expiry), strict id checks, one error mapping (`mapGraphError`), bounded retries for reads and none for writes.
 * The HTTP, budget and retry work is GraphTransport's, the tokens GraphTokenSource's; this class holds the
 * typed calls.
 */
export class HttpGraphClient extends GraphClient {
  private readonly transport: GraphTransport;
  private readonly timeoutMs: number;
  private readonly readBudgetMs: number;
  private readonly baseOrigin: string;

  constructor(options: HttpGraphClientOptions) {
    super();
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.baseOrigin = new URL(baseUrl).origin;
    const scope = options.scope ?? graphScopeFor(baseUrl);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.readBudgetMs = options.readBudgetMs ?? 8_000;
    const tokens = new GraphTokenSource({
      credential: options.credential,
      scope,
      credentialType: describeCredential(options.credential),
      logger: options.logger,
      onToken: options.onToken,
    });
    this.transport = new GraphTransport({
      baseUrl,
      tokens,
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 3_000,
      maxSockets: options.maxSockets ?? 256,
      tlsCaCertificate: options.tlsCaCertificate,
      retry: {
        maxAttempts: Math.max(1, options.maxReadAttempts ?? 5),
        maxRetryAfterSeconds: options.maxRetryAfterSeconds ?? 10,
        backoffBaseMs: options.backoffBaseMs ?? 200,
        backoffMaxMs: options.backoffMaxMs ?? 3_000,
        random: options.random ?? Math.random,
      },
      sleep: options.sleep ?? defaultSleep,
      logger: options.logger,
      onExchange: options.onExchange,
    });
  }

  /** Closes the keep-alive sockets (tests, shutdown). */
  close(): void {
    this.transport.close();
  }

  async getJob(ref: JobRef, ctx: GraphCallContext = {}): Promise<GraphResult<SyncJob>> {
    const path = this.jobPath(ref);
    const requestIds: string[] = [];
    const res = await this.transport.read({
      operation: 'getJob',
      method: 'GET',
      url: path,
      pathTemplate: JOB_PATH_TEMPLATE,
      clientRequestId: ctx.clientRequestId ?? randomUUID(),
      deadline: ctx.deadline ?? Date.now() + this.readBudgetMs,
      requestIds,
      logFields: { servicePrincipalId: ref.servicePrincipalId, jobId: ref.jobId },
    });
    return { value: parseJob(res, requestIds), requestIds, raw: res.body };
  }

  async listJobs(servicePrincipalId: string, ctx: GraphCallContext = {}): Promise<GraphResult<SyncJob[]>> {
    if (!isServicePrincipalId(servicePrincipalId)) {
      throw new GraphError('invalid_id', 'The service principal id is not a GUID; nothing was sent to Graph');
    }
    const requestIds: string[] = [];
    const deadline = ctx.deadline ?? Date.now() + this.readBudgetMs;
    const clientRequestId = ctx.clientRequestId ?? randomUUID();
    const jobs: SyncJob[] = [];
    const raw: unknown[] = [];
    let url: string | null =
      `/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/synchronization/jobs`;
    for (let page = 0; url !== null && page < MAX_LIST_PAGES; page++) {
      const res = await this.transport.read({
        operation: 'listJobs',
        method: 'GET',
        url,
        pathTemplate: LIST_PATH_TEMPLATE,
        clientRequestId,
        deadline,
        requestIds,
        logFields: { servicePrincipalId, page },
      });
      if (!isRecord(res.body) || !Array.isArray(res.body.value)) {
        throw new GraphError('bad_response', 'Graph answered the job list without a value array', {
          status: res.status,
          requestIds,
        });
      }
      for (const item of res.body.value as unknown[]) {
        jobs.push(withIds(() => normaliseJob(item), requestIds));
        raw.push(item);
      }
      const next = res.body['@odata.nextLink'];
      url = typeof next === 'string' && next !== '' ? this.checkedNextLink(next, requestIds) : null;
    }
    return { value: jobs, requestIds, raw };
  }

  /*
   * startJob and pauseJob send exactly ONE POST and never retry on their own, whatever the answer:
   * - Graph's docs warn that calling start while a job runs "can cause the service to stop running", and POST
   *   .../start has no idempotency key;
   * - a 504, a timeout or a reset connection may come after Graph acted: re-sending would be exactly that
   *   "start while running";
   * - only the caller (the guard) may retry, after re-reading the job's status, and only when the answer proves
   *   the start was not acted on: 429, or 503 with Retry-After (GraphError.details.notActedOn).
   * The single exception is a 401 InvalidAuthenticationToken: Graph refused the request before looking at it,
   * so it is re-sent once with a fresh token.
   */
  async startJob(ref: JobRef, ctx: GraphCallContext = {}): Promise<GraphResult<void>> {
    return this.write('startJob', ref, 'start', ctx);
  }

  async pauseJob(ref: JobRef, ctx: GraphCallContext = {}): Promise<GraphResult<void>> {
    return this.write('pauseJob', ref, 'pause', ctx);
  }

  async restartJob(
    ref: JobRef,
    scopes: readonly GraphRestartScope[],
    ctx: GraphCallContext = {},
  ): Promise<GraphResult<void>> {
    if (scopes.length === 0) {
      // An empty resetScope is the portal's broad restart (quarantine, watermark and escrows): never implied.
      throw new GraphError(
        'invalid_id',
        'A restart needs at least one reset scope; nothing was sent to Graph',
      );
    }
    return this.write('restartJob', ref, 'restart', ctx, {
      criteria: { resetScope: scopes.join(', ') },
    });
  }

  async batchGetJobs(refs: JobRef[], ctx: GraphCallContext = {}): Promise<GraphResult<BatchItemResult[]>> {
    if (refs.length > GRAPH_BATCH_LIMIT) {
      throw new GraphError(
        'rejected',
        `A Graph $batch holds at most ${GRAPH_BATCH_LIMIT} requests; got ${refs.length}. Nothing was sent`,
      );
    }
    const results: (BatchItemResult | undefined)[] = refs.map((ref) =>
      isServicePrincipalId(ref.servicePrincipalId) && isJobId(ref.jobId)
        ? undefined
        : {
            ref,
            ok: false as const,
            error: new GraphError('invalid_id', `Invalid id in ${refKey(ref)}; it was not sent to Graph`),
          },
    );
    const requests = refs.flatMap((ref, index) =>
      results[index] === undefined ? [{ id: String(index + 1), method: 'GET', url: this.jobPath(ref) }] : [],
    );
    const requestIds: string[] = [];
    if (requests.length > 0) {
      const res = await this.transport.read({
        operation: 'batch',
        method: 'POST',
        url: '/$batch',
        pathTemplate: '/$batch',
        data: { requests },
        clientRequestId: ctx.clientRequestId ?? randomUUID(),
        deadline: ctx.deadline ?? Date.now() + this.readBudgetMs,
        requestIds,
        logFields: { items: requests.length },
      });
      const responses = isRecord(res.body) ? res.body.responses : undefined;
      if (!Array.isArray(responses)) {
        throw new GraphError('bad_response', 'Graph answered the $batch without a responses array', {
          status: res.status,
          requestIds,
        });
      }
      const byId = new Map<string, Record<string, unknown>>();
      for (const item of responses) {
        if (isRecord(item) && typeof item.id === 'string') {
          byId.set(item.id, item);
        }
      }
      for (const request of requests) {
        const index = Number(request.id) - 1;
        const ref = refs[index];
        if (ref === undefined) {
          continue;
        }
        results[index] = batchItem(ref, byId.get(request.id), requestIds);
      }
    }
    return {
      value: results.map(
        (r, i): BatchItemResult =>
          r ?? {
            ref: refs[i] as JobRef,
            ok: false,
            error: new GraphError('bad_response', 'No $batch answer for this job'),
          },
      ),
      requestIds,
    };
  }

  private async write(
    operation: 'startJob' | 'pauseJob' | 'restartJob',
    ref: JobRef,
    action: 'start' | 'pause' | 'restart',
    ctx: GraphCallContext,
    data?: unknown,
  ): Promise<GraphResult<void>> {
    const requestIds: string[] = [];
    const res = await this.transport.exchange({
      operation,
      method: 'POST',
      url: `${this.jobPath(ref)}/${action}`,
      ...(data !== undefined ? { data } : {}),
      pathTemplate: `${JOB_PATH_TEMPLATE}/${action}`,
      clientRequestId: ctx.clientRequestId ?? randomUUID(),
      // Without a caller's deadline: time for the token, then one whole exchange.
      deadline: ctx.deadline ?? Date.now() + 2 * this.timeoutMs,
      requestIds,
      logFields: { servicePrincipalId: ref.servicePrincipalId, jobId: ref.jobId },
    });
    if (res.status >= 200 && res.status < 300) {
      return { value: undefined, requestIds };
    }
    throw httpError(operation, res, requestIds);
  }

  private checkedNextLink(next: string, requestIds: string[]): string {
    // Never send our token anywhere but Graph's own origin.
    if (!next.startsWith(`${this.baseOrigin}/`)) {
      throw new GraphError('bad_response', 'Graph answered a nextLink to another origin', { requestIds });
    }
    return next;
  }

  /** The only place ids go into a URL: validated, then encoded. */
  private jobPath(ref: JobRef): string {
    if (!isServicePrincipalId(ref.servicePrincipalId)) {
      throw new GraphError('invalid_id', 'The service principal id is not a GUID; nothing was sent to Graph');
    }
    if (!isJobId(ref.jobId)) {
      throw new GraphError(
        'invalid_id',
        'The job id is not a valid synchronization job id; nothing was sent to Graph',
      );
    }
    return `/servicePrincipals/${encodeURIComponent(ref.servicePrincipalId)}/synchronization/jobs/${encodeURIComponent(ref.jobId)}`;
  }
}
