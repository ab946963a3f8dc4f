/* A replica that only delivers notifications, in its own process, so a test can kill it mid-delivery (SIGKILL).
 * Run: node -r ./bench/swc-register.js test/support/dispatch-replica.ts (DATABASE_URL, REPLICA_ID, NOTIFY_*). */
import { SchedulerRegistry } from '@nestjs/schedule';
import { SystemClock } from '@app/common';
import { openRepositories } from '@app/persistence';
import { loadConfig } from '../../apps/api/src/config/app-config';
import { NotificationDispatcher } from '../../apps/api/src/notifications/dispatcher.service';
import { MetricsService } from '../../apps/api/src/metrics/metrics.service';
import { PeriodicWork } from '../../apps/api/src/scheduling/periodic-work';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const repos = openRepositories({ connectionString: config.databaseUrl ?? '', poolMax: 2 });
  const dispatcher = new NotificationDispatcher(
    repos.notifications,
    new MetricsService(),
    new PeriodicWork(new SchedulerRegistry()),
    new SystemClock(),
    config,
  );
  const claimed = await dispatcher.pump();
  process.stdout.write(`claimed ${claimed}\n`);
  // Stays up, the tries in flight, until it is killed.
  setInterval(() => undefined, 1000);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
