import type { Api, ApiResponse } from './client';
import { ApiError } from './client';
import type { AttemptView, Job } from './types';

/** The Attempt of an answer, or the API's message as an ApiError when the answer is not an attempt. */
export function attemptOf(res: ApiResponse<AttemptView | { message?: unknown } | null>): {
  status: number;
  attempt: AttemptView;
} {
  if (typeof res.body === 'object' && res.body !== null && 'attemptId' in res.body) {
    return { status: res.status, attempt: res.body };
  }
  const m = typeof res.body === 'object' && res.body !== null ? res.body.message : undefined;
  const message =
    typeof m === 'string' && m
      ? m
      : Array.isArray(m)
        ? m.map(String).join('; ')
        : `The API answered ${res.status}`;
  throw new ApiError(res.status, message, res.body);
}

const base = (spId: string) => `/v1/servicePrincipals/${encodeURIComponent(spId)}/synchronization/jobs`;

/**
 * A guarded operation (start, pause, restart). Every decision comes back as an Attempt whatever the HTTP status
 * (202 awaiting_approval, 409 skipped, 423 held, 429 rate_limited, …); anything else (401, 413, 503 with no
 * attempt) is an ApiError with the API's message.
 */
async function operation(
  api: Api,
  spId: string,
  jobId: string,
  op: 'start' | 'pause' | 'restart',
  body: Record<string, unknown>,
) {
  const res = await api.send<AttemptView | { message?: unknown }>(
    'POST',
    `${base(spId)}/${encodeURIComponent(jobId)}/${op}`,
    body,
  );
  return attemptOf(res);
}

export const jobsApi = {
  list: (api: Api, spId: string) => api.get<{ items: Job[] }>(base(spId)).then((r) => r.items),
  get: (api: Api, spId: string, jobId: string) => api.get<Job>(`${base(spId)}/${encodeURIComponent(jobId)}`),
  operation,
  start: (api: Api, spId: string, jobId: string, body: { reason?: string; dryRun?: boolean }) =>
    operation(api, spId, jobId, 'start', body),
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
