import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthRepository } from '@app/persistence';
import { DB_POOL } from './metric-names';
import { MetricsService } from './metrics.service';

/** sjg_db_pool_connections{state=total|idle|waiting}: the shared node-postgres pool, read at each scrape. */
@Injectable()
export class DbPoolMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly database: HealthRepository,
  ) {}

  onModuleInit(): void {
    const gauge = this.metrics.gauge(DB_POOL);
    this.metrics.addCollector(() => {
      const stats = this.database.poolStats();
      gauge.set({ state: 'total' }, stats.total);
      gauge.set({ state: 'idle' }, stats.idle);
      gauge.set({ state: 'waiting' }, stats.waiting);
    });
  }
}
