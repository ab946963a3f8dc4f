import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { PeriodicWork } from '../scheduling/periodic-work';
import { RecoveryService } from './recovery.service';

/** Name of the sweep's interval in the scheduler. */
export const RECOVERY_INTERVAL_NAME = 'recovery-sweep';

/**
 * Every RECOVERY_INTERVAL_SECONDS each replica ticks; the tick sweeps if this replica wins the leader lease, so a
 * dead leader is replaced by the first replica that ticks after its lease ran out (DESIGN 3a).
 */
@Injectable()
export class RecoveryScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RecoveryScheduler.name);

  constructor(
    private readonly recovery: RecoveryService,
    private readonly periodic: PeriodicWork,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.recovery.enabled) {
      this.logger.log('scheduled recovery is disabled (RECOVERY_ENABLED=false)');
      return;
    }
    this.periodic.every(RECOVERY_INTERVAL_NAME, this.config.recovery.intervalSeconds * 1000, () =>
      this.recovery.tick(),
    );
    this.logger.log(
      `scheduled recovery every ${this.config.recovery.intervalSeconds} s (replica ${this.config.replicaId})`,
    );
  }

  /** No new tick once the module stops; RecoveryService's own hook finishes the sweep in progress. */
  onModuleDestroy(): void {
    this.periodic.cancel(RECOVERY_INTERVAL_NAME);
  }
}
