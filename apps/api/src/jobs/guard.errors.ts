/** The audit store (PostgreSQL) could not record the attempt: the guard answers 503 and Graph is not called. */
export class AuditUnavailableError extends Error {
  constructor(
    readonly publicMessage: string,
    cause?: unknown,
  ) {
    super(`${publicMessage}${cause instanceof Error ? `: ${cause.message}` : ''}`);
    this.name = 'AuditUnavailableError';
  }
}
