/** Which of Graph's calls a request under /v1.0 or /beta is, and Graph's restart body. Pure: no I/O. */

export const DOOR_PREFIXES = ['v1.0', 'beta'] as const;
export type DoorPrefix = (typeof DOOR_PREFIXES)[number];

export type JobOperation = 'start' | 'pause' | 'restart';

export type DoorRoute =
  | { kind: 'list'; servicePrincipalId: string }
  | { kind: 'get'; servicePrincipalId: string; jobId: string }
  | { kind: JobOperation; servicePrincipalId: string; jobId: string }
  | { kind: 'batch' }
  | { kind: 'unsupported' };

const OPERATIONS: readonly JobOperation[] = ['start', 'pause', 'restart'];

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** `servicePrincipals('id')` is OData's key syntax for `servicePrincipals/id`. */
function keySyntax(segment: string): string | null {
  const m = /^serviceprincipals\('([^']*)'\)$/i.exec(segment);
  return m ? (m[1] ?? '') : null;
}

/**
 * Matches Graph's paths for synchronization jobs, relative to the version root (`/servicePrincipals/…`).
 * Path segments are compared case-insensitively, as Graph does; ids are passed on as given (validated later).
 */
export function matchDoorRoute(method: string, path: string): DoorRoute {
  const m = method.toUpperCase();
  const raw = path.split('?')[0] ?? '';
  const parts = raw.split('/').filter((s) => s.length > 0);
  const segments: string[] = [];
  for (const p of parts) {
    const d = decode(p);
    if (d === null) {
      return { kind: 'unsupported' };
    }
    segments.push(d);
  }
  if (segments.length === 1 && segments[0] === '$batch') {
    return m === 'POST' ? { kind: 'batch' } : { kind: 'unsupported' };
  }
  // servicePrincipals/{id}/synchronization/jobs[/{jobId}[/{operation}]] or servicePrincipals('{id}')/…
  let rest: string[];
  let servicePrincipalId: string;
  const keyed = segments[0] !== undefined ? keySyntax(segments[0]) : null;
  if (keyed !== null) {
    servicePrincipalId = keyed;
    rest = segments.slice(1);
  } else if (segments[0]?.toLowerCase() === 'serviceprincipals' && segments[1] !== undefined) {
    servicePrincipalId = segments[1];
    rest = segments.slice(2);
  } else {
    return { kind: 'unsupported' };
  }
  if (rest[0]?.toLowerCase() !== 'synchronization' || rest[1]?.toLowerCase() !== 'jobs') {
    return { kind: 'unsupported' };
  }
  const jobId = rest[2];
  const operation = rest[3]?.toLowerCase();
  if (rest.length === 2) {
    return m === 'GET' ? { kind: 'list', servicePrincipalId } : { kind: 'unsupported' };
  }
  if (jobId !== undefined && rest.length === 3) {
    return m === 'GET' ? { kind: 'get', servicePrincipalId, jobId } : { kind: 'unsupported' };
  }
  if (jobId !== undefined && rest.length === 4 && m === 'POST') {
    const op = OPERATIONS.find((o) => o === operation);
    if (op) {
      return { kind: op, servicePrincipalId, jobId };
    }
  }
  return { kind: 'unsupported' };
}

/** Graph's restart scopes (synchronizationJobRestartScope, a flags enum sent as "A, B"). */
export function parseGraphRestartBody(
  body: unknown,
): { ok: true; resetScope: string[] } | { ok: false; message: string } {
  if (body === undefined || body === null) {
    return { ok: true, resetScope: [] };
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    return {
      ok: false,
      message: 'body must be a JSON object: {"criteria":{"resetScope":"Watermark, Escrows"}}',
    };
  }
  const record = body as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => k !== 'criteria');
  if (extra.length > 0) {
    return {
      ok: false,
      message: `property ${JSON.stringify(extra[0])} is not allowed; Graph's restart takes criteria`,
    };
  }
  const criteria = record.criteria;
  if (criteria === undefined || criteria === null) {
    return { ok: true, resetScope: [] };
  }
  if (typeof criteria !== 'object' || Array.isArray(criteria)) {
    return { ok: false, message: 'criteria must be an object: {"resetScope":"Watermark, Escrows"}' };
  }
  const c = criteria as Record<string, unknown>;
  const extraCriteria = Object.keys(c).filter((k) => k !== 'resetScope');
  if (extraCriteria.length > 0) {
    return { ok: false, message: `criteria property ${JSON.stringify(extraCriteria[0])} is not allowed` };
  }
  const scope = c.resetScope;
  if (scope === undefined || scope === null || scope === '') {
    return { ok: true, resetScope: [] };
  }
  if (typeof scope !== 'string') {
    return { ok: false, message: 'criteria.resetScope must be a string such as "Watermark, Escrows"' };
  }
  const names = scope
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return { ok: true, resetScope: names };
}
