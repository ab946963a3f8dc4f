import { isRecord } from '@app/common';
import { GraphError, minWriteBudgetMs } from './graph-client';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { asGraphError, header, httpError, type Exchange } from './graph-answers';
import {
  isWriteOperation,
  mapGraphError,
  type GraphOperation,
  type GraphTransportFailure,
} from './graph-errors';
import type { GraphExchangeInfo, GraphLogger } from './graph-observer';
import { isRetryableRead, retryDelayMs, type ReadRetryPolicy } from './graph-retry';
import type { GraphTokenSource } from './graph-token';
import { GraphHttp, GraphHttpFailure, graphHttpAdapter } from './graph-http';
import { createGraphAgents, type GraphAgents } from './timed-agent';

/** Graph's HTTP: one keep-alive pool, the time budget of each call, the token refresh on 401, read retries. */

export interface ExchangeRequest {
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

export interface GraphTransportOptions {
  baseUrl: string;
  tokens: GraphTokenSource;
  /** Total time for one HTTP exchange (connect + request + response). */
  timeoutMs: number;
  connectTimeoutMs: number;
  maxSockets: number;
  tlsCaCertificate?: string | undefined;
  retry: ReadRetryPolicy;
  sleep: (ms: number) => Promise<void>;
  logger?: GraphLogger | undefined;
  onExchange?: ((info: GraphExchangeInfo) => void) | undefined;
}

/** What the answers may be compressed with (GraphHttp decodes each). */
const ACCEPT_ENCODING = 'gzip, deflate, br';

function isInvalidToken(body: unknown): boolean {
  return isRecord(body) && isRecord(body.error) && body.error.code === 'InvalidAuthenticationToken';
}

function parseBody(text: string): unknown {
  if (text === '') {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function transportFailure(error: unknown): GraphTransportFailure {
  if (error instanceof GraphHttpFailure) {
    const { code, message, requestSent, timedOut } = error;
    return { transport: true, ...(code ? { code } : {}), message, requestSent, timedOut };
  }
  const message = error instanceof Error ? error.message : String(error);
  // Unknown failure: assume the worst for writes (it may have been sent).
  return { transport: true, message, requestSent: true, timedOut: false };
}

export class GraphTransport {
  private readonly http: AxiosInstance;
  private readonly agents: GraphAgents;

  constructor(private readonly options: GraphTransportOptions) {
    this.agents = createGraphAgents(options);
    // No redirects followed, every status answered, the body as text: GraphHttp (graph-http.ts) does the HTTP.
    this.http = axios.create({
      adapter: graphHttpAdapter(new GraphHttp(options.baseUrl, this.agents)),
      validateStatus: () => true,
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
    });
  }

  /** Closes the keep-alive sockets (tests, shutdown). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** A read with retries on 429 / 503 / 504 / connection errors, within the deadline. */
  async read(req: ExchangeRequest): Promise<Exchange> {
    const policy = this.options.retry;
    let lastError: GraphError | undefined;
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      let error: GraphError;
      try {
        const res = await this.exchange(req);
        if (res.status >= 200 && res.status < 300) {
          return res;
        }
        error = httpError(req.operation, res, req.requestIds);
      } catch (caught) {
        error = asGraphError(caught, req.requestIds);
      }
      lastError = error;
      if (!isRetryableRead(error) || attempt === policy.maxAttempts) {
        break;
      }
      const delay = retryDelayMs(policy, error, attempt);
      if (Date.now() + delay >= req.deadline) {
        break;
      }
      this.options.logger?.debug('graph read retry', {
        operation: req.operation,
        kind: error.kind,
        attempt,
        delayMs: Math.round(delay),
      });
      await this.options.sleep(delay);
    }
    throw lastError ?? new GraphError('timeout', 'The time budget for this Graph read was used up');
  }

  /**
   * One HTTP exchange (plus, on 401 InvalidAuthenticationToken, one more with a fresh token: the refused one is
   * dropped, and calls refused at the same time share one acquisition).
   * Resolves with any HTTP status; throws GraphError when there was no answer or no token.
   */
  async exchange(req: ExchangeRequest): Promise<Exchange> {
    const token = await this.tokenWithinBudget(req, undefined);
    let res = await this.send(req, token);
    if (res.status === 401 && isInvalidToken(res.body)) {
      this.options.logger?.warn('graph refused our token; acquiring a new one', { operation: req.operation });
      res = await this.send(req, await this.tokenWithinBudget(req, token));
    }
    return res;
  }

  /** The token, once the budget is known to hold the call: a write needs time for the connect and the answer. */
  private async tokenWithinBudget(req: ExchangeRequest, refused: string | undefined): Promise<string> {
    const least = isWriteOperation(req.operation) ? minWriteBudgetMs(this.options.timeoutMs) : 1;
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
    const token = await this.options.tokens.get(refused, remaining, req.requestIds);
    if (req.deadline - Date.now() < least) {
      throw notSent();
    }
    return token;
  }

  private async send(req: ExchangeRequest, token: string): Promise<Exchange> {
    const timeout = Math.max(1, Math.min(this.options.timeoutMs, req.deadline - Date.now()));
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      'Accept-Encoding': ACCEPT_ENCODING,
      'client-request-id': req.clientRequestId,
    };
    if (req.data !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    const started = performance.now();
    try {
      const response = await this.http.request<string>({
        method: req.method,
        url: req.url,
        timeout,
        headers,
        data: req.data === undefined ? undefined : JSON.stringify(req.data),
      });
      return this.answered(req, response, performance.now() - started);
    } catch (error) {
      throw this.unanswered(req, error, performance.now() - started);
    }
  }

  /** Records and logs an HTTP answer (never its body or headers) and reads it into an Exchange. */
  private answered(req: ExchangeRequest, response: AxiosResponse<string>, durationMs: number): Exchange {
    const requestId = header(response.headers, 'request-id');
    if (requestId) {
      req.requestIds.push(requestId);
    }
    const text = typeof response.data === 'string' ? response.data : '';
    const body = parseBody(text);
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
  }

  /** Records and logs an exchange that got no answer, and maps it (sent or not, timed out or not). */
  private unanswered(req: ExchangeRequest, error: unknown, durationMs: number): GraphError {
    this.options.onExchange?.({ operation: req.operation, status: 'error', durationMs });
    const failure = transportFailure(error);
    this.options.logger?.warn('graph exchange got no answer', {
      method: req.method,
      path: req.pathTemplate,
      ...req.logFields,
      code: failure.code,
      requestSent: failure.requestSent,
      durationMs: Math.round(durationMs),
      clientRequestId: req.clientRequestId,
    });
    return mapGraphError(req.operation, failure, req.requestIds);
  }
}
