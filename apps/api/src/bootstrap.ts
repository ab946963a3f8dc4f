import type { IncomingMessage, Server } from 'node:http';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { type INestApplication, Logger as NestLogger, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from '@fastify/helmet';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import { DomainError, ErrorCode } from '@app/common';
import { parse as parseQuery } from 'qs';
import { AppModule, type AppModuleOptions } from './app.module';
import type { AppConfig } from './config/app-config';
import { inboundRequestId } from './http/logging';
import { sendProblem } from './http/problem';
import { setupOpenApi } from './http/openapi';
import { Lifecycle } from './health/lifecycle';
import { registerConsole } from './console/console';

/** The media types whose bodies are parsed (as strict JSON); any other body is refused with 415. */
const JSON_TYPE = /^application\/(?:[^;\s]+\+)?json\s*(?:;|$)/i;

/**
 * The request id comes first, so even a refused body (413, 415) answers with it and its x-request-id header.
 * The access log (pino-http) reads it from the raw request.
 */
function requestId(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  (request.raw as IncomingMessage & { id?: string }).id = request.id;
  void reply.header('x-request-id', request.id);
  done();
}

/** Strict JSON: a request that carries a body must say it is JSON (no form posts, no text/plain). */
function jsonOnly(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const { headers } = request;
  const length = headers['content-length'];
  const hasBody = headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !JSON_TYPE.test(headers['content-type'] ?? '')) {
    sendProblem(request, reply, 415, 'request body must be JSON (Content-Type: application/json)');
    return;
  }
  done();
}

/** Compressed request bodies as Graph takes them (an SDK's compression handler may gzip a POST's body). */
const INFLATERS: ReadonlyMap<string, () => Transform> = new Map([
  ['gzip', () => createGunzip()],
  ['x-gzip', () => createGunzip()],
  ['deflate', () => createInflate()],
  ['br', () => createBrotliDecompress()],
]);

function contentEncoding(request: FastifyRequest): string | undefined {
  return request.headers['content-encoding']?.trim().toLowerCase();
}

/**
 * A compressed body is inflated before it is read: the body limit applies to the inflated bytes, and
 * `receivedEncodedLength` lets Fastify match the bytes received with Content-Length. Other encodings reach
 * `parseStrictJson`, which refuses them (415); a body that does not inflate is a 400.
 */
function inflate(
  request: FastifyRequest,
  _reply: FastifyReply,
  payload: Readable,
  done: (err: Error | null, body?: Readable) => void,
): void {
  const encoding = contentEncoding(request);
  // GET and HEAD bodies are never read: nothing to inflate.
  const inflater =
    request.method === 'GET' || request.method === 'HEAD' || encoding === undefined
      ? undefined
      : INFLATERS.get(encoding)?.();
  if (inflater === undefined) {
    done(null, payload);
    return;
  }
  const inflated = new PassThrough() as PassThrough & { receivedEncodedLength: number };
  inflated.receivedEncodedLength = 0;
  // Fastify's body reader listens for the error while it reads; one that comes after it stopped (a 413 answered
  // before the rest of a corrupt body arrived) must not go unheard, which would end the process.
  inflated.on('error', () => undefined);
  payload.on('data', (chunk: Buffer) => {
    inflated.receivedEncodedLength += chunk.length;
  });
  const unreadable = (cause: Error): void => {
    inflated.destroy(
      new DomainError(ErrorCode.INVALID_INPUT, `request body is not valid ${encoding ?? ''} data`, { cause }),
    );
  };
  payload.on('error', unreadable);
  inflater.on('error', unreadable);
  done(null, payload.pipe(inflater).pipe(inflated));
}

const BAD_JSON = 'request body is not valid JSON (a JSON object is expected)';
const UNSUPPORTED_ENCODING = 'request body encoding or charset is not supported';

/** A JSON object or array in UTF-8, uncompressed or inflated by `inflate`; an empty body is no body. */
function parseStrictJson(
  request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
  const encoding = contentEncoding(request);
  if (
    (charset !== undefined && !/^utf-8$/i.test(charset)) ||
    (encoding !== undefined && encoding !== 'identity' && !INFLATERS.has(encoding))
  ) {
    done(new DomainError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_ENCODING));
    return;
  }
  if (body.length === 0) {
    done(null, undefined);
    return;
  }
  const first = /\S/.exec(body)?.[0];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body) as unknown;
  } catch {
    done(new DomainError(ErrorCode.INVALID_INPUT, BAD_JSON));
    return;
  }
  done(first === '{' || first === '[' ? null : new DomainError(ErrorCode.INVALID_INPUT, BAD_JSON), parsed);
}

/** A request without a body (checked by `jsonOnly`) whatever its Content-Type: nothing to read. */
function noBody(
  _request: FastifyRequest,
  _payload: unknown,
  done: (err: Error | null, body?: unknown) => void,
): void {
  done(null, undefined);
}

