import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { TLSSocket } from 'node:tls';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_SERVICE_PRINCIPAL_ID,
  DEMO_TENANT_ID,
  demoJobs,
} from './demo';
import { createSelfSignedCertificate } from './tls';
import {
  SIM_STATUS_CODES,
  SimulatorState,
  type FaultRule,
  type JobSeed,
  type QuarantineSeed,
  type SimOperation,
  type SimStatusCode,
  type ThrottleConfig,
  parseResetScope,
} from './state';

export interface GraphSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Added to every Graph answer. Default 0. */
  latencyMs?: number;
  /** `demo` (default) seeds the demo tenant's jobs; `empty` seeds nothing. */
  seed?: 'demo' | 'empty';
  /** Extra jobs to seed (after the seed). */
  jobs?: JobSeed[];
  /** A JSON fixture: `{ "jobs": JobSeed[] }` or `JobSeed[]`. */
  fixturePath?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued tokens (expires_in, and enforced). Default 3600. MSAL refreshes 300 s before expiry. */
  tokenLifetimeSeconds?: number;
  /** Graph-like throttling: 429 + Retry-After past `limit` requests per `windowMs`. */
  throttle?: ThrottleConfig;
  /** Graph requests need a token issued by this simulator. Default true. */
  requireAuth?: boolean;
  /** Request log capacity (ring). Default 50 000; 0 disables the log. */
  requestLogLimit?: number;
  batchOrder?: 'inOrder' | 'reverse' | 'shuffle';
  /** PEM certificate and key for the HTTPS side; a self-signed one is generated when absent. */
  tls?: { cert: string; key: string };
  /** Advertise https:// for Graph too (the same port speaks both). Default false. */
  preferHttps?: boolean;
  /** Extra names of the self-signed certificate (e.g. `graph-simulator` in Docker Compose). */
  tlsHosts?: string[];
}

export interface RunningSimulator {
  /** http://host:port (https:// with preferHttps). */
  origin: string;
  /** origin + /v1.0: the GRAPH_BASE_URL to use. */
  graphBaseUrl: string;
  /** https://host:port: the authority host for @azure/identity (which requires https). */
  authorityHost: string;
  port: number;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** PEM to trust for the HTTPS side (`tlsCaCertificate` options, or NODE_EXTRA_CA_CERTS in another process). */
  tlsCaCertificate: string;
  /** Ready-made options for createGraphCredential (libs/graph). */
  credentialOptions: {
    tenantId: string;
    clientId: string;
    clientSecret: string;
    authorityHost: string;
    disableInstanceDiscovery: true;
    tlsCaCertificate: string;
  };
  state: SimulatorState;
  /** state.reset() then seed again (demo by default). */
  reset(seed?: 'demo' | 'empty'): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Route {
  operation: SimOperation | 'unknown';
  servicePrincipalId: string | null;
  jobId: string | null;
  /** Set when the route itself is wrong (unknown segment, wrong method, bad id). */
  error?: Answer;
}

const GRAPH_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BATCH_LIMIT = 20;
const BODY_LIMIT = 4 * 1024 * 1024;
const AGS_DIAGNOSTIC = JSON.stringify({
  ServerInfo: { DataCenter: 'Simulator', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'GRAPH-SIM' },
});

const DEFAULT_ERROR_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'UnknownError',
  403: 'Authorization_RequestDenied',
  404: 'Request_ResourceNotFound',
  405: 'Request_BadRequest',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

const DEFAULT_ERROR_MESSAGES: Record<number, string> = {
  401: '',
  403: 'Insufficient privileges to complete the operation.',
  409: 'The operation conflicts with the current state of the resource.',
  429: 'Too many requests. Please retry after the time given in the Retry-After header.',
  500: 'An internal server error occurred.',
  502: 'Bad gateway.',
  503: 'The service is temporarily unavailable. Please retry later.',
  504: 'The gateway timed out.',
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function graphError(
  status: number,
  code: string,
  message: string,
  requestId: string,
  clientRequestId: string | null,
) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return Symbol.for('invalid-json');
  }
}

