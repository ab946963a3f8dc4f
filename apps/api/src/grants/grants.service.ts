import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, isDomainError, validInput } from '@app/common';
import { type AdminEventInput, type GrantEventView, GrantRepository, type GrantView } from '@app/persistence';
import type { Caller } from '../auth/roles';
import { parseEventsQuery, parseGrantBody, parseGrantId, parseGrantQuery } from './grant-request';

/** What the grants API needs of the store (a test fake implements exactly this). */
export type GrantStore = Pick<GrantRepository, 'create' | 'list' | 'delete' | 'events'>;

function event(caller: Caller, action: string, details: AdminEventInput['details']): AdminEventInput {
  return { actorId: caller.actor.id, actorName: caller.actor.name, action, subjectId: '', details };
}

/**
 * Grants narrow a caller (`principalId`, the token's oid) to named service principals (DESIGN section 2). The
 * guard enforces them in its claim statement; every change is an admin event.
 */
@Injectable()
export class GrantsService {
  constructor(@Inject(GrantRepository) private readonly repo: GrantStore) {}

  /** Creates the grant, or returns the existing one (`created: false`), also when another admin won a race. */
  async create(body: unknown, caller: Caller): Promise<{ grant: GrantView; created: boolean }> {
    const { principalId, servicePrincipalId } = validInput(parseGrantBody(body));
    try {
      return await this.repo.create(
        principalId,
        servicePrincipalId,
        event(caller, 'grant.create', { principalId, servicePrincipalId }),
      );
    } catch (error) {
      if (!isDomainError(error, ErrorCode.GRANT_EXISTS)) {
        throw error;
      }
      // Two admins creating the same grant at once: the loser sees the winner's grant.
      const [existing] = await this.repo.list({ principalId, servicePrincipalId });
      if (!existing) {
        throw error;
      }
      return { grant: existing, created: false };
    }
  }

  async list(query: Record<string, unknown>): Promise<GrantView[]> {
    return this.repo.list(validInput(parseGrantQuery(query)));
  }

  async events(query: Record<string, unknown>): Promise<GrantEventView[]> {
    return this.repo.events(validInput(parseEventsQuery(query)).limit);
  }

  async remove(grantId: string, caller: Caller): Promise<void> {
    const id = validInput(parseGrantId(grantId));
    const removed = await this.repo.delete(id, event(caller, 'grant.delete', {}));
    if (!removed) {
      throw new DomainError(ErrorCode.GRANT_NOT_FOUND, `No grant ${id}`);
    }
  }
}
