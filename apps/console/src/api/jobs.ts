import type { Api } from './client';
import { ApiError } from './client';
import type { AttemptView, Job } from './types';

const base = (spId: string) => `/v1/servicePrincipals/${encodeURIComponent(spId)}/synchronization/jobs`;

export const jobsApi = {
  list: (api: Api, spId: string) => api.get<{ items: Job[] }>(base(spId)).then((r) => r.items),
  get: (api: Api, spId: string, jobId: string) => api.get<Job>(`${base(spId)}/${encodeURIComponent(jobId)}`),
  /**
   * The guarded start. Every decision comes back as an Attempt whatever the HTTP status (409 skipped, 429
   * rate_limited, …); anything else (401, 413, 503 with no attempt) is an ApiError with the API's message.
   */
  async start(api: Api, spId: string, jobId: string, body: { reason?: string; dryRun?: boolean }) {
    const res = await api.send<AttemptView | { message?: string }>(
      'POST',
      `${base(spId)}/${encodeURIComponent(jobId)}/start`,
      body,
    );
    if (typeof res.body === 'object' && res.body !== null && 'attemptId' in res.body) {
      return { status: res.status, attempt: res.body };
    }
    const message =
      typeof res.body === 'object' && res.body !== null && typeof res.body.message === 'string'
        ? res.body.message
        : `The API answered ${res.status}`;
    throw new ApiError(res.status, message, res.body);
  },
};

/**
 * The operation did go ahead (start, pause, restart), or (a preview) would: a dry run is always answered `dry_run`, with `wouldStart` saying
 * whether the start would be sent.
 */
export function isGo(attempt: AttemptView): boolean {
  switch (attempt.outcome) {
    case 'started':
    case 'paused':
    case 'restarted':
      return true;
    case 'dry_run':
      return attempt.wouldStart !== false;
    default:
      return false;
  }
}