function parseRoute(method: string, path: string): Route {
  const none = { servicePrincipalId: null, jobId: null };
  let segments: string[];
  try {
    segments = path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return {
      operation: 'unknown',
      ...none,
      error: { status: 400, body: { code: 'BadRequest', message: 'Bad URL' } },
    };
  }
  const notSupported = (operation: SimOperation, sp: string | null, job: string | null): Route => ({
    operation,
    servicePrincipalId: sp,
    jobId: job,
    error: {
      status: 405,
      body: {
        code: 'Request_BadRequest',
        message: `The requested resource does not support http method '${method}'.`,
      },
    },
  });
  if (segments.length === 1 && segments[0] === '$batch') {
    return method === 'POST' ? { operation: 'batch', ...none } : notSupported('batch', null, null);
  }
  const [root, sp, sync, jobs, jobId, action] = segments;
  if (root === 'servicePrincipals' && sp !== undefined && sync === 'synchronization' && jobs === 'jobs') {
    const badId =
      GUID.test(sp) || sp === ''
        ? undefined
        : {
            status: 400,
            body: { code: 'Request_BadRequest', message: `Invalid object identifier '${sp}'.` },
          };
    let route: Route | undefined;
    if (segments.length === 4) {
      route =
        method === 'GET'
          ? { operation: 'list', servicePrincipalId: sp, jobId: null }
          : notSupported('list', sp, null);
    } else if (segments.length === 5 && jobId !== undefined) {
      route =
        method === 'GET'
          ? { operation: 'get', servicePrincipalId: sp, jobId }
          : notSupported('get', sp, jobId);
    } else if (
      segments.length === 6 &&
      jobId !== undefined &&
      (action === 'start' || action === 'pause' || action === 'restart')
    ) {
      route =
        method === 'POST'
          ? { operation: action, servicePrincipalId: sp, jobId }
          : notSupported(action, sp, jobId);
    }
    if (route) {
      return badId && !route.error ? { ...route, error: badId } : route;
    }
  }
  const segment =
    segments.find((s, i) => i > 0 && !['synchronization', 'jobs'].includes(s)) ?? segments[0] ?? '';
  return {
    operation: 'unknown',
    ...none,
    error: {
      status: 400,
      body: { code: 'BadRequest', message: `Resource not found for the segment '${segment}'.` },
    },
  };
}

/**
 * Starts the Microsoft Graph synchronization simulator: Graph (`/v1.0`), an Entra ID token endpoint, and an
 * admin API (`/__sim/*`), all on one port that speaks both HTTP and HTTPS (the token endpoint must be HTTPS
 * for @azure/identity; Graph stays plain HTTP by default for benchmarks).
 */
