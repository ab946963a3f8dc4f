import 'reflect-metadata';
import { hasMigrations } from '@app/persistence';
import { ConfigError, loadConfig } from './config/app-config';
import { createApp } from './bootstrap';

/**
 * Production entry (`npm run start:prod`, the container's CMD): the built API from environment configuration.
 * Never builds or migrates: the database must be reachable and migrated (`npm run db:migrate`). The development
 * entry is `dev/dev-main.ts` (`npm start`); both build the app with `createApp` (bootstrap.ts).
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config.databaseUrl === null || config.auth.issuer === null) {
    process.stderr.write(
      'DATABASE_URL, AUTH_ISSUER and AUTH_AUDIENCE are required; for a zero-setup development run use `npm start`\n',
    );
    process.exit(2);
  }
  await checkDatabase(config.databaseUrl);
  const app = await createApp(config);
  await app.listen(config.port, config.host);
}

/** A clear message and a non-zero exit when the database is missing or was never migrated. */
async function checkDatabase(databaseUrl: string): Promise<void> {
  let migrated: boolean;
  try {
    migrated = await hasMigrations(databaseUrl);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`database check failed: ${message}`, { cause: error });
  }
  if (!migrated) {
    throw new Error(
      'database check failed: the database has no migrations applied; run `npm run db:migrate` first',
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sync-job-guard failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
