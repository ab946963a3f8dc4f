import { Controller, Get, Headers, Header, Inject } from '@nestjs/common';
import { DomainError, ErrorCode } from '@app/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { timingSafeEqual } from 'node:crypto';
import { ProblemDto } from '../http/problem.dto';
import { Public } from '../auth/auth.guard';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from './metrics.service';

@ApiTags('metrics')
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Prometheus text format; protected by METRICS_TOKEN when it is set. */
  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format)',
    description:
      'Needs no Entra token; when METRICS_TOKEN is set, send it as `Authorization: Bearer <METRICS_TOKEN>`.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  @ApiResponse({ status: 401, type: ProblemDto, description: 'METRICS_TOKEN is set and no token was sent' })
  @ApiResponse({ status: 403, type: ProblemDto, description: 'Wrong metrics token' })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async render(@Headers('authorization') authorization: string | undefined): Promise<string> {
    const token = this.config.metricsToken;
    if (token !== null) {
      if (!authorization) {
        throw new DomainError(ErrorCode.UNAUTHENTICATED, 'METRICS_TOKEN is set: send it as a bearer token');
      }
      const given = Buffer.from(authorization.replace(/^Bearer\s+/i, ''));
      const expected = Buffer.from(token);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new DomainError(ErrorCode.FORBIDDEN, 'wrong metrics token');
      }
    }
    return this.metrics.render();
  }
}
