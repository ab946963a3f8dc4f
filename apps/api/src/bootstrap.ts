import { type INestApplication, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module';
import type { AppConfig } from './config/app-config';
import { sendProblem } from './http/problem';
import { setupOpenApi } from './http/openapi';
import { Lifecycle } from './health/lifecycle';

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
    sendProblem(req, res, 400, 'request body is not valid JSON');
  } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    sendProblem(req, res, e.status, 'request body could not be read');
  } else {
    next(err);
  }
}

/** Builds the HTTP application exactly as production runs it; used by main, the dev launcher and the tests. */
export async function createApp(
  config: AppConfig,
  options: AppModuleOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, options), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(helmet());
  app.use(
    express.json({
      limit: config.bodyLimitBytes,
      strict: true,
      type: ['application/json', 'application/*+json'],
    }),
  );
  app.use(bodyErrors);
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins });
  }
  app.enableVersioning({ type: VersioningType.URI });
  setupOpenApi(app);
  app.enableShutdownHooks();
  const lifecycle = app.get(Lifecycle);
  const server = app.getHttpServer();
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 65_000;
  process.once('SIGTERM', () => {
    lifecycle.shuttingDown = true;
  });
  return app;
}
