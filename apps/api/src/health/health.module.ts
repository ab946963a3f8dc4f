import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PersistenceModule } from '@app/persistence';
import { HealthController } from './health.controller';
import { Lifecycle } from './lifecycle';

/** Liveness and readiness; `Lifecycle` (shutting down or not) for the modules whose work stops on shutdown. */
@Module({
  imports: [TerminusModule, PersistenceModule],
  controllers: [HealthController],
  providers: [Lifecycle],
  exports: [Lifecycle],
})
export class HealthModule {}
