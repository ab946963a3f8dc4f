import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier } from './auth/token-verifier';
import { ErrorsFilter } from './http/errors.filter';
import { loggerOptions } from './http/logging';
import { MetricsModule } from './metrics/metrics.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { AttemptsModule } from './attempts/attempts.module';
import { RecoveryModule } from './recovery/recovery.module';
import { GrantsModule } from './grants/grants.module';
import { StrictQueryInterceptor } from './http/strict-query';
import { ControlModule } from './control/control.module';
import { NotificationsModule } from './notifications/notifications.module';
import { GraphDoorModule } from './graph-door/graph-door.module';

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
    const verifier = new TokenVerifier({
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      jwksUri: config.auth.jwksUri,
      clockToleranceSeconds: config.auth.clockToleranceSeconds,
    });
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(config, options.logDestination)),
        // The feature modules; each imports what it uses (persistence, Graph, metrics, scheduling).
        MetricsModule,
        HealthModule,
        JobsModule,
        AttemptsModule,
        RecoveryModule,
        GrantsModule,
        ControlModule,
        NotificationsModule,
        GraphDoorModule,
      ],
      providers: [
        { provide: TokenVerifier, useValue: verifier },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ErrorsFilter },
        { provide: APP_INTERCEPTOR, useClass: StrictQueryInterceptor },
      ],
    };
  }
}
