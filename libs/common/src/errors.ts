/**
 * The one error model of the service. Code that decides (services, query parsers, repositories) throws a
 * `DomainError` with a stable `ErrorCode`; the HTTP layer alone maps a code to a status (one exhaustive table in
 * apps/api/src/http) and writes the problem body, which always carries `code`.
 *
 * Codes are SCREAMING_SNAKE strings and part of the public contract: add new ones, never rename.
 * Outcomes of start attempts are not errors; they keep their own table (outcome-status.ts).
 */
export enum ErrorCode {
  // The request itself
  INVALID_INPUT = 'INVALID_INPUT',
  UNKNOWN_QUERY_PARAMETER = 'UNKNOWN_QUERY_PARAMETER',
  INVALID_CURSOR = 'INVALID_CURSOR',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  // Who is calling
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  // Resources
  JOB_NOT_FOUND = 'JOB_NOT_FOUND',
  ATTEMPT_NOT_FOUND = 'ATTEMPT_NOT_FOUND',
  GRANT_NOT_FOUND = 'GRANT_NOT_FOUND',
  GRANT_EXISTS = 'GRANT_EXISTS',
  WATCH_NOT_FOUND = 'WATCH_NOT_FOUND',
  HOLD_UNTIL_IN_PAST = 'HOLD_UNTIL_IN_PAST',
  HOLD_NOT_FOUND = 'HOLD_NOT_FOUND',
  HOLD_ALREADY_RELEASED = 'HOLD_ALREADY_RELEASED',
  HOLD_NOT_YOURS = 'HOLD_NOT_YOURS',
  APPROVAL_NOT_FOUND = 'APPROVAL_NOT_FOUND',
  APPROVAL_OWN_REQUEST = 'APPROVAL_OWN_REQUEST',
  APPROVAL_EXPIRED = 'APPROVAL_EXPIRED',
  APPROVAL_ALREADY_DECIDED = 'APPROVAL_ALREADY_DECIDED',
  DESTINATION_NOT_FOUND = 'DESTINATION_NOT_FOUND',
  DELIVERY_NOT_FOUND = 'DELIVERY_NOT_FOUND',
  DELIVERY_PENDING = 'DELIVERY_PENDING',
  NOT_RECOVERY_LEADER = 'NOT_RECOVERY_LEADER',
  RECOVERY_DISABLED = 'RECOVERY_DISABLED',
  // What we depend on
  AUDIT_UNAVAILABLE = 'AUDIT_UNAVAILABLE',
  /** A decision was made (a start may have been sent) but its attempt row could not be finalised. */
  ATTEMPT_UNRECORDED = 'ATTEMPT_UNRECORDED',
  /** Not ready to serve (readiness down, shutting down, a sweep that could not run). */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  // Generic codes of other frameworks' errors (Nest's HttpException by status)
  NOT_ACCEPTABLE = 'NOT_ACCEPTABLE',
  CONFLICT = 'CONFLICT',
  UNPROCESSABLE = 'UNPROCESSABLE',
  TOO_MANY_REQUESTS = 'TOO_MANY_REQUESTS',
  BAD_GATEWAY = 'BAD_GATEWAY',
  GATEWAY_TIMEOUT = 'GATEWAY_TIMEOUT',
  GRAPH_UNAVAILABLE = 'GRAPH_UNAVAILABLE',
  GRAPH_TIMEOUT = 'GRAPH_TIMEOUT',
  GRAPH_THROTTLED = 'GRAPH_THROTTLED',
  /** Graph refused this service's own identity (a missing permission), not the caller. */
  GRAPH_FORBIDDEN = 'GRAPH_FORBIDDEN',
  GRAPH_ERROR = 'GRAPH_ERROR',
  INTERNAL = 'INTERNAL',
}

export interface DomainErrorOptions {
  cause?: unknown;
  /** Extra fields for the problem body (never secrets), e.g. `{ retryAfterSeconds: 30 }`. */
  details?: Readonly<Record<string, unknown>>;
}

/** A refusal or failure with a stable code. `message` is safe to show to the caller. */
export class DomainError extends Error {
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.details = options.details;
  }
}

export function isDomainError(error: unknown, code?: ErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}

/** The result of a strict input parser: the value, or a message naming the refused field. */
export type ParsedInput<T> = { ok: true; value: T } | { ok: false; message: string };

/** The parsed value, or a 400 (`INVALID_INPUT`) carrying the parser's message. */
export function validInput<T>(parsed: ParsedInput<T>): T {
  if (!parsed.ok) {
    throw new DomainError(ErrorCode.INVALID_INPUT, parsed.message);
  }
  return parsed.value;
}
