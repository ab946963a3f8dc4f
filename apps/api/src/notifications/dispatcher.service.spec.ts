import { SchedulerRegistry } from '@nestjs/schedule';
import { ManualClock } from '@app/common';
import type { ClaimedDelivery, DeliveryResult, Listening } from '@app/persistence';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { PeriodicWork } from '../scheduling/periodic-work';
import {
  type DispatchStore,
  NOTIFY_INTERVAL_NAME,
  NOTIFY_RETENTION_NAME,
  NotificationDispatcher,
} from './dispatcher.service';

const T0 = new Date('2026-11-29T12:00:00.000Z');
const DAY = 86_400_000;

/** The outbox in memory: what was asked of it, nothing due unless a test says so. */
class FakeOutbox implements DispatchStore {
  readonly claims: Date[] = [];
  readonly purges: Date[] = [];
  countReads = 0;
  listening = 0;
  closed = 0;

  upsertManagedWebhook(): ReturnType<DispatchStore['upsertManagedWebhook']> {
    return Promise.reject(new Error('not configured in these tests'));
  }

  listen(onWake: () => void): Listening {
    this.listening += 1;
    onWake();
    return {
      close: () => {
        this.closed += 1;
        return Promise.resolve();
      },
    };
  }

  claimDue(_holder: string, now: Date): Promise<ClaimedDelivery[]> {
    this.claims.push(now);
    return Promise.resolve([]);
  }

  recordResult(_r: DeliveryResult): Promise<boolean> {
    return Promise.resolve(true);
  }

  purgeDelivered(before: Date): Promise<number> {
    this.purges.push(before);
    return Promise.resolve(0);
  }

  countByState(): ReturnType<DispatchStore['countByState']> {
    this.countReads += 1;
    return Promise.resolve({ pending: 0, delivering: 0, delivered: 0, failed: 0, dead: 0 });
  }
}

describe('NotificationDispatcher (scheduling and time)', () => {
  let outbox: FakeOutbox;
  let clock: ManualClock;
  let periodic: PeriodicWork;

  function dispatcher(env: Record<string, string> = {}): NotificationDispatcher {
    const config = loadConfig({ REPLICA_ID: 'replica-n', NOTIFY_RETENTION_DAYS: '30', ...env });
    return new NotificationDispatcher(outbox, new MetricsService(), periodic, clock, config);
  }

  beforeEach(() => {
    outbox = new FakeOutbox();
    clock = new ManualClock(T0);
    periodic = new PeriodicWork(new SchedulerRegistry());
  });

  afterEach(() => {
    periodic.onApplicationShutdown();
  });

  it('registers the pump and the retention in the scheduler, listens, and stops all of it on destroy', async () => {
    const d = dispatcher();
    await d.onApplicationBootstrap();
    expect(periodic.names()).toEqual([NOTIFY_INTERVAL_NAME, NOTIFY_RETENTION_NAME]);
    expect(outbox.listening).toBe(1);
    await d.onModuleDestroy();
    expect(periodic.names()).toEqual([]);
    expect(outbox.closed).toBe(1);
  });

  it('schedules nothing on a replica that does not deliver', async () => {
    const d = dispatcher({ NOTIFY_DISPATCH_ENABLED: 'false' });
    await d.onApplicationBootstrap();
    expect(periodic.names()).toEqual([]);
    expect(outbox.listening).toBe(0);
  });

  it('claims what is due as of the clock', async () => {
    const d = dispatcher();
    await d.runOnce();
    clock.advance(90_000);
    await d.runOnce();
    expect(outbox.claims).toEqual([T0, new Date(T0.getTime() + 90_000)]);
  });

  it('purges delivered events older than NOTIFY_RETENTION_DAYS as of the clock', async () => {
    const d = dispatcher();
    await d.onApplicationBootstrap();
    expect(periodic.runNow(NOTIFY_RETENTION_NAME)).toBe(true);
    clock.advance(DAY);
    await d.purge();
    await d.onModuleDestroy();
    expect(outbox.purges).toEqual([new Date(T0.getTime() - 30 * DAY), new Date(T0.getTime() - 29 * DAY)]);
  });

  it('refreshes the queue gauges at most every 5 s of the clock', async () => {
    const d = dispatcher();
    await d.onApplicationBootstrap();
    const reads = outbox.countReads;
    periodic.runNow(NOTIFY_INTERVAL_NAME);
    periodic.runNow(NOTIFY_INTERVAL_NAME);
    await d.idle();
    expect(outbox.countReads).toBe(reads);
    clock.advance(5000);
    periodic.runNow(NOTIFY_INTERVAL_NAME);
    expect(outbox.countReads).toBe(reads + 1);
    await d.onModuleDestroy();
  });
});
