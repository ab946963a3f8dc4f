import { DynamicModule, Global, Module } from '@nestjs/common';
import { PERSISTENCE_OPTIONS, type PersistenceOptions, PrismaService } from './prisma.service';
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
  PrismaService,
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

@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [{ provide: PERSISTENCE_OPTIONS, useValue: options }, ...REPOSITORIES],
      exports: REPOSITORIES,
    };
  }
}
