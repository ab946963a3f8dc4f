import { randomUUID } from 'node:crypto';
import { clearOutbox, usePersistence } from '../../../test/support/persistence';
import { ApprovalRepository, type ApprovalView, type CreateApprovalInput } from './approval.repository';
import { HoldRepository } from './hold.repository';
import { PrismaService } from './prisma.service';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const ALICE = { id: 'alice-oid', name: 'Alice' };
const BOB = { id: 'bob-oid', name: 'Bob' };

interface EventRow {
  id: string;
  type: string;
  service_principal_id: string | null;
  job_id: string | null;
  data: Record<string, unknown>;
}

/**
 * The hold and approval events (DESIGN 2d) are written by the statement that makes the change they report, and
 * by no statement that changes nothing.
 */
describe('hold and approval notifications (real PostgreSQL)', () => {
  let prisma: PrismaService;
  let holds: HoldRepository;
  let approvals: ApprovalRepository;
  usePersistence(4, (p) => {
    prisma = p;
    holds = new HoldRepository(p);
    approvals = new ApprovalRepository(p);
  });
  beforeEach(() => clearOutbox(prisma));

  const events = () =>
    prisma.$queryRawUnsafe<EventRow[]>(
      'SELECT id, type, service_principal_id, job_id, data FROM notification_events ORDER BY seq',
    );

  const request = (over: Partial<CreateApprovalInput> = {}): Promise<ApprovalView> =>
    approvals.create({
      approvalId: randomUUID(),
      servicePrincipalId: SP,
      jobId: 'scim.approve',
      operation: 'restart',
      resetScope: ['Full'],
      reason: 'the schema changed',
      why: 'a Full restart re-evaluates every object',
      ttlSeconds: 3600,
      requestedBy: { type: 'user', id: ALICE.id, name: ALICE.name },
      requestAttemptId: randomUUID(),
      ...over,
    });

  it('placing a hold writes hold.placed with who, why and until; releasing it writes hold.released once', async () => {
    const until = new Date(Date.now() + 3_600_000);
    const hold = await holds.place({
      holdId: randomUUID(),
      servicePrincipalId: SP.toUpperCase(),
      jobId: 'scim.held',
      reason: 'change freeze',
      until,
      placedBy: ALICE,
    });
    let rows = await events();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      type: 'hold.placed',
      service_principal_id: SP,
      job_id: 'scim.held',
      data: {
        holdId: hold.holdId,
        servicePrincipalId: SP,
        jobId: 'scim.held',
        reason: 'change freeze',
        placedBy: ALICE,
      },
    });
    expect(Date.parse(String(rows[0]?.data.until))).toBe(until.getTime());

    const released = await holds.release(hold.holdId, BOB);
    expect(released?.releasedAt).not.toBeNull();
    rows = await events();
    expect(rows.map((r) => r.type)).toEqual(['hold.placed', 'hold.released']);
    expect(rows[1]).toMatchObject({
      job_id: 'scim.held',
      data: { holdId: hold.holdId, reason: 'change freeze', placedBy: ALICE, releasedBy: BOB },
    });
    expect(typeof rows[1]?.data.releasedAt).toBe('string');

    // A refused release (already released, or no such hold) changes nothing and writes nothing.
    expect(await holds.release(hold.holdId, ALICE)).toBeNull();
    expect(await holds.release(randomUUID(), ALICE)).toBeNull();
    expect(await events()).toHaveLength(2);
  });

  it('a hold on a whole service principal is an event with no job', async () => {
    await holds.place({
      holdId: randomUUID(),
      servicePrincipalId: SP,
      jobId: null,
      reason: 'tenant migration',
      until: null,
      placedBy: ALICE,
    });
    const [row] = await events();
    expect(row).toMatchObject({ type: 'hold.placed', job_id: null, data: { jobId: null, until: null } });
  });

  it('a hold that cannot be written writes no event either', async () => {
    const holdId = randomUUID();
    await holds.place({
      holdId,
      servicePrincipalId: SP,
      jobId: 'a',
      reason: 'r',
      until: null,
      placedBy: ALICE,
    });
    // The same id again: the INSERT fails, and the whole statement with it.
    await expect(
      holds.place({ holdId, servicePrincipalId: SP, jobId: 'b', reason: 'r', until: null, placedBy: ALICE }),
    ).rejects.toThrow();
    expect((await events()).map((r) => r.data.jobId)).toEqual(['a']);
  });

  it('requesting an approval writes approval.requested with the operation, the requester and expiresAt', async () => {
    const approval = await request();
    const rows = await events();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      type: 'approval.requested',
      service_principal_id: SP,
      job_id: 'scim.approve',
      data: {
        approvalId: approval.approvalId,
        operation: 'restart',
        resetScope: ['Full'],
        reason: 'the schema changed',
        why: 'a Full restart re-evaluates every object',
        requestedBy: { type: 'user', id: ALICE.id, name: ALICE.name },
        requestAttemptId: approval.requestAttemptId,
      },
    });
    expect(Date.parse(String(rows[0]?.data.expiresAt))).toBe(Date.parse(approval.expiresAt));
  });

  it('approving writes approval.decided (approved, by whom, why); refused decisions write nothing', async () => {
    const approval = await request();
    // The requester cannot approve their own request: refused, no event.
    const own = await approvals.decide(approval.approvalId, 'approved', ALICE, null);
    expect(own).toMatchObject({ ok: false, reason: 'own_request' });
    expect((await events()).map((r) => r.type)).toEqual(['approval.requested']);

    const ok = await approvals.decide(approval.approvalId, 'approved', BOB, 'reviewed the mapping');
    expect(ok.ok).toBe(true);
    // Deciding again is refused and writes nothing.
    const again = await approvals.decide(approval.approvalId, 'rejected', BOB, null);
    expect(again).toMatchObject({ ok: false, reason: 'already_decided' });

    const rows = await events();
    expect(rows.map((r) => r.type)).toEqual(['approval.requested', 'approval.decided']);
    expect(rows[1]).toMatchObject({
      job_id: 'scim.approve',
      data: {
        approvalId: approval.approvalId,
        decision: 'approved',
        decidedBy: BOB,
        decisionReason: 'reviewed the mapping',
        withdrawn: false,
        operation: 'restart',
        requestedBy: { id: ALICE.id },
      },
    });
  });

  it('rejecting, withdrawing and expiring are decisions too', async () => {
    const rejected = await request({ jobId: 'scim.rejected' });
    const withdrawn = await request({ jobId: 'scim.withdrawn' });
    const expiring = await request({ jobId: 'scim.expiring', ttlSeconds: 60 });
    await prisma.$executeRawUnsafe(
      `UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = $1::uuid`,
      expiring.approvalId,
    );

    expect((await approvals.decide(rejected.approvalId, 'rejected', BOB, 'not now')).ok).toBe(true);
    expect((await approvals.decide(withdrawn.approvalId, 'rejected', ALICE, 'typo')).ok).toBe(true);
    // Deciding an expired request is refused, and it is closed as expired: one event, for the expiry.
    const late = await approvals.decide(expiring.approvalId, 'approved', BOB, null);
    expect(late).toMatchObject({ ok: false, reason: 'expired' });
    expect(await approvals.expireDue()).toBe(0);

    const decided = (await events()).filter((r) => r.type === 'approval.decided');
    const byJob = new Map(decided.map((r) => [r.job_id, r.data]));
    expect(decided).toHaveLength(3);
    expect(byJob.get('scim.rejected')).toMatchObject({
      decision: 'rejected',
      decidedBy: BOB,
      decisionReason: 'not now',
      withdrawn: false,
    });
    expect(byJob.get('scim.withdrawn')).toMatchObject({
      decision: 'rejected',
      decidedBy: ALICE,
      withdrawn: true,
    });
    expect(byJob.get('scim.expiring')).toMatchObject({
      decision: 'expired',
      decidedBy: null,
      withdrawn: false,
    });
  });

  it('expireDue writes one approval.decided per request it closes, and none for requests still open', async () => {
    const a = await request({ jobId: 'scim.e1' });
    const b = await request({ jobId: 'scim.e2' });
    await request({ jobId: 'scim.open' });
    await prisma.$executeRawUnsafe(
      `UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`,
      [a.approvalId, b.approvalId],
    );
    expect(await approvals.expireDue()).toBe(2);
    expect(await approvals.expireDue()).toBe(0);
    const decided = (await events()).filter((r) => r.type === 'approval.decided');
    expect(decided.map((r) => r.job_id).sort()).toEqual(['scim.e1', 'scim.e2']);
    expect(decided.every((r) => r.data.decision === 'expired')).toBe(true);
  });

  it('when the event cannot be written, the change is not made either (one statement)', async () => {
    // The outbox refuses these two event types for a moment: the changes they report must fail with them.
    await prisma.$executeRawUnsafe(
      `ALTER TABLE notification_events ADD CONSTRAINT refuse_control_events
         CHECK (type NOT IN ('hold.placed', 'approval.decided')) NOT VALID`,
    );
    try {
      const holdId = randomUUID();
      await expect(
        holds.place({
          holdId,
          servicePrincipalId: SP,
          jobId: 'x',
          reason: 'r',
          until: null,
          placedBy: ALICE,
        }),
      ).rejects.toThrow();
      expect(await holds.get(holdId)).toBeNull();

      const approval = await request({ jobId: 'scim.undecided' });
      await expect(approvals.decide(approval.approvalId, 'approved', BOB, null)).rejects.toThrow();
      expect((await approvals.get(approval.approvalId))?.state).toBe('pending');
    } finally {
      await prisma.$executeRawUnsafe('ALTER TABLE notification_events DROP CONSTRAINT refuse_control_events');
    }
    expect((await events()).map((r) => r.type)).toEqual(['approval.requested']);
  });
});
