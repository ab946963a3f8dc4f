export * from './prisma.service';
export * from './persistence.module';
export * from './guard.repository';
export * from './health.repository';
export * from './migrator';
export * from './attempt.mapper';
export * from './grant.repository';
export * from './embedded';
