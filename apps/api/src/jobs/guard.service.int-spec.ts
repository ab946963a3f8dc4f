import { Client } from 'pg';
import { ApprovalRepository, GuardRepository } from '@app/persistence';
import { usePersistence } from '../../../../test/support/persistence';
import { ScriptedGraph } from '../../../../test/support/scripted-graph';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { type GuardRequest, GuardService } from './guard.service';

const SP = '3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

/**
 * The cost budget of DESIGN section 3 on real PostgreSQL: a decision is two round trips (claim, finalise), a
 * refusal at the claim one. Every statement any code sends goes through a pg Client's `query`, so counting those
 * counts the round trips, whichever helper sent them.
 */
describe('GuardService round trips (real PostgreSQL)', () => {
  const graph = new ScriptedGraph();
  let guard: GuardService;
  usePersistence(1, (prisma) => {
    guard = new GuardService(
      new GuardRepository(prisma),
      graph,
      new MetricsService(),
      loadConfig({ START_COOLDOWN_SECONDS: '600' }),
      new ApprovalRepository(prisma),
    );
  });
  // Connecting is not a round trip of a decision: the pool's one connection is opened first.
  beforeAll(() => guard.decide(request({ jobId: 'scim.warm' })));

  const request = (over: Partial<GuardRequest>): GuardRequest => ({
    servicePrincipalId: SP,
    jobId: 'scim.rt',
    trigger: 'api',
    actor: { type: 'app', id: 'caller-rt', name: null },
    reason: null,
    dryRun: false,
    requestId: null,
    ...over,
  });

  async function roundTrips(req: Partial<GuardRequest>): Promise<{ n: number; outcome: string }> {
    const spy = jest.spyOn(Client.prototype, 'query');
    try {
      const d = await guard.decide(request(req));
      return { n: spy.mock.calls.length, outcome: d.attempt.outcome };
    } finally {
      spy.mockRestore();
    }
  }

  it('a start is 2 round trips, a dry run 2, a refusal at the claim 1', async () => {
    graph.set({ servicePrincipalId: SP, jobId: 'scim.rt' }, { status: 'paused', reason: null });
    expect(await roundTrips({ dryRun: true })).toEqual({ n: 2, outcome: 'dry_run' });
    expect(await roundTrips({})).toEqual({ n: 2, outcome: 'started' });
    // The cool-down now refuses at the claim: the refused row is written by the claim itself.
    expect(await roundTrips({})).toEqual({ n: 1, outcome: 'rate_limited' });
  });
});
