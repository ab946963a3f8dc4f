/**
 * Writes apps/api/openapi.json from the code, without a database, Graph or a listening port:
 * `node -r ./bench/swc-register.js scripts/openapi.ts` (`npm run openapi`). Nest's preview mode builds the
 * module graph and routes but instantiates no provider, so nothing connects anywhere. The e2e test
 * test/e2e/openapi.e2e-spec.ts fails when the committed file differs from what a running app serves.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { VersioningType } from '@nestjs/common';
import { AppModule } from '../apps/api/src/app.module';
import { loadConfig } from '../apps/api/src/config/app-config';
import { buildOpenApiDocument, serialiseOpenApi } from '../apps/api/src/http/openapi';

export const OPENAPI_FILE = join(__dirname, '..', 'apps', 'api', 'openapi.json');

async function main(): Promise<void> {
  const config = loadConfig({
    DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
    AUTH_ISSUER: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
    AUTH_AUDIENCE: 'api://sync-job-guard',
    AUTH_JWKS_URI: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
    GRAPH_MODE: 'simulator',
    RECOVERY_ENABLED: 'false',
    LOG_LEVEL: 'silent',
  });
  const app = await NestFactory.create(AppModule.register(config), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  // The same routing options as bootstrap.ts (createApp): URI versioning gives the /v1 prefix.
  app.enableVersioning({ type: VersioningType.URI });
  await app.init();
  writeFileSync(OPENAPI_FILE, serialiseOpenApi(buildOpenApiDocument(app)));
  await app.close();
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `openapi: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
