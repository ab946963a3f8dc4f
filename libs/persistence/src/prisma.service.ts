import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export const PERSISTENCE_OPTIONS = Symbol('PERSISTENCE_OPTIONS');

export interface PersistenceOptions {
  connectionString: string;
  /** Pool size per process (default 10). */
  poolMax?: number;
  /** Fail a connection attempt after this long (default 3000 ms): a dead database answers 503 quickly. */
  connectTimeoutMs?: number;
  /** Server-side statement timeout (default 5000 ms). */
  statementTimeoutMs?: number;
}

/** The one PrismaClient of a process, over node-postgres through the driver adapter. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(PERSISTENCE_OPTIONS) options: PersistenceOptions) {
    super({
      adapter: new PrismaPg({
        connectionString: options.connectionString,
        max: options.poolMax ?? 10,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
        statement_timeout: options.statementTimeoutMs ?? 5000,
        idleTimeoutMillis: 30_000,
      }),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
