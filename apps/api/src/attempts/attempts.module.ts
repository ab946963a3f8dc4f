import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { AttemptsController } from './attempts.controller';
import { AttemptsService, AUDIT_CURSOR_CODEC } from './attempts.service';
import { CursorCodec } from './cursor';
import { RetentionService } from './retention.service';

/** The audit API (GET /v1/attempts, /stats, /export, /:attemptId) and the retention job. */
@Module({
  imports: [PersistenceModule, SchedulingModule],
  controllers: [AttemptsController],
  providers: [
    AttemptsService,
    RetentionService,
    // Cursor MAC key: AUDIT_CURSOR_KEY when set (same value on every replica; required in production), else a
    // fixed built-in key, for development only.
    {
      provide: AUDIT_CURSOR_CODEC,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new CursorCodec(config.auditCursorKey ?? undefined),
    },
  ],
  exports: [RetentionService],
})
export class AttemptsModule {}
