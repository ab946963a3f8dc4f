/** Identifier rules of DESIGN section 3, step 1. Ids never reach a URL without passing these. */
/** A GUID in its usual 8-4-4-4-12 form, any case: service principal, principal and attempt ids. */
export const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const SERVICE_PRINCIPAL_ID_PATTERN = GUID_PATTERN;
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function isServicePrincipalId(value: unknown): value is string {
  return typeof value === 'string' && SERVICE_PRINCIPAL_ID_PATTERN.test(value);
}

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID_PATTERN.test(value);
}

/**
 * The one stored form of an id that may be a GUID: a GUID in any casing becomes lower-case (GUIDs compare
 * case-insensitively); anything else is kept as it is (an invalid id stays as the caller sent it, to show what was
 * rejected).
 */
export function canonicalId(value: string): string {
  return GUID_PATTERN.test(value) ? value.toLowerCase() : value;
}

/** Key of a job in the shared guard tables. Service principal ids are GUIDs: compared lower-case. */
export function jobKey(servicePrincipalId: string, jobId: string): string {
  return `${servicePrincipalId.toLowerCase()}/${jobId}`;
}

/**
 * Makes a caller-supplied id safe to store in an audit row: control characters (NUL included) are escaped
 * as \uXXXX and the result is cut to 200 characters.
 */
export function sanitizeForAudit(value: string, max = 200): string {
  const escaped = value.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > max ? escaped.slice(0, max) : escaped;
}

/** Free text (a caller's reason) keeps its newlines; only NUL, which PostgreSQL text cannot hold, is escaped. */
export function escapeNul(value: string): string {
  return value.replace(/\0/g, '\\u0000');
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && GUID_PATTERN.test(value);
}

/** Strict input: names the keys of `record` that are not in `allowed` (`property "x" is not allowed`), or null. */
export function unknownKeys(
  record: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): string | null {
  const extra = Object.keys(record).filter((k) => !allowed.includes(k));
  if (extra.length === 0) {
    return null;
  }
  const names = extra.map((k) => JSON.stringify(k.slice(0, 50))).join(', ');
  return `${what} ${names} ${extra.length === 1 ? 'is' : 'are'} not allowed`;
}
