import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DomainError,
  ErrorCode,
  escapeNul,
  isJobId,
  isServicePrincipalId,
  isUuid,
  unknownKeys,
} from '@app/common';
import { GraphClient, GraphError } from '@app/graph';
import { HoldRepository, type HoldView } from '@app/persistence';
import { type Caller, Role, hasRole } from '../auth/roles';
import { type HoldRequest, parsePlaceHoldBody } from '../control/control-policy';

export const MAX_HOLDS_LISTED = 500;

/**
 * Holds (DESIGN 2c): place, list, release. While a hold is active the guard's claim refuses every start and
 * restart of the job (or of every job of the service principal) with outcome `held`, whoever asks.
 */
@Injectable()
export class HoldsService {
  constructor(
    private readonly holds: HoldRepository,
    private readonly graph: GraphClient,
  ) {}

  /** POST /v1/holds. Graph must know the job (or the service principal, for a hold on all its jobs). */
  async place(body: unknown, caller: Caller, requestId: string | null): Promise<HoldView> {
    const parsed = parsePlaceHoldBody(body, new Date(), { isServicePrincipalId, isJobId });
    if (!parsed.ok) {
      throw new DomainError(
        parsed.untilInPast ? ErrorCode.HOLD_UNTIL_IN_PAST : ErrorCode.INVALID_INPUT,
        parsed.message,
      );
    }
    const { servicePrincipalId, jobId } = parsed.value;
    await this.mustExist(servicePrincipalId, jobId, requestId);
    return this.placeChecked(servicePrincipalId, jobId, parsed.value, caller);
  }

  /** Places a hold whose ids are already valid and known (a pause that holds in the same step). */
  placeChecked(
    servicePrincipalId: string,
    jobId: string | null,
    hold: HoldRequest,
    caller: Caller,
  ): Promise<HoldView> {
    return this.holds.place({
      holdId: randomUUID(),
      servicePrincipalId,
      jobId,
      reason: escapeNul(hold.reason),
      until: hold.until,
      placedBy: { id: caller.actor.id, name: caller.actor.name },
    });
  }

  /** Releases a hold this service just placed (no role check). */
  async releaseChecked(holdId: string, caller: Caller): Promise<void> {
    await this.holds.release(holdId, { id: caller.actor.id, name: caller.actor.name });
  }

  async list(query: Record<string, unknown>): Promise<{ items: HoldView[] }> {
    const extra = unknownKeys(query, ['servicePrincipalId', 'jobId', 'state'], 'query parameter');
    if (extra) {
      throw new DomainError(ErrorCode.INVALID_INPUT, extra);
    }
    const { servicePrincipalId, jobId, state } = query;
    if (servicePrincipalId !== undefined && !isServicePrincipalId(servicePrincipalId)) {
      throw new DomainError(ErrorCode.INVALID_INPUT, 'servicePrincipalId must be a GUID');
    }
    if (jobId !== undefined && !isJobId(jobId)) {
      throw new DomainError(ErrorCode.INVALID_INPUT, 'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$');
    }
    if (state !== undefined && state !== 'active' && state !== 'all') {
      throw new DomainError(ErrorCode.INVALID_INPUT, 'state must be active or all');
    }
    const items = await this.holds.list({
      ...(typeof servicePrincipalId === 'string' ? { servicePrincipalId } : {}),
      ...(typeof jobId === 'string' ? { jobId } : {}),
      activeOnly: state !== 'all',
      limit: MAX_HOLDS_LISTED,
    });
    return { items };
  }

  /** DELETE /v1/holds/{id}: an Admin, or the person who placed it. */
  async release(holdId: string, caller: Caller): Promise<HoldView> {
    if (!isUuid(holdId)) {
      throw new DomainError(ErrorCode.INVALID_INPUT, 'holdId must be a GUID');
    }
    const hold = await this.holds.get(holdId);
    if (hold === null) {
      throw new DomainError(ErrorCode.HOLD_NOT_FOUND, `No hold ${holdId}`);
    }
    if (!hasRole(caller, Role.Admin) && hold.placedBy.id !== caller.actor.id) {
      throw new DomainError(
        ErrorCode.HOLD_NOT_YOURS,
        `Hold ${holdId} was placed by ${hold.placedBy.name ?? hold.placedBy.id}; only they or a ${Role.Admin} may release it`,
      );
    }
    const released = await this.holds.release(holdId, { id: caller.actor.id, name: caller.actor.name });
    if (released === null) {
      throw new DomainError(ErrorCode.HOLD_ALREADY_RELEASED, `Hold ${holdId} is already released`);
    }
    return released;
  }

  /**
   * A hold names a job Graph has. Not found → 404. When Graph cannot answer, the hold is placed all the same:
   * a hold only ever prevents actions, and an outage is when people most need one.
   */
  private async mustExist(servicePrincipalId: string, jobId: string | null, requestId: string | null) {
    const ctx = { clientRequestId: requestId ?? undefined };
    try {
      if (jobId === null) {
        await this.graph.listJobs(servicePrincipalId, ctx);
      } else {
        await this.graph.getJob({ servicePrincipalId, jobId }, ctx);
      }
    } catch (error) {
      if (error instanceof GraphError && (error.kind === 'not_found' || error.kind === 'invalid_id')) {
        throw new DomainError(
          ErrorCode.JOB_NOT_FOUND,
          jobId === null
            ? `Graph has no service principal ${servicePrincipalId}; no hold was placed`
            : `Graph has no job ${jobId} under service principal ${servicePrincipalId}; no hold was placed`,
        );
      }
      if (!(error instanceof GraphError)) {
        throw error;
      }
    }
  }
}
