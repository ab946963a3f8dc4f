import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';
import { MetricsController } from './metrics.controller';
import { DbPoolMetrics } from './db-pool.metrics';

@Global()
@Module({
  providers: [MetricsService, DbPoolMetrics],
  controllers: [MetricsController],
  exports: [MetricsService],
})
export class MetricsModule {}
