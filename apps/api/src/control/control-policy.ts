import { type ObservedStatus, adviceFor, unknownKeys } from '@app/common';
import type { GraphRestartScope, SyncJob } from '@app/graph';
import { MAX_REASON_LENGTH } from '../jobs/start-request';

/**
 * Job control beyond start (DESIGN 2c) as pure functions: the restart scopes, which operations need a second
 * person, and strict parsing of the pause, restart and hold bodies. No I/O here.
 */

/** The scopes a caller may ask for, by the names of DESIGN 2c. */
export const RESET_SCOPES = ['Escrows', 'Watermark', 'QuarantineState', 'Full', 'ForceDeletion'] as const;
export type ResetScope = (typeof RESET_SCOPES)[number];

/** Graph's own names that Microsoft says not to use. */
export const FORBIDDEN_SCOPES = ['None', 'ConnectorDataStore'] as const;

/** A full re-sync (Full, Watermark) or deletes the TooManyDeletes threshold held back (ForceDeletion). */
export const SCOPES_NEEDING_APPROVAL: readonly ResetScope[] = ['Full', 'Watermark', 'ForceDeletion'];

/** Graph's CSDL member name for each scope (`ForceDeletion` is `ForceDeletes` on the wire). */
export function toGraphScope(scope: ResetScope): GraphRestartScope {
  return scope === 'ForceDeletion' ? 'ForceDeletes' : scope;
}

/** Graph's spelling of the deletion scope is accepted too. */
const SCOPE_BY_LOWER = new Map<string, ResetScope>([
  ...RESET_SCOPES.map((s): [string, ResetScope] => [s.toLowerCase(), s]),
  ['forcedeletes', 'ForceDeletion'],
]);

/** A refusal names the field; `untilInPast` marks the one refusal with its own stable code. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; untilInPast?: true };

function reasonOf(value: unknown, name: string, required: boolean): Parsed<string | null> {
  if (value === undefined || value === null) {
    return required ? { ok: false, message: `${name} is required` } : { ok: true, value: null };
  }
  if (typeof value !== 'string') {
    return { ok: false, message: `${name} must be a string` };
  }
  if (required && value.trim() === '') {
    return { ok: false, message: `${name} must not be empty` };
  }
  if (value.length > MAX_REASON_LENGTH) {
    return { ok: false, message: `${name} must be at most ${MAX_REASON_LENGTH} characters` };
  }
  return { ok: true, value };
}

function asObject(body: unknown, optional: boolean): Parsed<Record<string, unknown>> {
  if ((body === undefined || body === null) && optional) {
    return { ok: true, value: {} };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'body must be a JSON object' };
  }
  return { ok: true, value: body as Record<string, unknown> };
}

/** `resetScope`: a non-empty list of known scope names, each once; None and ConnectorDataStore refused. */
export function parseResetScope(value: unknown): Parsed<ResetScope[]> {
  if (value === undefined || value === null) {
    return { ok: false, message: 'resetScope is required: a list of scopes, e.g. ["Escrows"]' };
  }
  if (typeof value === 'string') {
    return {
      ok: false,
      message: `resetScope must be a list of scopes, not a string: send ["${value.split(',')[0]?.trim() ?? ''}"]`,
    };
  }
  if (!Array.isArray(value)) {
    return { ok: false, message: 'resetScope must be a list of scopes' };
  }
  if (value.length === 0) {
    return {
      ok: false,
      message: `resetScope must name at least one scope (${RESET_SCOPES.join(', ')})`,
    };
  }
  const scopes: ResetScope[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'string') {
      return { ok: false, message: 'resetScope must hold strings only' };
    }
    const name = item.trim();
    if ((FORBIDDEN_SCOPES as readonly string[]).some((f) => f.toLowerCase() === name.toLowerCase())) {
      return {
        ok: false,
        message: `resetScope ${JSON.stringify(name.slice(0, 50))} is not allowed: Microsoft says not to use it (use start instead of None; ConnectorDataStore needs Microsoft support)`,
      };
    }
    const scope = SCOPE_BY_LOWER.get(name.toLowerCase());
    if (scope === undefined) {
      return {
        ok: false,
        message: `resetScope ${JSON.stringify(name.slice(0, 50))} is not a scope; use ${RESET_SCOPES.join(', ')}`,
      };
    }
    if (scopes.includes(scope)) {
      return { ok: false, message: `resetScope names ${scope} twice` };
    }
    scopes.push(scope);
  }
  return { ok: true, value: scopes };
}

export interface RestartBody {
  resetScope: ResetScope[];
  reason: string;
  dryRun: boolean;
}

export function parseRestartBody(body: unknown): Parsed<RestartBody> {
  const o = asObject(body, false);
  if (!o.ok) {
    return o;
  }
  const extra = unknownKeys(o.value, ['resetScope', 'reason', 'dryRun'], 'property');
  if (extra) {
    return { ok: false, message: extra };
  }
  const scopes = parseResetScope(o.value.resetScope);
  if (!scopes.ok) {
    return scopes;
  }
  const reason = reasonOf(o.value.reason, 'reason', true);
  if (!reason.ok) {
    return reason;
  }
  const dryRun = o.value.dryRun;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') {
    return { ok: false, message: 'dryRun must be a boolean' };
  }
  return {
    ok: true,
    value: { resetScope: scopes.value, reason: reason.value ?? '', dryRun: dryRun === true },
  };
}

