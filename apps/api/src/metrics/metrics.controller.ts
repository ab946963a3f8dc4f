import {
  Controller,
  ForbiddenException,
  Get,
  Headers,
  Header,
  Inject,
  UnauthorizedException,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/auth.guard';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from './metrics.service';

@Controller('metrics')
@Public()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Prometheus text format; protected by METRICS_TOKEN when it is set. */
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async render(@Headers('authorization') authorization: string | undefined): Promise<string> {
    const token = this.config.metricsToken;
    if (token !== null) {
      if (!authorization) {
        throw new UnauthorizedException('METRICS_TOKEN is set: send it as a bearer token');
      }
      const given = Buffer.from(authorization.replace(/^Bearer\s+/i, ''));
      const expected = Buffer.from(token);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new ForbiddenException('wrong metrics token');
      }
    }
    return this.metrics.render();
  }
}
