import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { PersistenceModule } from '@app/persistence';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier } from './auth/token-verifier';
import { ErrorsFilter } from './http/errors.filter';
import { loggerOptions } from './http/logging';
import { GraphModule } from './graph.module';
import { MetricsModule } from './metrics/metrics.module';
import { HealthController } from './health/health.controller';
import { Lifecycle } from './health/lifecycle';
import { JobsController } from './jobs/jobs.controller';
import { JobsService } from './jobs/jobs.service';
import { GuardService } from './jobs/guard.service';

export interface AppModuleOptions {
  /** Where log lines go (tests capture them); defaults to stdout. */
  logDestination?: NodeJS.WritableStream;
}

@Module({})
export class AppModule {
  static register(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    if (config.databaseUrl === null) {
      throw new Error('DATABASE_URL is required');
    }
    if (config.auth.issuer === null || config.auth.audience === null) {
      throw new Error('AUTH_ISSUER and AUTH_AUDIENCE are required');
    }
    const verifierOptions = {
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      jwksUri: config.auth.jwksUri,
      clockToleranceSeconds: config.auth.clockToleranceSeconds,
    };
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(config, options.logDestination)),
        PersistenceModule.forRoot({ connectionString: config.databaseUrl, poolMax: config.databasePoolMax }),
        MetricsModule,
        GraphModule,
        TerminusModule,
      ],
      controllers: [HealthController, JobsController],
      providers: [
        Lifecycle,
        { provide: TokenVerifier, useValue: new TokenVerifier(verifierOptions) },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ErrorsFilter },
        GuardService,
        JobsService,
      ],
    };
  }
}
