import { HttpGraphClient } from '@app/graph';
import { PrismaService } from '../../libs/persistence/src/prisma.service';
import { RecoveryLease } from '../../apps/api/src/recovery/recovery-lease';
import { RecoveryService } from '../../apps/api/src/recovery/recovery.service';
import { PeriodicWork } from '../../apps/api/src/scheduling/periodic-work';
import { type TestStack, startStack } from '../support/harness';

/**
 * The whole app's periodic work goes through the one scheduler seam, and on close it stops (and the recovery
 * lease is given up) before the database pool and the Graph client close: the order Nest's destroy hooks follow
 * because each feature module imports the modules it uses.
 */
const HEARTBEAT = 'recovery-lease-heartbeat';
/** Every periodic task of a leading replica with retention configured, by name. */
const TASKS = [
  'approvals-expiry',
  'audit-retention',
  'audit-retention-first',
  'notifications-dispatch',
  'notifications-retention',
  'pending-reconciliation',
  HEARTBEAT,
  'recovery-sweep',
];

describe('periodic work and shutdown order', () => {
  let stack: TestStack;
  const events: string[] = [];

  beforeAll(async () => {
    const record = <T extends object>(
      proto: T,
      method: keyof T & string,
      name: (args: unknown[]) => string,
    ) => {
      const original = proto[method] as (...args: unknown[]) => unknown;
      jest.spyOn(proto, method as never).mockImplementation(function (this: unknown, ...args: unknown[]) {
        events.push(name(args));
        return original.apply(this, args);
      } as never);
    };
    record(PeriodicWork.prototype, 'cancel', (args) => `cancel ${String(args[0])}`);
    record(RecoveryLease.prototype, 'release', () => 'lease released');
    record(PrismaService.prototype, 'onModuleDestroy', () => 'database pool closed');
    record(HttpGraphClient.prototype, 'close', () => 'graph client closed');
    stack = await startStack({ RECOVERY_ENABLED: 'true', AUDIT_RETENTION_DAYS: '30' });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await stack.close();
  });

  it('registers every periodic task by name in one place, and on close stops them before the pool and Graph', async () => {
    const periodic = stack.app.app.get(PeriodicWork);
    expect(periodic.names()).toEqual(TASKS.filter((t) => t !== HEARTBEAT));
    // A sweep makes this replica the leader: its heartbeat joins the registered tasks.
    expect(await stack.app.app.get(RecoveryService).sweep()).toMatchObject({
      leader: stack.app.config.replicaId,
    });
    expect(periodic.names()).toEqual(TASKS);

    events.length = 0;
    await stack.app.close();

    expect(periodic.names()).toEqual([]);
    const pool = events.indexOf('database pool closed');
    const graph = events.indexOf('graph client closed');
    expect(pool).toBeGreaterThan(-1);
    expect(graph).toBeGreaterThan(-1);
    for (const task of TASKS) {
      const cancelled = events.indexOf(`cancel ${task}`);
      expect([task, cancelled > -1 && cancelled < pool]).toEqual([task, true]);
    }
    expect(events.indexOf('lease released')).toBeLessThan(pool);
    expect(pool).toBeLessThan(graph);
  });
});
