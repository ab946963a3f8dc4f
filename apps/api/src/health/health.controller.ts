import { Controller, Get, Logger } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthRepository } from '@app/persistence';
import { Public } from '../auth/auth.guard';
import { Lifecycle } from './lifecycle';

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly repo: HealthRepository,
    private readonly lifecycle: Lifecycle,
  ) {}

  /** The process answers. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }

  /** Ready to take traffic: not shutting down, database reachable, every committed migration applied. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: not shutting down, database reachable, every migration applied (503 otherwise)',
  })
  ready() {
    return this.health.check([
      () => {
        const session = this.indicators.check('lifecycle');
        return this.lifecycle.shuttingDown ? session.down({ message: 'shutting down' }) : session.up();
      },
      async () => {
        const session = this.indicators.check('database');
        try {
          const pending = await Promise.race([
            this.repo.pendingMigrations(),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 3000).unref()),
          ]);
          if (pending.length === 0) {
            return session.up();
          }
          this.logger.warn(`not ready: migrations not applied: ${pending.join(', ')}`);
          return session.down({ message: `${pending.length} migration(s) not applied` });
        } catch (error) {
          // Unauthenticated endpoint: the driver's text (hosts, database names) goes to the log only.
          this.logger.warn(
            `not ready: database unreachable: ${error instanceof Error ? error.message : String(error)}`,
          );
          return session.down({ message: 'database unreachable' });
        }
      },
    ]);
  }
}
