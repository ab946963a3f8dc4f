import { Module } from '@nestjs/common';
import { PrismaService } from './prisma.service';
import { GuardRepository } from './guard.repository';
import { HealthRepository } from './health.repository';
import { GrantRepository } from './grant.repository';
import { RecoveryRepository } from './recovery.repository';
import { AttemptRepository } from './attempt.repository';
import { RetentionRepository } from './retention.repository';
import { HoldRepository } from './hold.repository';
import { ApprovalRepository } from './approval.repository';
import { NotificationRepository } from './notification.repository';

const REPOSITORIES = [
  GuardRepository,
  HealthRepository,
  GrantRepository,
  RecoveryRepository,
  AttemptRepository,
  RetentionRepository,
  HoldRepository,
  ApprovalRepository,
  NotificationRepository,
];

/**
 * The repositories, over the one PrismaService (one connection pool) of the process. Every module that reads or
 * writes the database imports this module; it is a singleton however many import it. The connection settings
 * (PERSISTENCE_OPTIONS) are provided once by the application's root configuration module. PrismaService stays
 * inside: the rest of the service talks to the database through the repositories only.
 */
@Module({
  providers: [PrismaService, ...REPOSITORIES],
  exports: REPOSITORIES,
})
export class PersistenceModule {}
