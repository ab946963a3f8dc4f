import type { Api } from './client';
import type { Approval, AttemptView, Hold } from './types';
import { attemptOf, jobsApi } from './jobs';

/** Holds, pause, restart and approvals (DESIGN 2c), through the same /v1 API. */

export interface HoldInput {
  reason: string;
  /** ISO 8601 date-time with an offset, in the future; absent: until released. */
  until?: string;
}

export const holdsApi = {
  list: (api: Api, q: { servicePrincipalId?: string; jobId?: string; state?: 'active' | 'all' } = {}) =>
    api.get<{ items: Hold[] }>('/v1/holds', q).then((r) => r.items),
  place: (api: Api, body: HoldInput & { servicePrincipalId: string; jobId?: string }) =>
    api.post<Hold>('/v1/holds', body),
  release: (api: Api, holdId: string) => api.del(`/v1/holds/${encodeURIComponent(holdId)}`),
};

export const controlApi = {
  /** The guarded pause; with `hold`, a hold is placed in the same step. Answered with the Attempt. */
  pause: (api: Api, spId: string, jobId: string, body: { reason?: string; hold?: HoldInput }) =>
    jobsApi.operation(api, spId, jobId, 'pause', body),
  /** The guarded restart. Full, Watermark and ForceDeletion answer 202 awaiting_approval. */
  restart: (api: Api, spId: string, jobId: string, body: { resetScope: string[]; reason: string }) =>
    jobsApi.operation(api, spId, jobId, 'restart', body),
};

export const approvalsApi = {
  list: (api: Api) => api.get<{ items: Approval[] }>('/v1/approvals').then((r) => r.items),
  /** Runs the approved operation through the guard: answered with that Attempt (or a refusal problem). */
  approve: (api: Api, approvalId: string, reason?: string) =>
    api
      .send<AttemptView | { message?: unknown }>(
        'POST',
        `/v1/approvals/${encodeURIComponent(approvalId)}/approve`,
        reason ? { reason } : {},
      )
      .then(attemptOf),
  reject: (api: Api, approvalId: string, reason?: string) =>
    api.post<Approval>(`/v1/approvals/${encodeURIComponent(approvalId)}/reject`, reason ? { reason } : {}),
};

/** Restart scopes (DESIGN 2c), what each does, and whether it needs a second person. */
export const RESTART_SCOPES: { scope: string; label: string; explains: string; needsApproval: boolean }[] = [
  {
    scope: 'Escrows',
    label: 'Escrows',
    explains:
      'Clears the escrows: the objects whose changes failed and wait to be retried. The next cycle is incremental.',
    needsApproval: false,
  },
  {
    scope: 'QuarantineState',
    label: 'Quarantine state',
    explains:
      'Lifts the quarantine for now so the job runs at its next interval. Fix the cause first, or it returns.',
    needsApproval: false,
  },
  {
    scope: 'Watermark',
    label: 'Watermark',
    explains:
      'Clears the watermark: the next cycle is an initial cycle that re-reads every object in scope (a full re-sync; hours in a large tenant).',
    needsApproval: true,
  },
  {
    scope: 'Full',
    label: 'Full',
    explains:
      'Clears escrows, watermark and quarantine state: a full re-sync of everything in scope, like a new job.',
    needsApproval: true,
  },
  {
    scope: 'ForceDeletion',
    label: 'Force deletion',
    explains:
      'Pushes through the deletes the accidental-deletions (TooManyDeletes) threshold held back: the target loses those accounts.',
    needsApproval: true,
  },
];