/**
 * Stops accepting connections and waits for in-flight requests to be answered (a guarded start finalises its
 * attempt row before it answers). Idle keep-alive connections are closed as they appear; whatever is still
 * open at the deadline is cut.
 */
function drainHttp(server: Server, deadlineMs: number): Promise<void> {
  if (!server.listening) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    idle.unref();
    deadline.unref();
    server.close(() => {
      clearInterval(idle);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Graceful shutdown. Nest's shutdown runs the modules' destroy hooks (the database pool ends) before it closes
 * the HTTP server, which would fail in-flight starts. Its first step is the HTTP adapter's `beforeClose`, so that
 * is where readiness turns 503 and HTTP drains; Nest then stops the scheduler and closes the pool and the Graph
 * client. `app.close()` and SIGTERM/SIGINT both go this way; after a signal the process exits when done, or at
 * the SHUTDOWN_TIMEOUT_SECONDS hard deadline whatever is still running.
 */
function installGracefulShutdown(app: INestApplication, config: AppConfig, handleSignals: boolean): void {
  const lifecycle = app.get(Lifecycle);
  const server = app.getHttpServer() as Server;
  const adapter = app.getHttpAdapter() as { beforeClose?: () => unknown };
  const logger = new NestLogger('shutdown');
  const timeoutMs = config.shutdownTimeoutSeconds * 1000;
  const adapterBeforeClose = adapter.beforeClose?.bind(adapter);

  adapter.beforeClose = async () => {
    lifecycle.shuttingDown = true;
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    // Most of the budget drains requests; the rest is for Nest's hooks (scheduler, pool, Graph client).
    await drainHttp(server, Math.max(1000, timeoutMs - Math.min(5000, timeoutMs / 5)));
    await adapterBeforeClose?.();
  };

  function onSignal(signal: NodeJS.Signals): void {
    lifecycle.shuttingDown = true;
    logger.log(`${signal} received: draining (at most ${config.shutdownTimeoutSeconds}s)`);
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${config.shutdownTimeoutSeconds}s; exiting`);
      process.exit(1);
    }, timeoutMs).unref();
    // Another handler of this signal (the development launcher) owns the process exit after its own clean-up.
    const exitWhenClosed = process.listenerCount(signal) === 0;
    app.close().then(
      () => {
        if (exitWhenClosed) {
          process.exit(0);
        }
      },
      (error: unknown) => {
        logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  }

  if (handleSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
}

export interface CreateAppOptions extends AppModuleOptions {
  /**
   * SIGTERM and SIGINT close the app (drained, within SHUTDOWN_TIMEOUT_SECONDS) and exit: true by default. The
   * development launcher says false: it owns the signals, and stops the app before what the app uses.
   */
  handleSignals?: boolean;
}

/**
 * The one bootstrap: builds the HTTP application exactly as production runs it, for both entry points
 * (`main.ts` in production, `dev/dev-main.ts` for `npm start`) and the tests. Graceful shutdown is always
 * installed; see `installGracefulShutdown`.
 */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<INestApplication> {
  const { handleSignals: _signals, ...moduleOptions } = options;
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    genReqId: inboundRequestId,
    routerOptions: {
      // Nested keys and arrays (`a[b]=1`, `a=1&a=2`) read as they always have.
      querystringParser: (query) => parseQuery(query, { allowPrototypes: true }),
      ignoreTrailingSlash: true,
      // Paths match in any case, as they always have (`/V1/attempts`); parameters keep the case they were sent in.
      caseSensitive: false,
      // Overlong ids reach the validation that refuses them (and records a rejected attempt), not a bare 414.
      maxParamLength: 16_384,
    },
    // What Fastify refuses before routing (a path that is not valid URL encoding, `%zz`) answers in the problem
    // shape with our code and request id (the door's envelope under /v1.0 and /beta), never Fastify's own body.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('x-request-id', request.id);
      const message =
        error.code === 'FST_ERR_BAD_URL'
          ? 'the request path is not valid URL encoding'
          : 'the request could not be read';
      sendProblem(request, reply, 400, message, ErrorCode.INVALID_INPUT);
    },
    requestTimeout: 60_000,
    keepAliveTimeout: 65_000,
    // Shutdown drains the server itself (installGracefulShutdown).
    forceCloseConnections: false,
    return503OnClosing: false,
  });
  const instance = adapter.getInstance();
  instance.addHook('onRequest', requestId);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, moduleOptions),
    adapter,
    { bodyParser: false, bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  await app.register(helmet);
  instance.addHook('onRequest', jsonOnly);
  instance.addHook('preParsing', inflate);
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, parseStrictJson);
  instance.addContentTypeParser('*', noBody);
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins });
  }
  registerConsole(instance, config);
  app.enableVersioning({ type: VersioningType.URI });
  setupOpenApi(app);
  const server: Server = app.getHttpServer();
  server.headersTimeout = 20_000;
  installGracefulShutdown(app, config, options.handleSignals ?? true);
  return app;
}
