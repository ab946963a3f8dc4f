import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/app-config';
import { createApp } from './bootstrap';
import { checkDatabase } from './startup';

/** `npm run start:prod`: the built API from environment configuration. Never builds or migrates. */
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

main().catch((error: unknown) => {
  process.stderr.write(
    `sync-job-guard failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
