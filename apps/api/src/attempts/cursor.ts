import { DomainError, ErrorCode, GUID_PATTERN } from '@app/common';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AttemptFilter, AttemptKey } from '@app/persistence';

const VERSION = 'v1';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_CURSOR_LENGTH = 512;

/** Used when AUDIT_CURSOR_KEY is not set: stable across replicas, so any replica accepts any replica's cursor. */
const DEFAULT_KEY_SEED = 'sync-job-guard/audit-cursor/v1';

/** A cursor this codec did not issue for these filters: 400 `INVALID_CURSOR`. */
export class InvalidCursorError extends DomainError {
  constructor() {
    super(
      ErrorCode.INVALID_CURSOR,
      'cursor is not valid: pass the nextCursor of the previous page, with the same filters',
    );
    this.name = 'InvalidCursorError';
  }
}

/** Canonical form of a filter: the same filters give the same string whatever their order in the URL. */
export function canonicalFilter(filter: AttemptFilter): string {
  return JSON.stringify([
    filter.servicePrincipalId ?? null,
    filter.jobId ?? null,
    filter.outcomes ? [...filter.outcomes].sort() : null,
    filter.actorId ?? null,
    filter.trigger ?? null,
    filter.from ? filter.from.toISOString() : null,
    filter.to ? filter.to.toISOString() : null,
    // Appended, so cursors issued before the operation filter existed stay valid when it is absent.
    ...(filter.operation !== undefined ? [filter.operation] : []),
  ]);
}

/**
 * Opaque, tamper-evident keyset cursors: `v1.<base64url(JSON {t, i})>.<base64url(HMAC-SHA256)>`. The MAC covers
 * the position and a hash of the filters, so a forged, garbled or truncated cursor, or one reused with other
 * filters, is refused (400) before it reaches the database.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string | undefined | null) {
    this.key = createHash('sha256')
      .update(secret && secret.length > 0 ? `key:${secret}` : DEFAULT_KEY_SEED)
      .digest();
  }

  encode(position: AttemptKey, filter: AttemptFilter): string {
    const payload = Buffer.from(
      JSON.stringify({ t: position.createdAt.toISOString(), i: position.id }),
    ).toString('base64url');
    return `${VERSION}.${payload}.${this.mac(payload, filter).toString('base64url')}`;
  }

  /** Throws InvalidCursorError for anything but a cursor this codec issued for the same filters. */
  decode(cursor: string, filter: AttemptFilter): AttemptKey {
    if (cursor.length > MAX_CURSOR_LENGTH) {
      throw new InvalidCursorError();
    }
    const [version, payload, mac, ...rest] = cursor.split('.');
    if (
      version !== VERSION ||
      payload === undefined ||
      mac === undefined ||
      rest.length > 0 ||
      !BASE64URL.test(payload) ||
      !BASE64URL.test(mac)
    ) {
      throw new InvalidCursorError();
    }
    const expected = this.mac(payload, filter);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidCursorError();
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw new InvalidCursorError();
    }
    const { t, i } = (parsed ?? {}) as { t?: unknown; i?: unknown };
    if (typeof t !== 'string' || typeof i !== 'string' || !GUID_PATTERN.test(i)) {
      throw new InvalidCursorError();
    }
    const createdAt = new Date(t);
    if (Number.isNaN(createdAt.getTime())) {
      throw new InvalidCursorError();
    }
    return { createdAt, id: i.toLowerCase() };
  }

  private mac(payload: string, filter: AttemptFilter): Buffer {
    return createHmac('sha256', this.key)
      .update(`${VERSION}\n${payload}\n${canonicalFilter(filter)}`)
      .digest();
  }
}
