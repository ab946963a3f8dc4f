import { isJobId, isServicePrincipalId, unknownKeys } from '@app/common';

export interface StartBody {
  reason: string | null;
  dryRun: boolean;
}

export const MAX_REASON_LENGTH = 500;

/** Strict validation of the start body: unknown properties and wrong types are refused, naming the field. */
export function parseStartBody(
  body: unknown,
): { ok: true; value: StartBody } | { ok: false; message: string } {
  if (body === undefined || body === null) {
    return { ok: true, value: { reason: null, dryRun: false } };
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, message: 'body must be a JSON object' };
  }
  const record = body as Record<string, unknown>;
  const extra = unknownKeys(record, ['reason', 'dryRun'], 'property');
  if (extra) {
    return { ok: false, message: extra };
  }
  const { reason, dryRun } = record;
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    return { ok: false, message: 'reason must be a string' };
  }
  if (typeof reason === 'string' && reason.length > MAX_REASON_LENGTH) {
    return { ok: false, message: `reason must be at most ${MAX_REASON_LENGTH} characters` };
  }
  if (dryRun !== undefined && typeof dryRun !== 'boolean') {
    return { ok: false, message: 'dryRun must be a boolean' };
  }
  return { ok: true, value: { reason: typeof reason === 'string' ? reason : null, dryRun: dryRun === true } };
}

export function idProblem(servicePrincipalId: string, jobId: string): string | null {
  if (!isServicePrincipalId(servicePrincipalId)) {
    return 'servicePrincipalId must be a GUID';
  }
  if (!isJobId(jobId)) {
    return 'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$';
  }
  return null;
}
