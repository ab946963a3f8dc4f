import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, ErrorCode } from '@app/common';
import { isStoreFailure } from '@app/persistence';
import { AuditUnavailableError } from '../jobs/guard.errors';
import { errorCodeForStatus } from './error-status';
import { sendDomainError } from './problem';

/** The message of an HttpException thrown by Nest itself (routing, pipes): its own text, arrays joined. */
function messageOf(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const m = body.message;
    return Array.isArray(m) ? m.map(String).join('; ') : String(m);
  }
  return exception.message;
}

/**
 * Every error as a DomainError: our own pass through; Nest's HttpExceptions (unknown routes, readiness) get the
 * generic code of their status; a database failure is the audit store being unavailable (503, fail closed);
 * anything else is a bug: 500 `INTERNAL` with a generic message, the stack only in the log.
 */
export function toDomainError(exception: unknown, logger?: Logger): DomainError {
  if (exception instanceof DomainError) {
    return exception;
  }
  if (exception instanceof HttpException) {
    return new DomainError(errorCodeForStatus(exception.getStatus()), messageOf(exception), {
      cause: exception,
    });
  }
  if (isStoreFailure(exception)) {
    return new AuditUnavailableError(exception);
  }
  logger?.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return new DomainError(ErrorCode.INTERNAL, 'internal error', { cause: exception });
}

/** The one global filter: maps every error to the problem shape (with `code`); never a stack trace in a response. */
@Catch()
export class ErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    if (res.headersSent) {
      return;
    }
    const error = toDomainError(exception, this.logger);
    if (error instanceof AuditUnavailableError) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      this.logger.warn(`audit store unavailable${cause}`);
    }
    sendDomainError(req, res, error);
  }
}