export interface HoldRequest {
  reason: string;
  until: Date | null;
}

/** `until`: an ISO 8601 date-time with an offset, in the future. */
export function parseUntil(value: unknown, now: Date, name = 'until'): Parsed<Date | null> {
  if (value === undefined || value === null) {
    return { ok: true, value: null };
  }
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    return {
      ok: false,
      message: `${name} must be an ISO 8601 date-time with an offset, e.g. 2026-12-01T08:00:00Z`,
    };
  }
  const at = new Date(Date.parse(value));
  if (at.getTime() <= now.getTime()) {
    return { ok: false, message: `${name} must be in the future`, untilInPast: true };
  }
  return { ok: true, value: at };
}

function parseHoldFields(record: Record<string, unknown>, now: Date, prefix: string): Parsed<HoldRequest> {
  const reason = reasonOf(record.reason, `${prefix}reason`, true);
  if (!reason.ok) {
    return reason;
  }
  const until = parseUntil(record.until, now, `${prefix}until`);
  if (!until.ok) {
    return until;
  }
  return { ok: true, value: { reason: reason.value ?? '', until: until.value } };
}

export interface PauseBody {
  reason: string | null;
  hold: HoldRequest | null;
}

export function parsePauseBody(body: unknown, now: Date): Parsed<PauseBody> {
  const o = asObject(body, true);
  if (!o.ok) {
    return o;
  }
  const extra = unknownKeys(o.value, ['reason', 'hold'], 'property');
  if (extra) {
    return { ok: false, message: extra };
  }
  const reason = reasonOf(o.value.reason, 'reason', false);
  if (!reason.ok) {
    return reason;
  }
  if (o.value.hold === undefined || o.value.hold === null) {
    return { ok: true, value: { reason: reason.value, hold: null } };
  }
  const h = asObject(o.value.hold, false);
  if (!h.ok) {
    return { ok: false, message: 'hold must be a JSON object { reason, until? }' };
  }
  const holdExtra = unknownKeys(h.value, ['reason', 'until'], 'hold property');
  if (holdExtra) {
    return { ok: false, message: holdExtra };
  }
  const hold = parseHoldFields(h.value, now, 'hold.');
  if (!hold.ok) {
    return hold;
  }
  return { ok: true, value: { reason: reason.value, hold: hold.value } };
}

export interface PlaceHoldBody extends HoldRequest {
  servicePrincipalId: string;
  jobId: string | null;
}

export function parsePlaceHoldBody(
  body: unknown,
  now: Date,
  ids: { isServicePrincipalId: (v: unknown) => boolean; isJobId: (v: unknown) => boolean },
): Parsed<PlaceHoldBody> {
  const o = asObject(body, false);
  if (!o.ok) {
    return o;
  }
  const extra = unknownKeys(o.value, ['servicePrincipalId', 'jobId', 'reason', 'until'], 'property');
  if (extra) {
    return { ok: false, message: extra };
  }
  const { servicePrincipalId, jobId } = o.value;
  if (!ids.isServicePrincipalId(servicePrincipalId)) {
    return { ok: false, message: 'servicePrincipalId must be a GUID' };
  }
  if (jobId !== undefined && jobId !== null && !ids.isJobId(jobId)) {
    return { ok: false, message: 'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' };
  }
  const hold = parseHoldFields(o.value, now, '');
  if (!hold.ok) {
    return hold;
  }
  return {
    ok: true,
    value: {
      ...hold.value,
      servicePrincipalId: (servicePrincipalId as string).toLowerCase(),
      jobId: typeof jobId === 'string' ? jobId : null,
    },
  };
}

/** Why a restart with these scopes needs a second person, or null. */
export function restartApprovalWhy(scopes: readonly ResetScope[]): string | null {
  const risky = scopes.filter((s) => SCOPES_NEEDING_APPROVAL.includes(s));
  if (risky.length === 0) {
    return null;
  }
  const what = risky
    .map((s) =>
      s === 'ForceDeletion'
        ? 'ForceDeletion pushes through the deletes the TooManyDeletes threshold held back'
        : `${s} runs a full re-sync`,
    )
    .join('; ');
  return `A restart with ${risky.join(', ')} needs a second person (${what})`;
}

/** Why a start of this job needs a second person (quarantined for a reason that needs a person), or null. */
export function startApprovalWhy(job: SyncJob): string | null {
  if (job.observedStatus !== 'quarantine') {
    return null;
  }
  const reason = job.quarantine?.reason ?? null;
  if (reason === null || !adviceFor(reason).needsPerson) {
    return null;
  }
  return `The job is quarantined for ${reason}, which needs a person: a start needs a second person`;
}

/** Restart reprocesses a paused, quarantined or running job; not one that is not configured or unknown. */
export function isRestartable(status: ObservedStatus): boolean {
  return status === 'paused' || status === 'quarantine' || status === 'active';
}

/** Graph's own pause after an initial cycle with pruned escrows (not a person's pause). */
export function isEscrowPause(job: SyncJob): boolean {
  return job.observedStatus === 'paused' && job.escrowsPruned === true;
}
