import { PrismaService } from '../../libs/persistence/src/prisma.service';
import { sql } from '../../libs/persistence/src/sql';
import { createTestDatabase, type TestDatabase } from './database';

/**
 * A test file's own database and a PrismaService on it: created before the file's tests (`ready` then builds what
 * the tests use), closed and dropped after them. Call it at the top of a `describe`.
 */
export function usePersistence(
  poolMax: number,
  ready: (prisma: PrismaService, db: TestDatabase) => void,
): void {
  let db: TestDatabase | undefined;
  let prisma: PrismaService | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolMax });
    ready(prisma, db);
  });
  afterAll(async () => {
    await prisma?.onModuleDestroy();
    await db?.drop();
  });
}

/** Empties the notification outbox and its destinations, for tests that count events. */
export async function clearOutbox(prisma: PrismaService): Promise<void> {
  await prisma.execute(sql`DELETE FROM notification_events`);
  await prisma.execute(sql`DELETE FROM notification_destinations`);
}
