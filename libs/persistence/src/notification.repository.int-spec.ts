import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { jobKey } from '@app/common';
import type { TestDatabase } from '../../../test/support/database';
import { clearOutbox, usePersistence } from '../../../test/support/persistence';
import { claimInput } from '../../../test/support/claim-input';
import { PrismaService } from './prisma.service';
import { GuardRepository } from './guard.repository';
import { NotificationRepository, outboxInsert } from './notification.repository';
import { watchRecord } from '../../../test/support/fixtures';
import { RecoveryRepository, type WatchRecord } from './recovery.repository';
import { type Sql, sql } from './sql';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const OTHER_SP = '0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const DAY_MS = 86_400_000;

describe('NotificationRepository: the outbox (real PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let repo: NotificationRepository;

  usePersistence(10, (p, d) => {
    prisma = p;
    db = d;
    repo = new NotificationRepository(p);
  });
  beforeEach(() => clearOutbox(prisma));

  const webhook = (over: { eventTypes?: string[]; servicePrincipalIds?: string[] } = {}) =>
    repo.createDestination({
      kind: 'webhook',
      name: null,
      url: 'http://127.0.0.1:9/hook',
      secret: SECRET,
      eventTypes: over.eventTypes ?? [],
      servicePrincipalIds: over.servicePrincipalIds ?? [],
      createdBy: 'admin',
    });

  const events = () =>
    prisma.$queryRawUnsafe<
      { id: string; type: string; job_id: string | null; data: Record<string, unknown> }[]
    >('SELECT id, type, job_id, data FROM notification_events ORDER BY seq');
  const deliveries = () =>
    prisma.$queryRawUnsafe<{ event_id: string; destination_id: string; state: string }[]>(
      'SELECT event_id, destination_id, state::text AS state FROM notification_deliveries ORDER BY seq',
    );

  it('outboxInsert writes the event in the statement of the change, fanned out to the destinations that match', async () => {
    const all = await webhook();
    const holdsOnly = await webhook({ eventTypes: ['hold.placed'] });
    const otherSp = await webhook({ servicePrincipalIds: [OTHER_SP] });
    const subject = randomUUID();
    // A change (an admin event, standing in for a hold) and its event, in one statement.
    await prisma.$queryRawUnsafe(
      `WITH placed AS (
         INSERT INTO admin_events (id, actor_id, action, subject_id, details)
         VALUES ($1::uuid, 'admin', 'hold.place', $1::text, jsonb_build_object('jobId', 'job.1'))
         RETURNING id, details
       ),
       notify AS (${outboxInsert({
         type: `'hold.placed'`,
         servicePrincipalId: `'${SP.toUpperCase()}'`,
         jobId: `placed.details->>'jobId'`,
         data: `jsonb_build_object('holdId', placed.id)`,
         from: 'FROM placed',
       })})
       SELECT id FROM placed`,
      subject,
    );
    const [event] = await events();
    expect(event).toMatchObject({ type: 'hold.placed', job_id: 'job.1', data: { holdId: subject } });
    const to = (await deliveries()).map((d) => d.destination_id).sort();
    expect(to).toEqual([all.destinationId, holdsOnly.destinationId].sort());
    expect(to).not.toContain(otherSp.destinationId);
  });

  it('no event without its change: a statement that fails after writing the event leaves neither', async () => {
    await webhook();
    await expect(
      prisma.$queryRawUnsafe(
        `WITH notify AS (${outboxInsert({
          type: `'hold.placed'`,
          servicePrincipalId: `'${SP}'`,
          jobId: `'job.1'`,
          data: `'{}'::jsonb`,
          from: '',
        })})
         INSERT INTO admin_events (id, actor_id, action, subject_id, details) VALUES ('not-a-uuid', 'a', 'b', 'c', '{}')`,
      ),
    ).rejects.toThrow();
    expect(await events()).toEqual([]);
    expect(await deliveries()).toEqual([]);
  });

  it('enqueueIn commits and rolls back with the caller’s transaction, and a crash before commit leaves nothing', async () => {
    await webhook();
    await expect(
      prisma.transaction(async (tx) => {
        await tx.execute(
          sql`INSERT INTO admin_events (id, actor_id, action, subject_id, details) VALUES (${randomUUID()}::uuid, 'a', 'x', 's', '{}')`,
        );
        await NotificationRepository.enqueueIn(tx, {
          type: 'approval.requested',
          servicePrincipalId: SP,
          jobId: 'job.2',
          data: {},
        });
        throw new Error('the change failed after its event was written');
      }),
    ).rejects.toThrow('the change failed');
    expect(await events()).toEqual([]);

    // A process that dies between the change and the commit: its session ends, the transaction is gone.
    const victim = new Client({ connectionString: db.url });
    await victim.connect();
    victim.on('error', () => undefined);
    const [{ pid }] = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
      { pid: number },
    ];
    await victim.query('BEGIN');
    await victim.query(
      `INSERT INTO admin_events (id, actor_id, action, subject_id, details) VALUES ($1::uuid, 'a', 'crash', 's', '{}')`,
      [randomUUID()],
    );
    await NotificationRepository.enqueueIn(
      { execute: async (q: Sql) => (await victim.query(q.toQuery())).rowCount ?? 0 },
      { type: 'hold.released', servicePrincipalId: SP, jobId: 'job.3', data: {} },
    );
    await prisma.$queryRawUnsafe('SELECT pg_terminate_backend($1::int)', pid);
    await victim.end().catch(() => undefined);
    expect(await events()).toEqual([]);
    const crashed = await prisma.$queryRawUnsafe<unknown[]>(
      `SELECT 1 FROM admin_events WHERE action = 'crash'`,
    );
    expect(crashed).toEqual([]);

    await prisma.transaction(async (tx) => {
      await NotificationRepository.enqueueIn(tx, {
        type: 'hold.released',
        servicePrincipalId: SP,
        jobId: 'j',
        data: {},
      });
    });
    expect((await events()).map((e) => e.type)).toEqual(['hold.released']);
    expect(await deliveries()).toHaveLength(1);
  });

  it('the guard’s finalise writes attempt.unknown in its own statement, and nothing for other outcomes', async () => {
    await webhook();
    const guard = new GuardRepository(prisma);
    const decide = async (jobId: string, outcome: 'unknown' | 'skipped') => {
      const input = claimInput(SP, jobId, { actor: { type: 'user', id: 'u1', name: 'Ada' } });
      const attemptId = input.attemptId;
      const claim = await guard.claim(input);
      expect(claim.claimed).toBe(true);
      await guard.finalise({
        attemptId,
        jobKey: jobKey(SP, jobId),
        outcome,
        observedStatus: 'quarantine',
        quarantineReason: 'EncounteredQuarantineException',
        message: 'lost',
        retryAfterSeconds: null,
        graphRequestIds: [],
        durationMs: 5,
        cooldownSeconds: null,
      });
      return attemptId;
    };
    await decide('job.skip', 'skipped');
    expect(await events()).toEqual([]);
    const attemptId = await decide('job.lost', 'unknown');
    const [event] = await events();
    expect(event).toMatchObject({
      type: 'attempt.unknown',
      job_id: 'job.lost',
      data: {
        attemptId,
        outcome: 'unknown',
        operation: 'start',
        message: 'lost',
        actor: { type: 'user', id: 'u1', name: 'Ada' },
      },
    });
    expect(await deliveries()).toHaveLength(1);
  });

  it('claims with SKIP LOCKED and a lease: disjoint claims, one event of a job at a time, a lost lease is retaken', async () => {
    const dest = await webhook();
    for (const jobId of ['a', 'a', 'b', 'c']) {
      await repo.enqueue({ type: 'job.quarantined', servicePrincipalId: SP, jobId, data: { n: jobId } });
    }
    const now = new Date(Date.now() + 1000);
    const [r1, r2] = await Promise.all([repo.claimDue('r1', now, 10, 30), repo.claimDue('r2', now, 10, 30)]);
    const claimed = [...r1, ...r2];
    // a, b and c once each: the second event of job a waits for the first.
    expect(claimed.map((c) => c.jobId).sort()).toEqual(['a', 'b', 'c']);
    expect(new Set(claimed.map((c) => c.deliveryId)).size).toBe(3);
    expect(claimed.every((c) => c.attempt === 1 && c.destinationId === dest.destinationId)).toBe(true);
    expect(await repo.claimDue('r3', now, 10, 30)).toEqual([]);

    const firstA = claimed.find((c) => c.jobId === 'a');
    if (!firstA) {
      throw new Error('no claim for job a');
    }
    const holderA = r1.includes(firstA) ? 'r1' : 'r2';
    // After the lease ran out, another replica takes it; the first holder's late result is refused.
    const later = new Date(now.getTime() + 31_000);
    const retaken = await repo.claimDue('r3', later, 10, 30);
    expect(retaken.map((c) => c.deliveryId).sort()).toEqual(claimed.map((c) => c.deliveryId).sort());
    expect(retaken.find((c) => c.deliveryId === firstA.deliveryId)?.attempt).toBe(2);
    const base = { status: 204, error: null, delivered: true, retryAt: null, now: later };
    expect(await repo.recordResult({ ...base, deliveryId: firstA.deliveryId, holder: holderA })).toBe(false);
    expect(await repo.recordResult({ ...base, deliveryId: firstA.deliveryId, holder: 'r3' })).toBe(true);
    // Now the second event of job a is due.
    const next = await repo.claimDue('r1', later, 10, 30);
    expect(next.map((c) => [c.jobId, c.data.n])).toEqual([['a', 'a']]);
    expect(next[0]?.eventId).not.toBe(firstA.eventId);
  });

  it('a failed try is retried at its time, a dead one is skipped by later events, and redeliver requeues it', async () => {
    await webhook();
    await repo.enqueue({ type: 'job.quarantined', servicePrincipalId: SP, jobId: 'd', data: {} });
    await repo.enqueue({ type: 'job.recovered', servicePrincipalId: SP, jobId: 'd', data: {} });
    const t0 = new Date(Date.now() + 1000);
    const [first] = await repo.claimDue('r1', t0, 10, 30);
    if (!first) {
      throw new Error('nothing claimed');
    }
    const retryAt = new Date(t0.getTime() + 5000);
    await repo.recordResult({
      deliveryId: first.deliveryId,
      holder: 'r1',
      now: t0,
      status: 500,
      error: 'the receiver answered 500',
      delivered: false,
      retryAt,
    });
    expect(await repo.claimDue('r1', new Date(t0.getTime() + 4000), 10, 30)).toEqual([]);
    const [again] = await repo.claimDue('r1', retryAt, 10, 30);
    expect(again?.deliveryId).toBe(first.deliveryId);
    await repo.recordResult({
      deliveryId: first.deliveryId,
      holder: 'r1',
      now: retryAt,
      status: null,
      error: 'timeout',
      delivered: false,
      retryAt: null,
    });
    const dead = await repo.getDelivery(first.deliveryId);
    expect(dead).toMatchObject({ state: 'dead', attempts: 2, lastError: 'timeout', lastStatus: null });
    const [second] = await repo.claimDue('r1', retryAt, 10, 30);
    expect(second?.eventType).toBe('job.recovered');

    expect(await repo.redeliver(second?.deliveryId ?? '', retryAt)).toBe('pending');
    expect(await repo.redeliver(randomUUID(), retryAt)).toBeNull();
    const requeued = await repo.redeliver(first.deliveryId, retryAt);
    expect(requeued).toMatchObject({ state: 'pending', attempts: 0, deadAt: null });
  });

  it('purges delivered events after the retention, and keeps pending and dead-lettered ones', async () => {
    await webhook();
    const ids: Record<string, string> = {};
    for (const name of ['delivered', 'pending', 'dead', 'recent']) {
      ids[name] = await repo.enqueue({
        type: 'job.recovered',
        servicePrincipalId: SP,
        jobId: name,
        data: {},
      });
    }
    await prisma.$executeRawUnsafe(
      `UPDATE notification_events SET created_at = now() - interval '40 days' WHERE job_id <> 'recent'`,
    );
    await prisma.$executeRawUnsafe(
      `UPDATE notification_deliveries d SET state = CASE e.job_id WHEN 'dead' THEN 'dead' WHEN 'pending' THEN 'pending'
         ELSE 'delivered' END::"NotificationDeliveryState"
       FROM notification_events e WHERE e.id = d.event_id`,
    );
    const cutoff = new Date(Date.now() - 30 * DAY_MS);
    expect(await repo.purgeDelivered(cutoff, 100)).toBe(1);
    expect((await events()).map((e) => e.job_id).sort()).toEqual(['dead', 'pending', 'recent']);
    expect(await repo.purgeDelivered(cutoff, 100)).toBe(0);
    expect(ids.delivered).toBeDefined();
  });

  it('saveWatches writes the job events its changes call for, in the same statement', async () => {
    await webhook();
    const recovery = new RecoveryRepository(prisma);
    // The watches are written by the sweep's leader (fenced by its term).
    const leader = await recovery.claimLeadership('notification-test', 300);
    if (!leader) {
      throw new Error('no leadership');
    }
    const { watches } = await recovery.createWatches(SP, ['w1'], {
      actorId: 'admin',
      actorName: null,
      action: 'watch',
    });
    const w = watches[0];
    if (!w) {
      throw new Error('no watch');
    }
    const base = watchRecord({ id: w.watchId, servicePrincipalId: SP, jobId: 'w1', quarantineSince: null });
    const began = new Date('2026-11-01T00:00:00.000Z');
    const now = (daysBefore: number) => new Date(began.getTime() + (28 - daysBefore) * DAY_MS);
    const save = async (r: Partial<WatchRecord>, at: Date) => {
      await recovery.saveWatches([{ ...base, ...r }], leader, at);
      const types = (await events()).map((e) => e.type);
      await prisma.$executeRawUnsafe('DELETE FROM notification_events');
      return types;
    };
    const q = { lastSeenStatus: 'quarantine', quarantineSince: began };
    expect(await save({ ...q, lastQuarantineReason: 'EncounteredQuarantineException' }, now(20))).toEqual([
      'job.quarantined',
    ]);
    expect(await save({ ...q, lastQuarantineReason: 'EncounteredQuarantineException' }, now(19))).toEqual([]);
    expect(
      await save({ ...q, lastQuarantineReason: 'TooManyDeletes', state: 'needs_attention' }, now(8)),
    ).toEqual(['job.quarantine_reason_changed', 'job.needs_attention']);
    expect(
      await save({ ...q, lastQuarantineReason: 'TooManyDeletes', state: 'needs_attention' }, now(6.5)),
    ).toEqual(['job.auto_disable_approaching']);
    expect(
      await save({ ...q, lastQuarantineReason: 'TooManyDeletes', state: 'needs_attention' }, now(6)),
    ).toEqual([]);
    expect(
      await save({ ...q, lastQuarantineReason: 'TooManyDeletes', state: 'needs_attention' }, now(0.5)),
    ).toEqual(['job.auto_disable_approaching']);
    expect(
      await save({ ...q, lastQuarantineReason: 'TooManyDeletes', state: 'needs_attention' }, now(0.2)),
    ).toEqual([]);
    expect(await save({ lastSeenStatus: 'active', state: 'ok' }, now(0.1))).toEqual(['job.recovered']);
    // A new series later: its notices are sent again.
    const began2 = new Date(began.getTime() + 30 * DAY_MS);
    expect(
      await save(
        { lastSeenStatus: 'quarantine', quarantineSince: began2, lastQuarantineReason: 'Unknown' },
        new Date(began2.getTime() + 27.5 * DAY_MS),
      ),
    ).toEqual(['job.quarantined', 'job.auto_disable_approaching']);
    await recovery.saveWatches([{ ...base, lastSeenStatus: 'active' }], leader, now(0));
    const [recovered] = await events();
    expect(recovered?.data).toMatchObject({ watchId: w.watchId, jobId: 'w1', observedStatus: 'active' });
  });
});
