import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { sendProblem } from './problem';
import { AuditUnavailableError } from '../jobs/guard.errors';
import { ControlError } from '../control/control.errors';

/** Maps every error to the problem shape; never a stack trace in a response. */
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
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      let message = exception.message;
      if (typeof body === 'object' && body !== null && 'message' in body) {
        const m = body.message;
        message = Array.isArray(m) ? m.map(String).join('; ') : String(m);
      }
      sendProblem(req, res, status, message);
      return;
    }
    if (exception instanceof ControlError) {
      sendProblem(req, res, exception.status, exception.message, exception.code);
      return;
    }
    if (exception instanceof AuditUnavailableError) {
      this.logger.warn(`audit store unavailable: ${exception.message}`);
      sendProblem(req, res, 503, exception.publicMessage);
      return;
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    sendProblem(req, res, 500, 'internal error');
  }
}
