import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { isJobId, isServicePrincipalId } from '@app/common';
import {
  GraphClient,
  GraphError,
  minWriteBudgetMs,
  type BatchItemResult,
  type GraphCallContext,
  type GraphRestartScope,
  type GraphResult,
  type JobRef,
  type SyncJob,
} from './graph-client';
import {
  isWriteOperation,
  mapGraphError,
  type GraphOperation,
  type GraphTransportFailure,
} from './graph-errors';
import { normaliseJob } from './status';
import { describeCredential, graphScopeFor } from './credentials';

/** Structured logger (pino, Nest's Logger via an adapter...). Receives no tokens, headers or bodies. */
export interface GraphLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface GraphExchangeInfo {
  operation: GraphOperation;
  /** HTTP status, or 'error' when no answer came (connection refused/reset, timeout). */
  status: number | 'error';
  durationMs: number;
}

export interface AxiosGraphClientOptions {
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
  /** Metrics hook: one call per token acquisition (cached ones included: the credential caches). */
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

interface Exchange {
  status: number;
  body: unknown;
  text: string;
  retryAfter: string | null;
  requestId: string | null;
}

interface ExchangeRequest {
  operation: GraphOperation;
  method: 'GET' | 'POST';
  /** Relative to baseUrl, ids already encoded; or an absolute nextLink. */
  url: string;
  pathTemplate: string;
  data?: unknown;
  clientRequestId: string;
  deadline: number;
  requestIds: string[];
  logFields: Record<string, unknown>;
}

/** `promise`, or a rejection once `ms` have passed (the promise itself keeps running for whoever else waits). */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the shared token request did not finish within this call's ${ms} ms`)),
      Math.max(1, ms),
    );
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** An agent that also bounds the TCP connect, so "not sent" and "sent, answer lost" stay distinguishable. */
function armConnectTimeout(socket: Duplex | null | undefined, ms: number): void {
  if (!(socket instanceof net.Socket) || !socket.connecting || ms <= 0) {
    return;
  }
  const timer = setTimeout(() => {
    socket.destroy(Object.assign(new Error(`connect timeout after ${ms} ms`), { code: 'ECONNECT_TIMEOUT' }));
  }, ms);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
}

class TimedHttpAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    armConnectTimeout(socket, this.connectTimeoutMs);
    return socket;
  }
}

class TimedHttpsAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    armConnectTimeout(socket, this.connectTimeoutMs);
    return socket;
  }
}

