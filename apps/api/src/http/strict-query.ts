import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { DomainError, ErrorCode, unknownKeys } from '@app/common';
import type { HttpRequest } from './http';

const OWN_QUERY_CHECK = 'sjg:own-query-check';

/**
 * The handler reads and validates its own query parameters (400 naming the field, or a `rejected` attempt row
 * for the start). Every other route takes none.
 */
export const OwnQueryCheck = (): MethodDecorator & ClassDecorator => SetMetadata(OWN_QUERY_CHECK, true);

/**
 * Strict input everywhere (DESIGN section 2): a query parameter on a route that takes none is a 400 naming it,
 * before the handler runs. An interceptor, so authentication (a guard) answers first: 401 before 400.
 */
@Injectable()
export class StrictQueryInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (
      context.getType() === 'http' &&
      !this.reflector.getAllAndOverride<boolean>(OWN_QUERY_CHECK, [context.getHandler(), context.getClass()])
    ) {
      const query = context.switchToHttp().getRequest<HttpRequest>().query as Record<string, unknown>;
      const problem = unknownKeys(query ?? {}, [], 'query parameter');
      if (problem) {
        throw new DomainError(
          ErrorCode.UNKNOWN_QUERY_PARAMETER,
          `${problem}: this endpoint takes no query parameters`,
        );
      }
    }
    return next.handle();
  }
}
