import { randomUUID } from 'node:crypto';
import { jobKey } from '@app/common';
import { usePersistence } from '../../../test/support/persistence';
import type { PrismaService } from './prisma.service';
import { FACT_WORDING, claimInput as anyClaim } from '../../../test/support/claim-input';
import { type ClaimInput, GuardRepository } from './guard.repository';
import { HoldRepository } from './hold.repository';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';

describe('GuardRepository (real PostgreSQL)', () => {
  let prisma: PrismaService;
  let repo: GuardRepository;
  usePersistence(20, (p) => {
    prisma = p;
    repo = new GuardRepository(p);
  });

  /** A user's claim, 3 requests per 300 s. */
  function claimInput(jobId: string, over: Partial<ClaimInput> = {}): ClaimInput {
    const actor = { type: 'user' as const, id: 'user-1', name: 'Ada' };
    return anyClaim(SP, jobId, { actor, grantPrincipalId: actor.id, reason: 'test', limit: 3, ...over });
  }

  async function finalise(attemptId: string, jobId: string, cooldownSeconds: number | null) {
    return repo.finalise({
      attemptId,
      jobKey: jobKey(SP, jobId),
      outcome: cooldownSeconds === null ? 'skipped' : 'started',
      observedStatus: 'paused',
      quarantineReason: null,
      message: 'done',
      retryAfterSeconds: null,
      graphRequestIds: ['g-1'],
      durationMs: 12,
      cooldownSeconds,
    });
  }

  it('stores at most refusalLimit refusals of one caller per window; the rest are answered, not stored', async () => {
    const count = async (actorId: string) =>
      Number(
        (
          await prisma.$queryRawUnsafe<{ n: number }[]>(
            'SELECT count(*)::int AS n FROM attempts WHERE actor_id = $1',
            actorId,
          )
        )[0]?.n,
      );
    const refusalLimit = { perCaller: 3, windowSeconds: 60 };
    const flooder = { type: 'user' as const, id: 'flooder-1', name: null };
    // Holds the job's lease, so every other claim is refused (rate_limited).
    const holder = await repo.claim(claimInput('job.flood', { refusalLimit }));
    expect(holder.claimed).toBe(true);
    const results = [];
    for (let i = 0; i < 10; i++) {
      results.push(
        await repo.claim(
          claimInput('job.flood', { actor: flooder, grantPrincipalId: flooder.id, refusalLimit }),
        ),
      );
    }
    expect(results.every((r) => !r.claimed && r.attempt.outcome === 'rate_limited')).toBe(true);
    expect(results.map((r) => (r.claimed ? true : r.stored))).toEqual([
      ...Array<boolean>(3).fill(true),
      ...Array<boolean>(7).fill(false),
    ]);
    expect(results[9]?.attempt.message).toMatch(/being decided/);
    expect(await count(flooder.id)).toBe(3);
    // Refusals that never reach the claim (denied by role, rejected ids) share the same budget.
    const final = await repo.recordFinal({
      ...claimInput('job.flood', { actor: flooder }),
      outcome: 'rejected',
      observedStatus: null,
      message: 'bad',
      retryAfterSeconds: null,
      refusalLimit,
    });
    expect(final.stored).toBe(false);
    expect(final.attempt).toMatchObject({ outcome: 'rejected', message: 'bad', actor: flooder });
    expect(await count(flooder.id)).toBe(3);
    // Another caller has its own budget; the scheduler (no grant principal) is never limited.
    const other = await repo.recordFinal({
      ...claimInput('job.flood', { actor: { type: 'user', id: 'other-1', name: null } }),
      outcome: 'denied',
      observedStatus: null,
      message: 'no role',
      retryAfterSeconds: null,
      refusalLimit,
    });
    expect(other.stored).toBe(true);
    const scheduler = { type: 'scheduler' as const, id: 'replica-a', name: null };
    for (let i = 0; i < 5; i++) {
      const r = await repo.claim(
        claimInput('job.flood', {
          actor: scheduler,
          grantPrincipalId: null,
          trigger: 'recovery',
          refusalLimit,
        }),
      );
      expect(r.claimed ? true : r.stored).toBe(true);
    }
    // A new window stores again.
    await prisma.$executeRawUnsafe(
      "UPDATE refusal_budgets SET window_start = now() - interval '61 seconds' WHERE actor_id = $1",
      flooder.id,
    );
    const fresh = await repo.claim(
      claimInput('job.flood', { actor: flooder, grantPrincipalId: flooder.id, refusalLimit }),
    );
    expect(fresh.claimed ? true : fresh.stored).toBe(true);
    expect(await count(flooder.id)).toBe(4);
    await finalise(holder.attempt.attemptId, 'job.flood', null);
  });

  it('claims, refuses a concurrent claim while the lease is held, and releases on finalise', async () => {
    const first = claimInput('job.lease');
    const a = await repo.claim(first);
    expect(a.claimed).toBe(true);
    expect(a.attempt.outcome).toBe('pending');

    const b = await repo.claim(claimInput('job.lease'));
    expect(b.claimed).toBe(false);
    expect(b.attempt.outcome).toBe('rate_limited');
    expect(b.attempt.message).toMatch(/being decided/);
    expect(b.attempt.retryAfterSeconds).toBe(1);

    const done = await finalise(first.attemptId, 'job.lease', null);
    expect(done.outcome).toBe('skipped');
    expect(done.graphRequestIds).toEqual(['g-1']);
    expect((await repo.claim(claimInput('job.lease'))).claimed).toBe(true);
  });

  it('keeps an expired lease while its attempt is still pending (finalise lost): no claim until it is settled', async () => {
    const first = claimInput('job.orphan', { leaseSeconds: 1 });
    expect((await repo.claim(first)).claimed).toBe(true);
    await prisma.$executeRawUnsafe(
      `UPDATE job_guards SET lease_expires_at = now() - interval '1 minute' WHERE job_key = $1`,
      jobKey(SP, 'job.orphan'),
    );
    const blocked = await repo.claim(claimInput('job.orphan'));
    expect(blocked.claimed).toBe(false);
    expect(blocked.attempt.outcome).toBe('rate_limited');
    await finalise(first.attemptId, 'job.orphan', null);
    expect((await repo.claim(claimInput('job.orphan'))).claimed).toBe(true);
  });

  it('lets exactly `limit` requests through a window; refusals do not use the allowance', async () => {
    const results = [];
    for (let i = 0; i < 5; i++) {
      const input = claimInput('job.window');
      const r = await repo.claim(input);
      results.push(r);
      if (r.claimed) {
        await finalise(input.attemptId, 'job.window', null);
      }
    }
    expect(results.map((r) => r.claimed)).toEqual([true, true, true, false, false]);
    const refused = results[3]?.attempt;
    expect(refused?.message).toMatch(/^limit: 3 per 300 s, \d+ s left$/);
    expect(refused?.retryAfterSeconds).toBeGreaterThan(290);
    const r3 = results[3];
    expect(r3 && !r3.claimed && r3.refusal).toEqual({
      kind: 'limit',
      secondsLeft: refused?.retryAfterSeconds,
    });
  });

  it('serialises a concurrent burst: one claim wins, every request is a row', async () => {
    const inputs = Array.from({ length: 40 }, () => claimInput('job.burst'));
    const results = await Promise.all(inputs.map((i) => repo.claim(i)));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    const refused = await prisma.attempt.count({ where: { jobId: 'job.burst' } });
    const pending = await prisma.pendingAttempt.count({ where: { jobId: 'job.burst' } });
    expect([refused, pending]).toEqual([39, 1]);
  });

  it('holds the cool-down after a start and names the remaining time', async () => {
    const first = claimInput('job.cool');
    await repo.claim(first);
    await finalise(first.attemptId, 'job.cool', 600);
    const again = await repo.claim(claimInput('job.cool'));
    expect(again.claimed).toBe(false);
    const left = again.attempt.retryAfterSeconds ?? 0;
    expect(left).toBeGreaterThan(590);
    // A literal % in the wording stays a %.
    expect(again.attempt.message).toBe(`cooldown: ${left} s of 600 s (100%)`);
    expect(!again.claimed && again.refusal).toEqual({ kind: 'cooldown', secondsLeft: left });
  });

  it('refuses a caller narrowed by grants to other service principals, and honours REQUIRE_GRANTS', async () => {
    await prisma.grant.create({
      data: {
        id: randomUUID(),
        principalId: 'user-g',
        servicePrincipalId: 'aaaaaaaa-0000-4000-8000-000000000000',
        createdBy: 'admin',
      },
    });
    const narrowed = await repo.claim(claimInput('job.grants', { grantPrincipalId: 'user-g' }));
    expect(narrowed.attempt.outcome).toBe('denied');
    expect(narrowed.attempt.message).toBe(`narrowed: user-g not ${SP}`);
    expect(!narrowed.claimed && narrowed.refusal).toEqual({ kind: 'grant', grant: 'narrowed' });
    const required = await repo.claim(
      claimInput('job.grants', { grantPrincipalId: 'user-none', requireGrants: true }),
    );
    expect(required.attempt.outcome).toBe('denied');
    expect(required.attempt.message).toBe(`required: user-none for ${SP}`);
    expect(!required.claimed && required.refusal).toEqual({ kind: 'grant', grant: 'required' });
    const scheduler = await repo.claim(
      claimInput('job.grants', { grantPrincipalId: null, requireGrants: true }),
    );
    expect(scheduler.claimed).toBe(true);
  });

  it('names why a claim was refused as a stable value: in flight, limit, cool-down, grant', async () => {
    const refusal = (r: Awaited<ReturnType<GuardRepository['claim']>>) => (r.claimed ? null : r.refusal.kind);
    const held = claimInput('job.kinds');
    expect(refusal(await repo.claim(held))).toBeNull();
    expect(refusal(await repo.claim(claimInput('job.kinds')))).toBe('in_flight');
    await finalise(held.attemptId, 'job.kinds', null);
    for (let i = 0; i < 2; i++) {
      const input = claimInput('job.kinds');
      await repo.claim(input);
      await finalise(input.attemptId, 'job.kinds', null);
    }
    expect(refusal(await repo.claim(claimInput('job.kinds')))).toBe('limit');

    const started = claimInput('job.kinds.cool');
    await repo.claim(started);
    await finalise(started.attemptId, 'job.kinds.cool', 600);
    expect(refusal(await repo.claim(claimInput('job.kinds.cool')))).toBe('cooldown');

    const denied = await repo.claim(
      claimInput('job.kinds.grant', { grantPrincipalId: 'user-nogrant', requireGrants: true }),
    );
    expect(denied.attempt.outcome).toBe('denied');
    expect(refusal(denied)).toBe('grant');
  });

  it('refuses a start or restart of a held job (never a pause), naming the hold and filling in its facts', async () => {
    const holds = new HoldRepository(prisma);
    const placed = await holds.place({
      holdId: randomUUID(),
      servicePrincipalId: SP,
      jobId: 'job.held',
      reason: 'change freeze',
      until: new Date('2099-01-02T03:04:05.000Z'),
      placedBy: { id: 'user-h', name: 'Grace' },
    });
    const start = await repo.claim(claimInput('job.held'));
    expect(start.attempt).toMatchObject({ outcome: 'held', holdId: placed.holdId, retryAfterSeconds: null });
    expect(start.attempt.message).toBe(
      `hold: change freeze by Grace at ${placed.placedAt.replace(/\.\d+Z$/, 'Z')} until 2099-01-02T03:04:05Z`,
    );
    expect(!start.claimed && start.refusal).toEqual({ kind: 'hold', holdId: placed.holdId });
    const restart = await repo.claim(claimInput('job.held', { operation: 'restart' }));
    expect(restart.attempt.outcome).toBe('held');
    const pause = claimInput('job.held', { operation: 'pause' });
    expect((await repo.claim(pause)).claimed).toBe(true);
    await finalise(pause.attemptId, 'job.held', null);
    await holds.release(placed.holdId, { id: 'user-h', name: 'Grace' });
    const everyJob = await holds.place({
      holdId: randomUUID(),
      servicePrincipalId: SP,
      jobId: null,
      reason: 'audit',
      until: null,
      placedBy: { id: 'user-h', name: null },
    });
    const held = await repo.claim(claimInput('job.held'));
    expect(held.attempt.message).toMatch(/^hold: audit by user-h at \S+Z until released$/);
    await holds.release(everyJob.holdId, { id: 'user-h', name: null });
    expect((await repo.claim(claimInput('job.held'))).claimed).toBe(true);
  });

  it('refuses wording that names a fact the claim does not know', async () => {
    await expect(
      repo.claim(claimInput('job.wording', { wording: { ...FACT_WORDING, inFlight: 'busy: {nonsense}' } })),
    ).rejects.toThrow(/unknown fact \{nonsense\}/);
  });

  it('keeps attempts append-only in the database itself', async () => {
    const input = claimInput('job.immutable');
    await repo.claim(input);
    await finalise(input.attemptId, 'job.immutable', null);
    await expect(
      prisma.$executeRawUnsafe(`UPDATE attempts SET message = 'x' WHERE id = $1::uuid`, input.attemptId),
    ).rejects.toThrow(/append-only/);
    await expect(
      prisma.$executeRawUnsafe(`DELETE FROM attempts WHERE id = $1::uuid`, input.attemptId),
    ).rejects.toThrow(/append-only/);
    await expect(finalise(input.attemptId, 'job.immutable', null)).rejects.toThrow(/not pending/);
  });
  it('never edits a decision in flight, and refuses a pending row in attempts (a replica on the previous version)', async () => {
    const input = claimInput('job.inflight');
    await repo.claim(input);
    await expect(
      prisma.$executeRawUnsafe(
        `UPDATE pending_attempts SET actor_id = 'x' WHERE id = $1::uuid`,
        input.attemptId,
      ),
    ).rejects.toThrow(/pending attempts are immutable/);
    await expect(prisma.$executeRawUnsafe(`TRUNCATE pending_attempts`)).rejects.toThrow(/truncate refused/);
    await expect(
      prisma.$executeRawUnsafe(
        `INSERT INTO attempts (id, service_principal_id, job_id, trigger, actor_type, actor_id, replica_id, outcome)
         VALUES (gen_random_uuid(), $1, 'job.old', 'api', 'app', 'a', 'old', 'pending')`,
        SP,
      ),
    ).rejects.toThrow(/attempts_final_only/);
    const final = await finalise(input.attemptId, 'job.inflight', null);
    expect(final.outcome).not.toBe('pending');
  });
  it('stores every GUID in one canonical form (lower-case), in every row-writing path; an invalid id as sent', async () => {
    const upper = SP.toUpperCase();
    const actor = { type: 'app' as const, id: '0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D', name: null };
    const { attempt: refused } = await repo.recordFinal({
      ...claimInput('job.case'),
      servicePrincipalId: upper,
      actor,
      outcome: 'denied',
      observedStatus: null,
      message: 'no role',
      retryAfterSeconds: null,
    });
    expect(refused.servicePrincipalId).toBe(SP);
    expect(refused.actor.id).toBe(actor.id.toLowerCase());
    const claimed = await repo.claim(claimInput('job.case', { servicePrincipalId: upper, actor }));
    expect(claimed.attempt.servicePrincipalId).toBe(SP);
    const denied = await repo.claim(
      claimInput('job.case2', {
        servicePrincipalId: upper,
        actor,
        grantPrincipalId: 'x',
        requireGrants: true,
      }),
    );
    expect(denied.attempt.outcome).toBe('denied');
    expect(denied.attempt.servicePrincipalId).toBe(SP);
    const { attempt: rejected } = await repo.recordFinal({
      ...claimInput('job.case'),
      servicePrincipalId: 'NOT-A-GUID',
      outcome: 'rejected',
      observedStatus: null,
      message: 'bad id',
      retryAfterSeconds: null,
    });
    expect(rejected.servicePrincipalId).toBe('NOT-A-GUID');
    const found = await prisma.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM (SELECT service_principal_id, job_id FROM attempts
         UNION ALL SELECT service_principal_id, job_id FROM pending_attempts) AS a
       WHERE service_principal_id = $1 AND job_id IN ('job.case', 'job.case2')`,
      SP,
    );
    expect(Number(found[0]?.n)).toBe(3);
  });
});
