import { ErrorCode } from '@app/common';

/**
 * The HTTP status of every error code: the one table the errors filter answers from. Exhaustive on purpose: a
 * new `ErrorCode` without a status fails typecheck here.
 */
export const ERROR_STATUS = {
  [ErrorCode.INVALID_INPUT]: 400,
  [ErrorCode.UNKNOWN_QUERY_PARAMETER]: 400,
  [ErrorCode.INVALID_CURSOR]: 400,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.ROUTE_NOT_FOUND]: 404,
  [ErrorCode.METHOD_NOT_ALLOWED]: 405,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.JOB_NOT_FOUND]: 404,
  [ErrorCode.ATTEMPT_NOT_FOUND]: 404,
  [ErrorCode.GRANT_NOT_FOUND]: 404,
  [ErrorCode.GRANT_EXISTS]: 409,
  [ErrorCode.WATCH_NOT_FOUND]: 404,
  [ErrorCode.HOLD_UNTIL_IN_PAST]: 400,
  [ErrorCode.HOLD_NOT_FOUND]: 404,
  [ErrorCode.HOLD_ALREADY_RELEASED]: 409,
  [ErrorCode.HOLD_NOT_YOURS]: 403,
  [ErrorCode.APPROVAL_NOT_FOUND]: 404,
  [ErrorCode.APPROVAL_OWN_REQUEST]: 403,
  [ErrorCode.APPROVAL_EXPIRED]: 409,
  [ErrorCode.APPROVAL_ALREADY_DECIDED]: 409,
  [ErrorCode.DESTINATION_NOT_FOUND]: 404,
  [ErrorCode.DELIVERY_NOT_FOUND]: 404,
  [ErrorCode.DELIVERY_PENDING]: 409,
  [ErrorCode.NOT_RECOVERY_LEADER]: 409,
  [ErrorCode.RECOVERY_DISABLED]: 409,
  [ErrorCode.AUDIT_UNAVAILABLE]: 503,
  [ErrorCode.ATTEMPT_UNRECORDED]: 503,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
  [ErrorCode.NOT_ACCEPTABLE]: 406,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.UNPROCESSABLE]: 422,
  [ErrorCode.TOO_MANY_REQUESTS]: 429,
  [ErrorCode.BAD_GATEWAY]: 502,
  [ErrorCode.GATEWAY_TIMEOUT]: 504,
  [ErrorCode.GRAPH_UNAVAILABLE]: 503,
  [ErrorCode.GRAPH_TIMEOUT]: 504,
  [ErrorCode.GRAPH_THROTTLED]: 429,
  [ErrorCode.GRAPH_FORBIDDEN]: 502,
  [ErrorCode.GRAPH_ERROR]: 502,
  [ErrorCode.INTERNAL]: 500,
} as const satisfies Record<ErrorCode, number>;

export function httpStatusForError(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/**
 * The code of an error answer that did not come from our own code (Nest's own exceptions, body-parser and
 * content-type refusals): by status, generic on purpose, each mapped back to that same status. A status not
 * listed (a rare 4xx or 5xx) is a 400 or a 500.
 */
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCode.INVALID_INPUT,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.ROUTE_NOT_FOUND,
  405: ErrorCode.METHOD_NOT_ALLOWED,
  406: ErrorCode.NOT_ACCEPTABLE,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  422: ErrorCode.UNPROCESSABLE,
  429: ErrorCode.TOO_MANY_REQUESTS,
  500: ErrorCode.INTERNAL,
  502: ErrorCode.BAD_GATEWAY,
  503: ErrorCode.SERVICE_UNAVAILABLE,
  504: ErrorCode.GATEWAY_TIMEOUT,
};

export function errorCodeForStatus(status: number): ErrorCode {
  return CODE_BY_STATUS[status] ?? (status < 500 ? ErrorCode.INVALID_INPUT : ErrorCode.INTERNAL);
}
