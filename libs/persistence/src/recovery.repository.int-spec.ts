import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { PrismaService } from './prisma.service';
import { RecoveryRepository } from './recovery.repository';
import { sql } from './sql';

const SP = '7b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

describe('RecoveryRepository leader lease (real PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let repo: RecoveryRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolMax: 5 });
    repo = new RecoveryRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  const expireLease = () =>
    prisma.execute(sql`UPDATE recovery_leader SET expires_at = now() - interval '1 second'`);

  it('a leader that lost the lease writes nothing, renews nothing, and the new term is never an old one', async () => {
    const { watches } = await repo.createWatches(SP, ['job.fenced'], {
      actorId: 'admin',
      actorName: null,
      action: 'watch.created',
    });
    const watch = (await repo.dueWatches(new Date(), null, 10)).find((w) => w.id === watches[0]?.watchId);
    expect(watch).toBeDefined();
    if (!watch) {
      return;
    }

    const a = await repo.claimLeadership('replica-a', 30);
    expect(a).not.toBeNull();
    expect(await repo.claimLeadership('replica-b', 30)).toBeNull();
    // A renews by heartbeat and keeps its term.
    expect(await repo.renewLeadership(a!, 30)).toBe(true);
    expect((await repo.claimLeadership('replica-a', 30))?.term).toBe(a?.term);

    // A's lease runs out (a slow batch, a paused process); B takes over with a new term.
    await expireLease();
    const b = await repo.claimLeadership('replica-b', 30);
    expect(b).not.toBeNull();
    expect(BigInt(b!.term)).toBeGreaterThan(BigInt(a!.term));

    // B records a newer state; A's late write (older state) changes nothing.
    const newer = { ...watch, failedAttempts: 3, lastMessage: 'newer, from B' };
    const older = { ...watch, failedAttempts: 1, lastMessage: 'older, from A' };
    expect(await repo.saveWatches([newer], b!)).toBe(1);
    expect(await repo.saveWatches([older], a!)).toBe(0);
    expect(await repo.renewLeadership(a!, 30)).toBe(false);
    expect(await repo.startSweep('00000000-0000-4000-8000-0000000000aa', a!, new Date())).toBe(false);
    const saved = (await repo.dueWatches(new Date(), null, 10)).find((w) => w.id === watch.id);
    expect(saved?.failedAttempts).toBe(3);
    expect(saved?.lastMessage).toBe('newer, from B');

    // Released and claimed again: still a term never seen before.
    await repo.releaseLeadership('replica-b');
    const c = await repo.claimLeadership('replica-a', 30);
    expect(BigInt(c!.term)).toBeGreaterThan(BigInt(b!.term));
    expect(await repo.saveWatches([older], a!)).toBe(0);
  });
});
