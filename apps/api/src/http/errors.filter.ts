import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { DomainError, ErrorCode } from '@app/common';
import { isStoreFailure } from '@app/persistence';
import { AuditUnavailableError } from '../jobs/guard.errors';
import { errorCodeForStatus } from './error-status';
import type { HttpReply, HttpRequest } from './http';
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

/** What a refused request body is answered with (Fastify's codes for what it refuses before our parser). */
const BODY_ERRORS: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: ErrorCode.PAYLOAD_TOO_LARGE,
    message: 'request body is larger than the limit',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    message: 'request body must be JSON (Content-Type: application/json)',
  },
};

/** A 4xx error of Fastify's (body reading, content type) as the problem it is; null for anything else. */
function bodyError(exception: HttpException): DomainError | null {
  const cause = exception.cause as { code?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  if (!code.startsWith('FST_ERR_')) {
    return null;
  }
  const known = BODY_ERRORS[code];
  if (known) {
    return new DomainError(known.code, known.message, { cause: exception });
  }
  const status = exception.getStatus();
  return code.startsWith('FST_ERR_CTP_') ? unreadableRequest(status, exception) : null;
}

/**
 * A request Fastify could not read, marked with a 4xx status (a refused body, or the client gone mid-body:
 * `aborted`): the request's fault, not a bug. Null for any other status.
 */
function unreadableRequest(status: unknown, cause: unknown): DomainError | null {
  return typeof status === 'number' && status >= 400 && status < 500
    ? new DomainError(errorCodeForStatus(status), 'request body could not be read', { cause })
    : null;
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
    const body = bodyError(exception);
    if (body) {
      return body;
    }
    return new DomainError(errorCodeForStatus(exception.getStatus()), messageOf(exception), {
      cause: exception,
    });
  }
  const unreadable =
    exception instanceof Error
      ? unreadableRequest((exception as { statusCode?: unknown }).statusCode, exception)
      : null;
  if (unreadable) {
    return unreadable;
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
    const req = ctx.getRequest<HttpRequest>();
    const res = ctx.getResponse<HttpReply>();
    if (res.sent || res.raw.headersSent) {
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
