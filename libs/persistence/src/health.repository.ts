import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';
import { type MigrationFile, findMigrationsDir, pendingMigrations, readMigrations } from './migrator';

@Injectable()
export class HealthRepository {
  private migrations: Promise<MigrationFile[]> | null = null;

  constructor(private readonly prisma: PrismaService) {}

  /** Throws when the database cannot be reached; returns committed migrations not yet applied. */
  async pendingMigrations(): Promise<string[]> {
    this.migrations ??= readMigrations(findMigrationsDir());
    const files = await this.migrations;
    return pendingMigrations((sql) => this.prisma.$queryRawUnsafe<{ migration_name: string }[]>(sql), files);
  }
}
