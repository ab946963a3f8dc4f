import { PrismaService, type PersistenceOptions } from './prisma.service';
import { GuardRepository } from './guard.repository';
import { HealthRepository } from './health.repository';
import { GrantRepository } from './grant.repository';
import { RecoveryRepository } from './recovery.repository';
import { AttemptRepository } from './attempt.repository';
import { RetentionRepository } from './retention.repository';
import { HoldRepository } from './hold.repository';
import { ApprovalRepository } from './approval.repository';
import { NotificationRepository } from './notification.repository';

/** Every repository over one connection pool, built without Nest (tests, benchmarks, tools). */
export interface Repositories {
  guard: GuardRepository;
  attempts: AttemptRepository;
  grants: GrantRepository;
  recovery: RecoveryRepository;
  retention: RetentionRepository;
  holds: HoldRepository;
  approvals: ApprovalRepository;
  notifications: NotificationRepository;
  health: HealthRepository;
  /** A repository of a subclass (a test's repository that fails on cue), over the same pool. */
  build<T>(repository: new (db: PrismaService) => T): T;
  /** Ends the pool and every connection the repositories opened. */
  close(): Promise<void>;
}

/** Opens one connection pool and builds every repository on it, as PersistenceModule does inside Nest. */
export function openRepositories(options: PersistenceOptions): Repositories {
  const db = new PrismaService(options);
  const attempts = new AttemptRepository(db, options);
  return {
    guard: new GuardRepository(db),
    attempts,
    grants: new GrantRepository(db),
    recovery: new RecoveryRepository(db),
    retention: new RetentionRepository(db),
    holds: new HoldRepository(db),
    approvals: new ApprovalRepository(db),
    notifications: new NotificationRepository(db),
    health: new HealthRepository(db),
    build: (repository) => new repository(db),
    close: async () => {
      await attempts.onModuleDestroy();
      await db.onModuleDestroy();
    },
  };
}
