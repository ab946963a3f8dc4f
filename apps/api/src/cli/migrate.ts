import { migrate } from '@app/persistence';

/** `npm run db:migrate`: applies committed migrations to DATABASE_URL. Idempotent. */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL is required\n');
    process.exit(2);
  }
  const result = await migrate(url);
  for (const w of result.warnings) {
    process.stderr.write(`warning: ${w}\n`);
  }
  process.stdout.write(
    result.applied.length > 0
      ? `applied ${result.applied.length} migration(s): ${result.applied.join(', ')}\n`
      : `database is up to date (${result.alreadyApplied.length} migration(s) applied)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`db:migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
