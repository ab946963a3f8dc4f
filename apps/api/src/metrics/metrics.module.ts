import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { MetricsService } from './metrics.service';
import { MetricsController } from './metrics.controller';
import { DbPoolMetrics } from './db-pool.metrics';

/** GET /metrics and the one registry every module counts in; the database pool is read at each scrape. */
@Module({
  imports: [PersistenceModule],
  providers: [MetricsService, DbPoolMetrics],
  controllers: [MetricsController],
  exports: [MetricsService],
})
export class MetricsModule {}
