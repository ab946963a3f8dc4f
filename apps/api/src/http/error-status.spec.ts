import { ErrorCode } from '@app/common';
import { ERROR_STATUS, errorCodeForStatus, httpStatusForError } from './error-status';

describe('ERROR_STATUS: the one table from error code to HTTP status', () => {
  it.each([
    [ErrorCode.INVALID_INPUT, 400],
    [ErrorCode.UNKNOWN_QUERY_PARAMETER, 400],
    [ErrorCode.INVALID_CURSOR, 400],
    [ErrorCode.UNAUTHENTICATED, 401],
    [ErrorCode.FORBIDDEN, 403],
    [ErrorCode.ROUTE_NOT_FOUND, 404],
    [ErrorCode.ATTEMPT_NOT_FOUND, 404],
    [ErrorCode.JOB_NOT_FOUND, 404],
    [ErrorCode.HOLD_NOT_YOURS, 403],
    [ErrorCode.APPROVAL_OWN_REQUEST, 403],
    [ErrorCode.APPROVAL_EXPIRED, 409],
    [ErrorCode.NOT_RECOVERY_LEADER, 409],
    [ErrorCode.PAYLOAD_TOO_LARGE, 413],
    [ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415],
    [ErrorCode.GRAPH_THROTTLED, 429],
    [ErrorCode.INTERNAL, 500],
    [ErrorCode.GRAPH_FORBIDDEN, 502],
    [ErrorCode.GRAPH_ERROR, 502],
    [ErrorCode.AUDIT_UNAVAILABLE, 503],
    [ErrorCode.ATTEMPT_UNRECORDED, 503],
    [ErrorCode.GRAPH_UNAVAILABLE, 503],
    [ErrorCode.GRAPH_TIMEOUT, 504],
  ])('%s → %i', (code, status) => {
    expect(httpStatusForError(code)).toBe(status);
  });

  it('has an error status (4xx or 5xx) for every code, and no entry that is not a code', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(Object.values(ErrorCode).sort());
    for (const status of Object.values(ERROR_STATUS)) {
      expect(status >= 400 && status <= 599).toBe(true);
    }
  });

  it('gives the errors Nest and body parsing raise a code whose status is their own', () => {
    for (const status of [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500, 502, 503, 504]) {
      expect(httpStatusForError(errorCodeForStatus(status))).toBe(status);
    }
    expect(errorCodeForStatus(404)).toBe(ErrorCode.ROUTE_NOT_FOUND);
    expect(errorCodeForStatus(418)).toBe(ErrorCode.INVALID_INPUT);
    expect(errorCodeForStatus(501)).toBe(ErrorCode.INTERNAL);
  });
});
