import { DynamicModule, Global, Module } from '@nestjs/common';
import { PERSISTENCE_OPTIONS, type PersistenceOptions } from '@app/persistence';
import type { AppConfig } from './app-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * The process's configuration, loaded and checked once by the entry point (main, the development launcher, a
 * test) and provided here as values: APP_CONFIG, and the database settings PersistenceModule's pool reads.
 *
 * The one global module, on purpose: configuration is a value every module reads, not a service with
 * dependencies of its own, and being global lets every feature module stay a plain static module (imported by
 * class) instead of a dynamic one rebuilt from the configuration in each importer. Services still name what they
 * read by injecting APP_CONFIG.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (config.databaseUrl === null) {
      throw new Error('DATABASE_URL is required');
    }
    const database: PersistenceOptions = {
      connectionString: config.databaseUrl,
      poolMax: config.databasePoolMax,
    };
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: PERSISTENCE_OPTIONS, useValue: database },
      ],
      exports: [APP_CONFIG, PERSISTENCE_OPTIONS],
    };
  }
}