export async function startGraphSimulator(opts: GraphSimulatorOptions = {}): Promise<RunningSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const tenantId = opts.tenantId ?? DEMO_TENANT_ID;
  const clientId = opts.clientId ?? DEMO_CLIENT_ID;
  const clientSecret = opts.clientSecret ?? DEMO_CLIENT_SECRET;
  const tlsMaterial =
    opts.tls ??
    createSelfSignedCertificate([
      '127.0.0.1',
      '::1',
      'localhost',
      ...(host.match(/^[\d.:]+$/) || host === 'localhost' ? [] : [host]),
      ...(opts.tlsHosts ?? []),
    ]);
  const state = new SimulatorState({
    ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
    ...(opts.requireAuth !== undefined ? { requireAuth: opts.requireAuth } : {}),
    ...(opts.tokenLifetimeSeconds !== undefined ? { tokenLifetimeSeconds: opts.tokenLifetimeSeconds } : {}),
    ...(opts.requestLogLimit !== undefined ? { requestLogLimit: opts.requestLogLimit } : {}),
    ...(opts.throttle ? { throttle: opts.throttle } : {}),
    ...(opts.batchOrder ? { batchOrder: opts.batchOrder } : {}),
  });
  const seed = (kind: 'demo' | 'empty'): void => {
    if (kind === 'demo') {
      state.putJobs(demoJobs());
    }
  };
  seed(opts.seed ?? 'demo');
  if (opts.jobs) {
    state.putJobs(opts.jobs, DEMO_SERVICE_PRINCIPAL_ID);
  }
  if (opts.fixturePath) {
    state.putJobs(loadFixture(opts.fixturePath), DEMO_SERVICE_PRINCIPAL_ID);
  }

  let origin = '';
  let graphOrigin = '';

  // ------------------------------------------------------------------ Graph

  const errorAnswer = (
    status: number,
    code: string | undefined,
    message: string | undefined,
    requestId: string,
    clientRequestId: string | null,
    retryAfter?: number | string,
  ): Answer => ({
    status,
    headers: retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {},
    body: graphError(
      status,
      code ?? DEFAULT_ERROR_CODES[status] ?? 'UnknownError',
      message ?? DEFAULT_ERROR_MESSAGES[status] ?? 'Error',
      requestId,
      clientRequestId,
    ),
  });

  /** Counts a Graph request received past authentication (before faults and throttling). */
  const countReceived = (route: Route): void => {
    const counters = state.mutableCounters;
    if (route.operation === 'start') {
      counters.startRequests += 1;
    }
    if (route.operation === 'restart') {
      counters.restartRequests += 1;
    }
    if (route.operation === 'list' || route.operation === 'get') {
      counters.reads += 1;
      if (route.operation === 'list') {
        counters.lists += 1;
      } else {
        counters.gets += 1;
      }
    }
  };

  /** Runs one routed Graph operation against the state (acts on start/pause). */
  const execute = (
    route: Route,
    requestId: string,
    clientRequestId: string | null,
    version: string,
    body?: unknown,
  ): Answer => {
    const sp = route.servicePrincipalId ?? '';
    if (route.error) {
      const body = route.error.body as { code: string; message: string };
      return errorAnswer(route.error.status, body.code, body.message, requestId, clientRequestId);
    }
    if (!state.hasServicePrincipal(sp)) {
      return errorAnswer(
        404,
        'Request_ResourceNotFound',
        `Resource '${sp}' does not exist or one of its queried reference-property objects are not present.`,
        requestId,
        clientRequestId,
      );
    }
    const context = `${graphOrigin}/${version}/$metadata#servicePrincipals('${sp}')/synchronization/jobs`;
    if (route.operation === 'list') {
      const jobs = state.listJobs(sp) ?? [];
      return {
        status: 200,
        body: { '@odata.context': context, value: jobs.map((j) => state.toGraphJson(j)) },
      };
    }
    const job = route.jobId === null ? undefined : state.getJob(sp, route.jobId);
    if (!job) {
      return errorAnswer(
        404,
        'Request_ResourceNotFound',
        `The synchronization job '${route.jobId ?? ''}' was not found.`,
        requestId,
        clientRequestId,
      );
    }
    switch (route.operation) {
      case 'get':
        return { status: 200, body: { '@odata.context': `${context}/$entity`, ...state.toGraphJson(job) } };
      case 'start':
        state.applyStart(job);
        return { status: 204 };
      case 'pause':
        state.applyPause(job);
        return { status: 204 };
      case 'restart': {
        // Graph's body: {"criteria":{"resetScope":"Watermark, Escrows"}}; criteria and resetScope may be left out.
        if (typeof body === 'symbol' || (body !== undefined && !isRecord(body))) {
          return errorAnswer(400, 'BadRequest', 'Invalid request body.', requestId, clientRequestId);
        }
        const criteria = body?.criteria;
        if (criteria !== undefined && criteria !== null && !isRecord(criteria)) {
          return errorAnswer(400, 'BadRequest', 'Invalid criteria.', requestId, clientRequestId);
        }
        const raw = isRecord(criteria) ? criteria.resetScope : undefined;
        if (raw !== undefined && raw !== null && typeof raw !== 'string') {
          return errorAnswer(
            400,
            'BadRequest',
            'Cannot convert the literal to the expected type Edm.String.',
            requestId,
            clientRequestId,
          );
        }
        const parsed = parseResetScope(typeof raw === 'string' ? raw : '');
        if (parsed.unknown.length > 0) {
          return errorAnswer(
            400,
            'BadRequest',
            `Requested value '${parsed.unknown[0] ?? ''}' was not found.`,
            requestId,
            clientRequestId,
          );
        }
        state.applyRestart(job, parsed.scopes);
        return { status: 204 };
      }
      default:
        return errorAnswer(400, 'BadRequest', 'Unsupported request.', requestId, clientRequestId);
    }
  };

  const faultAnswer = (fault: FaultRule, requestId: string, clientRequestId: string | null): Answer =>
    errorAnswer(fault.status ?? 500, fault.code, fault.message, requestId, clientRequestId, fault.retryAfter);

  const runBatch = (body: unknown, clientRequestId: string | null, version: string): Answer => {
    const requestId = randomUUID();
    state.mutableCounters.batchRequests += 1;
    const bad = (message: string): Answer =>
      errorAnswer(400, 'BadRequest', message, requestId, clientRequestId);
    if (!isRecord(body) || !Array.isArray(body.requests)) {
      return bad('Invalid batch payload format.');
    }
    const requests = body.requests as unknown[];
    if (requests.length === 0) {
      return bad('Invalid batch payload format: no requests.');
    }
    if (requests.length > BATCH_LIMIT) {
      return bad(`Number of batch requests exceeds the maximum of ${BATCH_LIMIT}.`);
    }
    const ids = new Set<string>();
    for (const item of requests) {
      if (
        !isRecord(item) ||
        typeof item.id !== 'string' ||
        typeof item.method !== 'string' ||
        typeof item.url !== 'string'
      ) {
        return bad('Invalid batch payload format: each request needs id, method and url.');
      }
      if (ids.has(item.id)) {
        return bad('Batch request contains duplicate ids.');
      }
      ids.add(item.id);
    }
    const responses = (requests as { id: string; method: string; url: string; body?: unknown }[]).map(
      (item) => {
        state.mutableCounters.batchItems += 1;
        const itemRequestId = randomUUID();
        const method = item.method.toUpperCase();
        const rawPath = (item.url.startsWith('/') ? item.url : `/${item.url}`).split('?')[0] ?? '/';
        const route = parseRoute(method, rawPath);
        countReceived(route);
        const fault = state.takeFault({ ...route, method, path: rawPath, viaBatch: true });
        let answer: Answer;
        if (fault) {
          answer = faultAnswer(fault, itemRequestId, clientRequestId);
        } else {
          const retryAfter = route.operation === 'unknown' ? null : state.throttle(route.operation);
          answer =
            retryAfter !== null
              ? errorAnswer(
                  429,
                  'TooManyRequests',
                  DEFAULT_ERROR_MESSAGES[429],
                  itemRequestId,
                  clientRequestId,
                  retryAfter,
                )
              : execute(route, itemRequestId, clientRequestId, version, item.body);
        }
        state.record({
          at: new Date().toISOString(),
          method,
          path: rawPath,
          operation: route.operation,
          servicePrincipalId: route.servicePrincipalId,
          jobId: route.jobId,
          status: answer.status,
          viaBatch: true,
          clientRequestId,
          requestId: itemRequestId,
          faultId: fault?.id ?? null,
        });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(answer.headers ?? {})) {
          headers[k.toLowerCase()] = v;
        }
        if (answer.body !== undefined) {
          headers['content-type'] = GRAPH_JSON;
        }
        return {
          id: item.id,
          status: answer.status,
          headers,
          ...(answer.body !== undefined ? { body: answer.body } : {}),
        };
      },
    );
    if (state.batchOrder === 'reverse') {
      responses.reverse();
    } else if (state.batchOrder === 'shuffle') {
      for (let i = responses.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        const a = responses[i];
        const b = responses[j];
        if (a !== undefined && b !== undefined) {
          responses[i] = b;
          responses[j] = a;
        }
      }
    }
    return { status: 200, body: { responses } };
  };

  const send = (
    res: http.ServerResponse,
    answer: Answer,
    requestId: string,
    clientRequestId: string | null,
  ): void => {
    const headers: Record<string, string> = {
      'request-id': requestId,
      'client-request-id': clientRequestId ?? requestId,
      'x-ms-ags-diagnostic': AGS_DIAGNOSTIC,
      'Cache-Control': 'no-cache',
      ...answer.headers,
    };
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers);
      res.end();
      return;
    }
    const payload = JSON.stringify(answer.body);
    headers['Content-Type'] = GRAPH_JSON;
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(answer.status, headers);
    res.end(payload);
  };

  const handleGraph = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    version: string,
    path: string,
  ): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const requestId = randomUUID();
    const crid = req.headers['client-request-id'];
    const clientRequestId = typeof crid === 'string' && crid !== '' ? crid : null;
    const bodyText = method === 'GET' || method === 'HEAD' ? (req.resume(), '') : await readBody(req);
    state.mutableCounters.requests += 1;
    if (state.latencyMs > 0) {
      await sleep(state.latencyMs);
    }
    const route = parseRoute(method, path);
    const log = (status: number | 'dropped' | 'hang', faultId: string | null): void =>
      state.record({
        at: new Date().toISOString(),
        method,
        path,
        operation: route.operation,
        servicePrincipalId: route.servicePrincipalId,
        jobId: route.jobId,
        status,
        viaBatch: false,
        clientRequestId,
        requestId,
        faultId,
      });

    if (state.requireAuth) {
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
      if (!state.isTokenValid(token)) {
        state.mutableCounters.unauthorized += 1;
        const answer = errorAnswer(
          401,
          'InvalidAuthenticationToken',
          token === '' ? 'Access token is empty.' : 'Lifetime validation failed, the token is expired.',
          requestId,
          clientRequestId,
        );
        answer.headers = {
          'WWW-Authenticate': `Bearer realm="", authorization_uri="${origin.replace(/^http:/, 'https:')}/${tenantId}/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
        };
        log(401, null);
        send(res, answer, requestId, clientRequestId);
        return;
      }
    }

    countReceived(route);
    const fault = state.takeFault({ ...route, method, path, viaBatch: false });
    let dropAfter = false;
    if (fault) {
      if (fault.latencyMs) {
        await sleep(fault.latencyMs);
      }
      const action = fault.action ?? (fault.status ? 'respond' : 'delay');
      if (action === 'dropBefore') {
        log('dropped', fault.id);
        req.socket.destroy();
        return;
      }
      if (action === 'hang') {
        log('hang', fault.id);
        return;
      }
      if (action === 'respond') {
        const answer = faultAnswer(fault, requestId, clientRequestId);
        log(answer.status, fault.id);
        send(res, answer, requestId, clientRequestId);
        return;
      }
      dropAfter = action === 'dropAfter';
    }

    let answer: Answer;
    const retryAfter =
      route.operation === 'unknown' || route.operation === 'batch' ? null : state.throttle(route.operation);
    if (retryAfter !== null) {
      answer = errorAnswer(
        429,
        'TooManyRequests',
        DEFAULT_ERROR_MESSAGES[429],
        requestId,
        clientRequestId,
        retryAfter,
      );
    } else if (route.operation === 'batch' && !route.error) {
      const parsed = parseJson(bodyText);
      answer = runBatch(parsed, clientRequestId, version);
    } else {
      answer = execute(
        route,
        requestId,
        clientRequestId,
        version,
        route.operation === 'restart' ? parseJson(bodyText) : undefined,
      );
    }
    if (dropAfter) {
      log('dropped', fault?.id ?? null);
      req.socket.destroy();
      return;
    }
    log(answer.status, fault?.id ?? null);
    send(res, answer, requestId, clientRequestId);
  };

  // ------------------------------------------------------------------ token endpoint (Entra ID v2)

  const sendJson = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ): void => {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(payload)),
      'Cache-Control': 'no-store',
      ...extra,
    });
    res.end(payload);
  };

  const aadError = (
    res: http.ServerResponse,
    status: number,
    error: string,
    aadsts: number,
    description: string,
  ): void => {
    const traceId = randomUUID();
    sendJson(res, status, {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${traceId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [aadsts],
      timestamp: new Date().toISOString(),
      trace_id: traceId,
      correlation_id: randomUUID(),
    });
  };

  const authorityOf = (req: http.IncomingMessage): string => {
    const scheme = req.socket instanceof TLSSocket ? 'https' : 'http';
    return `${scheme}://${req.headers.host ?? `${host}:${port}`}`;
  };

  const handleToken = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    tenant: string,
  ): Promise<void> => {
    const body = new URLSearchParams(await readBody(req));
    state.mutableCounters.tokenRequests += 1;
    const fault = state.takeFault({
      operation: 'token',
      method: 'POST',
      path: `/${tenant}/oauth2/v2.0/token`,
      servicePrincipalId: null,
      jobId: null,
      viaBatch: false,
    });
    const log = (status: number | 'dropped' | 'hang'): void =>
      state.record({
        at: new Date().toISOString(),
        method: 'POST',
        path: `/${tenant}/oauth2/v2.0/token`,
        operation: 'token',
        servicePrincipalId: null,
        jobId: null,
        status,
        viaBatch: false,
        clientRequestId: body.get('client-request-id'),
        requestId: randomUUID(),
        faultId: fault?.id ?? null,
      });
    if (fault) {
      if (fault.latencyMs) {
        await sleep(fault.latencyMs);
      }
      const action = fault.action ?? (fault.status ? 'respond' : 'delay');
      if (action === 'dropBefore' || action === 'dropAfter') {
        log('dropped');
        req.socket.destroy();
        return;
      }
      if (action === 'hang') {
        log('hang');
        return;
      }
      if (action === 'respond') {
        log(fault.status ?? 500);
        return aadError(
          res,
          fault.status ?? 500,
          fault.code ?? 'temporarily_unavailable',
          50000,
          fault.message ?? 'The service is temporarily unavailable.',
        );
      }
    }
    const fail = (status: number, error: string, code: number, description: string): void => {
      log(status);
      aadError(res, status, error, code, description);
    };
    if (tenant.toLowerCase() !== tenantId.toLowerCase()) {
      return fail(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (body.get('grant_type') !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (body.get('client_id') !== clientId) {
      return fail(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${body.get('client_id') ?? ''}' was not found in the directory.`,
      );
    }
    const secret = body.get('client_secret');
    const assertion = body.get('client_assertion');
    // A client assertion (certificate / workload identity) is accepted without checking its signature.
    if (secret !== null ? secret !== clientSecret : assertion === null) {
      return fail(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    }
    const scope = body.get('scope') ?? '';
    if (!scope.split(' ').some((s) => s.endsWith('/.default'))) {
      return fail(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`,
      );
    }
    const issued = state.issueToken();
    log(200);
    sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      ext_expires_in: issued.expiresIn,
      access_token: issued.token,
    });
  };

  const openIdConfiguration = (req: http.IncomingMessage, tenant: string): Record<string, unknown> => {
    const a = authorityOf(req);
    return {
      token_endpoint: `${a}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${a}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${a}/${tenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${graphOrigin}/oidc/userinfo`,
      authorization_endpoint: `${a}/${tenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${a}/${tenant}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${a}/${tenant}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid'],
      tenant_region_scope: 'WW',
      cloud_instance_name: 'graph-simulator',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: new URL(graphOrigin).host,
      rbac_url: 'https://pas.windows.net',
    };
  };

  // ------------------------------------------------------------------ admin API

  const handleAdmin = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const body = method === 'GET' ? (req.resume(), undefined) : parseJson(await readBody(req));
    if (typeof body === 'symbol') {
      return sendJson(res, 400, { error: 'invalid JSON body' });
    }
    const parts = path
      .split('/')
      .filter((s) => s !== '')
      .slice(1)
      .map((s) => decodeURIComponent(s));
    const [resource, a, b, c] = parts;
    try {
      if (resource === 'counters' && method === 'GET') {
        return sendJson(res, 200, state.counters());
      }
      if (resource === 'counters' && method === 'DELETE') {
        state.resetCounters();
        return sendJson(res, 200, { ok: true });
      }
      if (resource === 'requests' && method === 'GET') {
        const limit = Number(query.get('limit') ?? '0');
        const all = state.requests({
          ...(query.get('operation') ? { operation: query.get('operation') as SimOperation } : {}),
          ...(query.get('jobId') ? { jobId: query.get('jobId') as string } : {}),
        });
        return sendJson(res, 200, { items: limit > 0 ? all.slice(-limit) : all });
      }
      if (resource === 'requests' && method === 'DELETE') {
        state.resetLog();
        return sendJson(res, 200, { ok: true });
      }
      if (resource === 'reset' && method === 'POST') {
        state.reset();
        const kind = isRecord(body) && body.seed === 'empty' ? 'empty' : 'demo';
        seed(kind);
        return sendJson(res, 200, { ok: true, seed: kind });
      }
      if (resource === 'faults') {
        if (method === 'GET') {
          return sendJson(res, 200, { items: state.listFaults() });
        }
        if (method === 'DELETE' && a) {
          return sendJson(res, state.removeFault(a) ? 200 : 404, { ok: true });
        }
        if (method === 'DELETE') {
          state.clearFaults();
          return sendJson(res, 200, { ok: true });
        }
        if (method === 'POST') {
          const rules = Array.isArray(body)
            ? body
            : isRecord(body) && Array.isArray(body.faults)
              ? body.faults
              : [body];
          const ids = (rules as unknown[]).filter(isRecord).map((r) => state.addFault(r as FaultRule));
          return sendJson(res, 201, { ids });
        }
      }
      if (resource === 'throttle' && (method === 'POST' || method === 'PUT')) {
        state.setThrottle(
          isRecord(body) && typeof body.limit === 'number' ? (body as unknown as ThrottleConfig) : null,
        );
        return sendJson(res, 200, { ok: true });
      }
      if (resource === 'throttle' && method === 'DELETE') {
        state.setThrottle(null);
        return sendJson(res, 200, { ok: true });
      }
      if (resource === 'tokens' && a === 'expire' && method === 'POST') {
        state.expireTokens();
        return sendJson(res, 200, { ok: true });
      }
      if (resource === 'latency' && method === 'POST') {
        state.latencyMs = isRecord(body) && typeof body.latencyMs === 'number' ? body.latencyMs : 0;
        return sendJson(res, 200, { ok: true });
      }
      if (resource === 'ca' && method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
        res.end(tlsMaterial.cert);
        return;
      }
      if (resource === 'jobs') {
        if (method === 'GET' && !a) {
          const sp = query.get('servicePrincipalId');
          const jobs = sp ? (state.listJobs(sp) ?? []) : state.allJobs();
          return sendJson(res, 200, { items: jobs });
        }
        if (method === 'POST' && !a) {
          // { jobs: JobSeed[], replace?: boolean } | JobSeed[] | { servicePrincipalId, count, status }
          if (
            isRecord(body) &&
            typeof body.count === 'number' &&
            typeof body.servicePrincipalId === 'string'
          ) {
            if (body.replace === true) {
              state.clearJobs();
            }
            const status = SIM_STATUS_CODES.includes(body.status as SimStatusCode)
              ? (body.status as SimStatusCode)
              : 'Paused';
            const ids = state.seedJobs(
              body.servicePrincipalId,
              body.count,
              status,
              typeof body.reason === 'string' ? { reason: body.reason } : {},
            );
            return sendJson(res, 201, {
              count: ids.length,
              first: ids[0] ?? null,
              last: ids[ids.length - 1] ?? null,
            });
          }
          const seeds = Array.isArray(body)
            ? body
            : isRecord(body) && Array.isArray(body.jobs)
              ? body.jobs
              : null;
          if (!seeds) {
            return sendJson(res, 400, { error: 'expected { jobs: [...] } or an array of jobs' });
          }
          if (isRecord(body) && body.replace === true) {
            state.clearJobs();
          }
          if (isRecord(body) && typeof body.servicePrincipalId === 'string') {
            state.addServicePrincipal(body.servicePrincipalId);
          }
          state.putJobs(seeds as JobSeed[], DEMO_SERVICE_PRINCIPAL_ID);
          return sendJson(res, 201, { count: seeds.length });
        }
        if (a && b && !c && method === 'GET') {
          const job = state.getJob(a, b);
          return job ? sendJson(res, 200, job) : sendJson(res, 404, { error: 'no such job' });
        }
        if (a && b && !c && method === 'DELETE') {
          return sendJson(res, state.removeJob(a, b) ? 200 : 404, { ok: true });
        }
        if (a && b && !c && (method === 'PATCH' || method === 'POST')) {
          return sendJson(res, 200, state.updateJob(a, b, isRecord(body) ? body : {}));
        }
        if (a && b && c === 'quarantine' && method === 'POST') {
          const q = (isRecord(body) ? body : {}) as Partial<QuarantineSeed>;
          return sendJson(
            res,
            200,
            state.quarantine(a, b, { ...q, reason: q.reason ?? 'EncounteredQuarantineException' }),
          );
        }
        if (a && b && c === 'restart' && method === 'POST') {
          const job = state.getJob(a, b);
          if (!job) {
            return sendJson(res, 404, { error: 'no such job' });
          }
          const scope = isRecord(body) && typeof body.resetScope === 'string' ? body.resetScope : '';
          state.applyRestart(job, parseResetScope(scope).scopes);
          return sendJson(res, 200, job);
        }
        if (a && b && (c === 'start' || c === 'pause') && method === 'POST') {
          const job = state.getJob(a, b);
          if (!job) {
            return sendJson(res, 404, { error: 'no such job' });
          }
          if (c === 'start') {
            state.applyStart(job);
          } else {
            state.applyPause(job);
          }
          return sendJson(res, 200, job);
        }
      }
      return sendJson(res, 404, { error: `unknown admin route ${method} ${path}` });
    } catch (error) {
      return sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  };

  // ------------------------------------------------------------------ dispatch

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const work = async (): Promise<void> => {
      const versioned = /^\/(v1\.0|beta)(\/.*)$/.exec(path);
      if (versioned) {
        return handleGraph(req, res, versioned[1] ?? 'v1.0', versioned[2] ?? '/');
      }
      if (path.startsWith('/__sim/')) {
        return handleAdmin(req, res, path, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
      }
      const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
      if (token && req.method === 'POST') {
        return handleToken(req, res, decodeURIComponent(token[1] ?? ''));
      }
      const oidc = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
      if (oidc) {
        return sendJson(res, 200, openIdConfiguration(req, decodeURIComponent(oidc[1] ?? '')));
      }
      if (/^\/([^/]+)\/discovery\/v2\.0\/keys$/.test(path)) {
        return sendJson(res, 200, { keys: [] });
      }
      if (path === '/common/discovery/instance') {
        const a = authorityOf(req);
        return sendJson(res, 200, {
          tenant_discovery_endpoint: `${a}/${tenantId}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [
            {
              preferred_network: new URL(a).host,
              preferred_cache: new URL(a).host,
              aliases: [new URL(a).host],
            },
          ],
        });
      }
      if (path === '/' || path === '/__sim') {
        return sendJson(res, 200, {
          name: 'graph-simulator',
          graphBaseUrl: `${graphOrigin}/v1.0`,
          authorityHost: origin.replace(/^http:/, 'https:'),
          tenantId,
          clientId,
        });
      }
      req.resume();
      sendJson(res, 404, {
        error: { code: 'NotFound', message: `No route for ${req.method ?? ''} ${path}` },
      });
    };
    work().catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, {
          error: {
            code: 'InternalServerError',
            message: error instanceof Error ? error.message : String(error),
          },
        });
      } else {
        res.destroy();
      }
    });
  };

  const httpServer = http.createServer({ keepAliveTimeout: 5_000 }, handler);
  const httpsServer = https.createServer(
    { cert: tlsMaterial.cert, key: tlsMaterial.key, keepAliveTimeout: 5_000 },
    handler,
  );
  const sockets = new Set<net.Socket>();
  // One port, two protocols: a TLS ClientHello starts with 0x16.
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      (chunk[0] === 0x16 ? httpsServer : httpServer).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(opts.port ?? 0, host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const address = front.address();
  const port = typeof address === 'object' && address !== null ? address.port : (opts.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  origin = `${opts.preferHttps ? 'https' : 'http'}://${urlHost}:${port}`;
  graphOrigin = origin;
  const authorityHost = `https://${urlHost}:${port}`;

  return {
    origin,
    graphBaseUrl: `${origin}/v1.0`,
    authorityHost,
    port,
    tenantId,
    clientId,
    clientSecret,
    tlsCaCertificate: tlsMaterial.cert,
    credentialOptions: {
      tenantId,
      clientId,
      clientSecret,
      authorityHost,
      disableInstanceDiscovery: true,
      tlsCaCertificate: tlsMaterial.cert,
    },
    state,
    reset: (kind: 'demo' | 'empty' = 'demo') => {
      state.reset();
      seed(kind);
    },
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const socket of sockets) {
          socket.destroy();
        }
        sockets.clear();
      }),
  };
}

function loadFixture(path: string): JobSeed[] {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const jobs = Array.isArray(parsed)
    ? parsed
    : isRecord(parsed) && Array.isArray(parsed.jobs)
      ? parsed.jobs
      : null;
  if (!jobs) {
    throw new Error(`${path}: expected { "jobs": [...] } or an array of jobs`);
  }
  return jobs as JobSeed[];
}
