import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';
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
}
