import { notificationsBenchMarkdown, runNotificationsBench } from './notifications.bench';

/**
 * npm run bench:notifications [-- --smoke] [--events N]
 * Uses DATABASE_URL (an admin connection: a throwaway database is created and dropped), else the local server.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const eventsArg = args.indexOf('--events');
  const events = eventsArg >= 0 ? Number(args[eventsArg + 1]) : smoke ? 200 : 5000;
  const result = await runNotificationsBench({
    adminUrl: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    events,
    latencySamples: smoke ? 20 : 200,
    smoke,
    log: (l) => console.error(l),
  });
  console.log(notificationsBenchMarkdown(result));
  console.error(`${result.checks.length} checks passed`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
