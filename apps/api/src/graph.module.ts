import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HttpGraphClient, GraphClient, createGraphCredential } from '@app/graph';
import { APP_CONFIG } from './config/config.module';
import type { AppConfig } from './config/app-config';
import { MetricsModule } from './metrics/metrics.module';
import { MetricsService } from './metrics/metrics.service';
import { GRAPH_DURATION, GRAPH_REQUESTS, GRAPH_THROTTLED, GRAPH_TOKENS } from './metrics/metric-names';

/** Builds the one Graph client of the process from configuration, with metrics and logs wired in. */
export function createGraphClient(config: AppConfig, metrics: MetricsService): GraphClient {
  const g = config.graph;
  const logger = new Logger('graph');
  const credential = createGraphCredential({
    tenantId: g.tenantId ?? undefined,
    clientId: g.clientId ?? undefined,
    clientSecret: g.clientSecret ?? undefined,
    certificatePath: g.certificatePath ?? undefined,
    federatedTokenFile: g.federatedTokenFile ?? undefined,
    authorityHost: g.authorityHost ?? undefined,
    tlsCaCertificate: g.tlsCaCertificate ?? undefined,
  });
  return new HttpGraphClient({
    baseUrl: g.baseUrl,
    credential,
    timeoutMs: g.timeoutMs,
    tlsCaCertificate: g.tlsCaCertificate ?? undefined,
    logger: {
      debug: (message, fields) => logger.debug({ msg: message, ...fields }),
      warn: (message, fields) => logger.warn({ msg: message, ...fields }),
    },
    onExchange: (info) => {
      metrics.counter(GRAPH_REQUESTS).inc({ operation: info.operation, status: String(info.status) });
      metrics.histogram(GRAPH_DURATION).observe({ operation: info.operation }, info.durationMs / 1000);
      if (info.status === 429) {
        metrics.counter(GRAPH_THROTTLED).inc({ operation: info.operation });
      }
    },
    onToken: (_durationMs, ok) => metrics.counter(GRAPH_TOKENS).inc({ result: ok ? 'ok' : 'error' }),
  });
}

/** The one Graph client of the process; closed after every module that uses it has stopped. */
@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: GraphClient,
      inject: [APP_CONFIG, MetricsService],
      useFactory: createGraphClient,
    },
  ],
  exports: [GraphClient],
})
export class GraphModule implements OnApplicationShutdown {
  constructor(@Inject(GraphClient) private readonly client: GraphClient) {}

  onApplicationShutdown(): void {
    if (this.client instanceof HttpGraphClient) {
      this.client.close();
    }
  }
}
