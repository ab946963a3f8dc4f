import { Injectable } from '@nestjs/common';
import { type PoolStats, PrismaService } from './prisma.service';
import { trusted } from './sql';
import { type MigrationFile, findMigrationsDir, pendingMigrations, readMigrations } from './migrator';

@Injectable()
export class HealthRepository {
  private migrations: Promise<MigrationFile[]> | null = null;

  constructor(private readonly prisma: PrismaService) {}

  /** Throws when the database cannot be reached; returns committed migrations not yet applied. */
  async pendingMigrations(): Promise<string[]> {
    this.migrations ??= readMigrations(findMigrationsDir());
    const files = await this.migrations;
    return pendingMigrations((text) => this.prisma.query<{ migration_name: string }>(trusted(text)), files);
  }

  /** The connection pool's connections now: total, idle, and callers waiting for one. */
  poolStats(): PoolStats {
    return this.prisma.poolStats();
  }
}
