export {
  PERSISTENCE_OPTIONS,
  type PersistenceOptions,
  type Listening,
  type PoolStats,
} from './prisma.service';
export * from './persistence.module';
export * from './repositories';
export * from './database-admin';
export * from './guard.repository';
export * from './health.repository';
export * from './migrator';
export * from './attempt.mapper';
export * from './grant.repository';
export * from './embedded';
export * from './recovery.repository';
export * from './attempt.repository';
export * from './retention.repository';
export * from './hold.repository';
export * from './approval.repository';
export * from './notification.repository';
export * from './store-errors';
export type { Sql } from './sql';
