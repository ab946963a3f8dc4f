import type { Server } from 'node:http';
import { type INestApplication, Logger as NestLogger, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module';
import type { AppConfig } from './config/app-config';
import { genReqId } from './http/logging';
import { sendProblem } from './http/problem';
import { setupOpenApi } from './http/openapi';
import { Lifecycle } from './health/lifecycle';
import { consoleRouter } from './console/console';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** The request id comes first, so even a refused body (413, 415) answers with it and its x-request-id header. */
function requestId(req: Request, res: Response, next: NextFunction): void {
  const r = req as Request & { id?: unknown };
  r.id ??= genReqId(req, res);
  next();
}

/** Strict JSON: a request that carries a body must say it is JSON (no form posts, no text/plain). */
function jsonOnly(req: Request, res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !req.is(JSON_TYPES)) {
    sendProblem(req, res, 415, 'request body must be JSON (Content-Type: application/json)');
    return;
  }
  next();
}

/** Body-parser errors become the problem shape (413 over the limit, 400 for malformed JSON). */
function bodyErrors(err: unknown, req: Request, res: Response, next: NextFunction): void {
  if (!err) {
    next();
    return;
  }
  const e = err as { type?: string; status?: number };
  if (e.type === 'entity.too.large' || e.status === 413) {
    sendProblem(req, res, 413, 'request body is larger than the limit');
  } else if (e.type === 'entity.parse.failed') {
    sendProblem(req, res, 400, 'request body is not valid JSON (a JSON object is expected)');
  } else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    sendProblem(req, res, 415, 'request body encoding or charset is not supported');
  } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    sendProblem(req, res, e.status, 'request body could not be read');
  } else {
    next(err);
  }
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
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, moduleOptions), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(requestId);
  app.use(helmet());
  app.use(jsonOnly);
  app.use(express.json({ limit: config.bodyLimitBytes, strict: true, type: JSON_TYPES }));
  app.use(bodyErrors);
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins });
  }
  app.use('/console', consoleRouter(config));
  app.enableVersioning({ type: VersioningType.URI });
  setupOpenApi(app);
  const server: Server = app.getHttpServer();
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 65_000;
  installGracefulShutdown(app, config, options.handleSignals ?? true);
  return app;
}