function header(headers: unknown, name: string): string | null {
  if (typeof headers !== 'object' || headers === null) {
    return null;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) {
      continue;
    }
    if (typeof value === 'string') {
      return value;
    }
    if (typeof value === 'number') {
      return String(value);
    }
    if (Array.isArray(value) && typeof value[0] === 'string') {
      return value[0];
    }
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refKey(ref: JobRef): string {
  return `${ref.servicePrincipalId}/${ref.jobId}`;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Graph over axios: one keep-alive pool, bearer tokens from an @azure/identity credential, strict id checks,
 * one error mapping (`mapGraphError`), bounded retries for reads and none for writes.
 */
export class AxiosGraphClient extends GraphClient {
  private readonly http: AxiosInstance;
  private readonly scope: string;
  private readonly credential: TokenCredential;
  private readonly credentialType: string;
  private readonly timeoutMs: number;
  private readonly readBudgetMs: number;
  private readonly maxRetryAfterSeconds: number;
  private readonly maxReadAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly baseOrigin: string;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private tokenInFlight: Promise<AccessToken | null> | null = null;

  constructor(private readonly options: AxiosGraphClientOptions) {
    super();
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.baseOrigin = new URL(baseUrl).origin;
    this.scope = options.scope ?? graphScopeFor(baseUrl);
    this.credential = options.credential;
    this.credentialType = describeCredential(options.credential);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.readBudgetMs = options.readBudgetMs ?? 8_000;
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 10;
    this.maxReadAttempts = Math.max(1, options.maxReadAttempts ?? 5);
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.backoffMaxMs = options.backoffMaxMs ?? 3_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    const connectTimeoutMs = options.connectTimeoutMs ?? 3_000;
    const maxSockets = options.maxSockets ?? 256;
    // Idle sockets are dropped after 4 s, before typical servers' 5 s keep-alive timeout closes them under us.
    const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 4_000 };
    this.httpAgent = new TimedHttpAgent(agentOptions, connectTimeoutMs);
    this.httpsAgent = new TimedHttpsAgent(
      { ...agentOptions, ...(options.tlsCaCertificate ? { ca: options.tlsCaCertificate } : {}) },
      connectTimeoutMs,
    );
    this.http = axios.create({
      baseURL: baseUrl,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      transitional: { clarifyTimeoutError: true },
      decompress: true,
    });
  }

  /** Closes the keep-alive sockets (tests, shutdown). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async getJob(ref: JobRef, ctx: GraphCallContext = {}): Promise<GraphResult<SyncJob>> {
    const path = this.jobPath(ref);
    const requestIds: string[] = [];
    const res = await this.read({
      operation: 'getJob',
      method: 'GET',
      url: path,
      pathTemplate: JOB_PATH_TEMPLATE,
      clientRequestId: ctx.clientRequestId ?? randomUUID(),
      deadline: ctx.deadline ?? Date.now() + this.readBudgetMs,
      requestIds,
      logFields: { servicePrincipalId: ref.servicePrincipalId, jobId: ref.jobId },
    });
    return { value: this.parseJob(res, requestIds), requestIds, raw: res.body };
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
      const res = await this.read({
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
        jobs.push(this.withIds(() => normaliseJob(item), requestIds));
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
      const res = await this.read({
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
        results[index] = this.batchItem(ref, byId.get(request.id), requestIds);
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

  private batchItem(
    ref: JobRef,
    item: Record<string, unknown> | undefined,
    requestIds: string[],
  ): BatchItemResult {
    if (item === undefined) {
      return {
        ref,
        ok: false,
        error: new GraphError('bad_response', `Graph's $batch answer has no response for ${refKey(ref)}`, {
          requestIds,
        }),
      };
    }
    const status = typeof item.status === 'number' ? item.status : Number(item.status);
    const requestId = header(item.headers, 'request-id');
    if (status >= 200 && status < 300) {
      try {
        return { ref, ok: true, job: normaliseJob(item.body), requestId };
      } catch (error) {
        return { ref, ok: false, error: this.asGraphError(error, requestIds) };
      }
    }
    if (!Number.isInteger(status)) {
      return {
        ref,
        ok: false,
        error: new GraphError('bad_response', `Graph's $batch response for ${refKey(ref)} has no status`),
      };
    }
    return {
      ref,
      ok: false,
      error: mapGraphError(
        'getJob',
        { status, body: item.body, retryAfter: header(item.headers, 'retry-after'), requestId },
        [...requestIds],
      ),
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
    const res = await this.exchange({
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
    throw this.httpError(operation, res, requestIds);
  }

  /** A read with retries on 429 / 503 / 504 / connection errors, within the deadline. */
  private async read(req: ExchangeRequest): Promise<Exchange> {
    let lastError: GraphError | undefined;
    for (let attempt = 1; attempt <= this.maxReadAttempts; attempt++) {
      let error: GraphError;
      try {
        const res = await this.exchange(req);
        if (res.status >= 200 && res.status < 300) {
          return res;
        }
        error = this.httpError(req.operation, res, req.requestIds);
      } catch (caught) {
        error = this.asGraphError(caught, req.requestIds);
      }
      lastError = error;
      if (!this.isRetryableRead(error) || attempt === this.maxReadAttempts) {
        break;
      }
      const delay = this.retryDelayMs(error, attempt);
      if (Date.now() + delay >= req.deadline) {
        break;
      }
      this.options.logger?.debug('graph read retry', {
        operation: req.operation,
        kind: error.kind,
        attempt,
        delayMs: Math.round(delay),
      });
      await this.sleep(delay);
    }
    throw lastError ?? new GraphError('timeout', 'The time budget for this Graph read was used up');
  }

  private isRetryableRead(error: GraphError): boolean {
    switch (error.kind) {
      case 'throttled':
      case 'timeout':
        return true;
      case 'unavailable':
        // 503, or no HTTP answer at all (connection refused/reset); not 500/502.
        return error.details.status === undefined || error.details.status === 503;
      default:
        return false;
    }
  }

  private retryDelayMs(error: GraphError, attempt: number): number {
    const retryAfter = error.details.retryAfterSeconds;
    if (retryAfter !== undefined) {
      return Math.min(retryAfter, this.maxRetryAfterSeconds) * 1000;
    }
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  /**
   * One HTTP exchange (plus, on 401 InvalidAuthenticationToken, one more with a freshly acquired token).
   * Resolves with any HTTP status; throws GraphError when there was no answer or no token.
   */
  private async exchange(req: ExchangeRequest): Promise<Exchange> {
    let res = await this.send(req, false);
    if (res.status === 401 && this.isInvalidToken(res.body)) {
      this.options.logger?.warn('graph refused our token; acquiring a new one', { operation: req.operation });
      res = await this.send(req, true);
    }
    return res;
  }

  private isInvalidToken(body: unknown): boolean {
    return isRecord(body) && isRecord(body.error) && body.error.code === 'InvalidAuthenticationToken';
  }

  private async send(req: ExchangeRequest, forceNewToken: boolean): Promise<Exchange> {
    // A write needs time for the connect and Graph's answer; a read may use whatever is left.
    const least = isWriteOperation(req.operation) ? minWriteBudgetMs(this.timeoutMs) : 1;
    const notSent = (): GraphError =>
      new GraphError(
        'timeout',
        `The time budget for this Graph call was used up before sending; it was not sent`,
        { requestIds: req.requestIds, notSent: true },
      );
    const remaining = req.deadline - Date.now();
    if (remaining < least) {
      throw notSent();
    }
    const token = await this.getToken(forceNewToken, remaining, req.requestIds);
    if (req.deadline - Date.now() < least) {
      throw notSent();
    }
    const timeout = Math.max(1, Math.min(this.timeoutMs, req.deadline - Date.now()));
    const started = performance.now();
    try {
      const response = await this.http.request<unknown>({
        method: req.method,
        url: req.url,
        timeout,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          'client-request-id': req.clientRequestId,
          ...(req.data !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(req.data !== undefined ? { data: JSON.stringify(req.data) } : {}),
      });
      const durationMs = performance.now() - started;
      const requestId = header(response.headers, 'request-id');
      if (requestId) {
        req.requestIds.push(requestId);
      }
      const text = typeof response.data === 'string' ? response.data : '';
      let body: unknown = undefined;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      this.options.onExchange?.({ operation: req.operation, status: response.status, durationMs });
      const fields = {
        method: req.method,
        path: req.pathTemplate,
        ...req.logFields,
        status: response.status,
        durationMs: Math.round(durationMs),
        requestId,
        clientRequestId: req.clientRequestId,
      };
      if (response.status >= 400) {
        this.options.logger?.warn('graph exchange failed', fields);
      } else {
        this.options.logger?.debug('graph exchange', fields);
      }
      return {
        status: response.status,
        body,
        text,
        retryAfter: header(response.headers, 'retry-after'),
        requestId,
      };
    } catch (error) {
      const durationMs = performance.now() - started;
      this.options.onExchange?.({ operation: req.operation, status: 'error', durationMs });
      const failure = this.transportFailure(error);
      this.options.logger?.warn('graph exchange got no answer', {
        method: req.method,
        path: req.pathTemplate,
        ...req.logFields,
        code: failure.code,
        requestSent: failure.requestSent,
        durationMs: Math.round(durationMs),
        clientRequestId: req.clientRequestId,
      });
      throw mapGraphError(req.operation, failure, req.requestIds);
    }
  }

  private transportFailure(error: unknown): GraphTransportFailure {
    if (error instanceof AxiosError) {
      const request: unknown = error.request;
      const requestSent = request instanceof http.ClientRequest ? request.writableFinished : true;
      const code = error.code;
      const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED' || code === 'ECONNECT_TIMEOUT';
      return { transport: true, ...(code ? { code } : {}), message: error.message, requestSent, timedOut };
    }
    const message = error instanceof Error ? error.message : String(error);
    // Unknown failure: assume the worst for writes (it may have been sent).
    return { transport: true, message, requestSent: true, timedOut: false };
  }

  private async getToken(forceNew: boolean, remainingMs: number, requestIds: string[]): Promise<string> {
    const started = performance.now();
    let token: AccessToken | null;
    try {
      token = await this.acquire(forceNew, remainingMs);
    } catch (error) {
      this.options.onToken?.(performance.now() - started, false);
      const name = error instanceof Error ? error.name : 'Error';
      const reason =
        (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 300) ?? '';
      // The authority's text (AADSTS codes, trace ids, app ids) is for operators: the log gets it, while the
      // error, which reaches attempt messages and API answers, names only the credential type.
      this.options.logger?.warn('could not acquire a Graph access token', {
        credential: this.credentialType,
        error: name,
        reason,
      });
      throw new GraphError(
        'token',
        `Could not get an access token for Graph from ${this.credentialType} (${name}); the reason is in the service log`,
        { requestIds, code: name, cause: error, notSent: true },
      );
    }
    this.options.onToken?.(performance.now() - started, token !== null);
    if (token === null) {
      throw new GraphError('token', `${this.credentialType} returned no access token for ${this.scope}`, {
        requestIds,
        notSent: true,
      });
    }
    return token.token;
  }

  /**
   * Concurrent callers share one in-flight acquisition (no stampede on the token endpoint when a cold client
   * gets a burst); the credential's own cache serves the rest.
   */
  private acquire(forceNew: boolean, remainingMs: number): Promise<AccessToken | null> {
    if (!forceNew && this.tokenInFlight) {
      // Shared with an earlier caller, whose deadline may be later than ours: wait no longer than our own.
      return withinMs(this.tokenInFlight, remainingMs);
    }
    const promise = this.credential.getToken(this.scope, {
      abortSignal: AbortSignal.timeout(Math.max(1, remainingMs)),
      // A claims value makes MSAL skip its cache: the refresh-once after Graph refused the cached token.
      ...(forceNew
        ? {
            claims: JSON.stringify({
              access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } },
            }),
          }
        : {}),
    });
    if (!forceNew) {
      this.tokenInFlight = promise;
      const clear = (): void => {
        if (this.tokenInFlight === promise) {
          this.tokenInFlight = null;
        }
      };
      promise.then(clear, clear);
    }
    return promise;
  }

  private httpError(operation: GraphOperation, res: Exchange, requestIds: string[]): GraphError {
    if (res.status >= 200 && res.status < 300) {
      return new GraphError('bad_response', 'Graph answered a body we cannot read', {
        status: res.status,
        requestIds,
      });
    }
    // requestIds already holds this exchange's request-id.
    return mapGraphError(
      operation,
      { status: res.status, body: res.body, retryAfter: res.retryAfter },
      requestIds,
    );
  }

  private parseJob(res: Exchange, requestIds: string[]): SyncJob {
    return this.withIds(() => normaliseJob(res.body), requestIds, res.status);
  }

  private withIds<T>(fn: () => T, requestIds: string[], status?: number): T {
    try {
      return fn();
    } catch (error) {
      const e = this.asGraphError(error, requestIds);
      throw status === undefined ? e : new GraphError(e.kind, e.message, { ...e.details, status });
    }
  }

  private asGraphError(error: unknown, requestIds: string[]): GraphError {
    if (error instanceof GraphError) {
      return error.details.requestIds === undefined
        ? new GraphError(error.kind, error.message, { ...error.details, requestIds })
        : error;
    }
    const message = error instanceof Error ? error.message : String(error);
    return new GraphError('bad_response', `Unexpected failure talking to Graph: ${message}`, {
      requestIds,
      cause: error,
    });
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
