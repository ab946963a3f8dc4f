/**
 * A refusal of a job-control request that is not an attempt (holds, approvals): an HTTP status and a stable
 * code, rendered in the problem shape by the errors filter.
 */
export const CONTROL_ERROR_CODES = {
  INVALID_INPUT: 400,
  HOLD_UNTIL_IN_PAST: 400,
  JOB_NOT_FOUND: 404,
  HOLD_NOT_FOUND: 404,
  HOLD_ALREADY_RELEASED: 409,
  HOLD_NOT_YOURS: 403,
  APPROVAL_NOT_FOUND: 404,
  APPROVAL_OWN_REQUEST: 403,
  APPROVAL_EXPIRED: 409,
  APPROVAL_ALREADY_DECIDED: 409,
} as const;
export type ControlErrorCode = keyof typeof CONTROL_ERROR_CODES;

export class ControlError extends Error {
  readonly status: number;

  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
    this.status = CONTROL_ERROR_CODES[code];
  }
}
