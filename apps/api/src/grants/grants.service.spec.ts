import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode } from '@app/common';
import type { AdminEventInput, GrantEventView, GrantView } from '@app/persistence';
import { type Caller, Role } from '../auth/roles';
import { type GrantStore, GrantsService } from './grants.service';

const ADMIN: Caller = {
  actor: { type: 'user', id: 'admin-1', name: 'Ada' },
  roles: new Set([Role.Admin]),
  tenantId: null,
};
const P = 'aaaaaaaa-1111-4111-8111-111111111111';
const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';

/** The grant store in memory, with the unique key (principalId, servicePrincipalId) the table has. */
class MemoryGrants implements GrantStore {
  grants: GrantView[] = [];
  log: GrantEventView[] = [];
  /** Set to make the next create lose a race: another admin's grant commits first. */
  raceWinner: GrantView | null = null;

  create(principalId: string, servicePrincipalId: string, event: AdminEventInput) {
    if (this.raceWinner) {
      this.grants.push(this.raceWinner);
      this.raceWinner = null;
      return Promise.reject(new DomainError(ErrorCode.GRANT_EXISTS, 'The grant already exists'));
    }
    const existing = this.grants.find(
      (g) => g.principalId === principalId && g.servicePrincipalId === servicePrincipalId,
    );
    if (existing) {
      return Promise.resolve({ grant: existing, created: false });
    }
    const grant = this.grant(principalId, servicePrincipalId, event.actorId);
    this.grants.push(grant);
    this.record(event, grant.grantId);
    return Promise.resolve({ grant, created: true });
  }

  list(filter: { principalId?: string; servicePrincipalId?: string }) {
    return Promise.resolve(
      this.grants.filter(
        (g) =>
          (filter.principalId === undefined || g.principalId === filter.principalId) &&
          (filter.servicePrincipalId === undefined || g.servicePrincipalId === filter.servicePrincipalId),
      ),
    );
  }

  delete(grantId: string, event: AdminEventInput) {
    const found = this.grants.find((g) => g.grantId === grantId) ?? null;
    if (found) {
      this.grants = this.grants.filter((g) => g !== found);
      this.record(event, grantId);
    }
    return Promise.resolve(found);
  }

  events(limit: number) {
    return Promise.resolve(this.log.slice(0, limit));
  }

  grant(principalId: string, servicePrincipalId: string, createdBy: string): GrantView {
    return {
      grantId: randomUUID(),
      principalId,
      servicePrincipalId,
      createdAt: new Date().toISOString(),
      createdBy,
    };
  }

  private record(event: AdminEventInput, grantId: string): void {
    this.log.unshift({
      eventId: randomUUID(),
      at: new Date().toISOString(),
      action: event.action,
      grantId,
      actor: { id: event.actorId, name: event.actorName },
      details: event.details,
    });
  }
}

describe('GrantsService', () => {
  let store: MemoryGrants;
  let grants: GrantsService;

  beforeEach(() => {
    store = new MemoryGrants();
    grants = new GrantsService(store);
  });

  it('creates a grant (ids lower-cased, the admin recorded), then returns the same one', async () => {
    const first = await grants.create({ principalId: P.toUpperCase(), servicePrincipalId: SP }, ADMIN);
    expect(first).toMatchObject({ created: true, grant: { principalId: P, servicePrincipalId: SP } });
    const again = await grants.create({ principalId: P, servicePrincipalId: SP.toUpperCase() }, ADMIN);
    expect(again).toEqual({ created: false, grant: first.grant });
    expect(store.log).toEqual([
      expect.objectContaining({ action: 'grant.create', actor: { id: 'admin-1', name: 'Ada' } }),
    ]);
  });

  it('answers the loser of a duplicate-grant race with the winner’s grant', async () => {
    store.raceWinner = store.grant(P, SP, 'admin-2');
    const result = await grants.create({ principalId: P, servicePrincipalId: SP }, ADMIN);
    expect(result).toEqual({ created: false, grant: expect.objectContaining({ createdBy: 'admin-2' }) });
  });

  it('lets GRANT_EXISTS through when the winner is gone again (nothing to show)', async () => {
    store.raceWinner = store.grant(P, SP, 'admin-2');
    const list = store.list.bind(store);
    store.list = () => Promise.resolve([]);
    await expect(grants.create({ principalId: P, servicePrincipalId: SP }, ADMIN)).rejects.toMatchObject({
      code: ErrorCode.GRANT_EXISTS,
    });
    store.list = list;
  });

  it.each([
    [{ principalId: P }, /servicePrincipalId must be a GUID/],
    [{ principalId: P, servicePrincipalId: SP, role: 'x' }, /"role" is not allowed/],
    ['x', /JSON object/],
  ])('refuses the body %j with INVALID_INPUT, nothing stored', async (body, message) => {
    const error = await grants.create(body, ADMIN).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_INPUT, message: expect.stringMatching(message) });
    expect(store.grants).toEqual([]);
  });

  it('filters the list and refuses an unknown query parameter', async () => {
    await grants.create({ principalId: P, servicePrincipalId: SP }, ADMIN);
    await expect(grants.list({ servicePrincipalId: SP.toUpperCase() })).resolves.toHaveLength(1);
    await expect(grants.list({ principalId: 'bbbbbbbb-1111-4111-8111-111111111111' })).resolves.toEqual([]);
    await expect(grants.list({ limit: '5' })).rejects.toMatchObject({ code: ErrorCode.INVALID_INPUT });
  });

  it('removes a grant (recorded), and answers GRANT_NOT_FOUND the second time', async () => {
    const { grant } = await grants.create({ principalId: P, servicePrincipalId: SP }, ADMIN);
    await grants.remove(grant.grantId.toUpperCase(), ADMIN);
    expect(store.grants).toEqual([]);
    await expect(grants.remove(grant.grantId, ADMIN)).rejects.toMatchObject({
      code: ErrorCode.GRANT_NOT_FOUND,
      message: `No grant ${grant.grantId}`,
    });
    await expect(grants.remove('../x', ADMIN)).rejects.toMatchObject({ code: ErrorCode.INVALID_INPUT });
    expect((await grants.events({})).map((e) => e.action)).toEqual(['grant.delete', 'grant.create']);
  });

  it('refuses an events limit out of range (no clamping)', async () => {
    await expect(grants.events({ limit: '501' })).rejects.toMatchObject({ code: ErrorCode.INVALID_INPUT });
  });
});
