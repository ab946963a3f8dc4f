import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, ErrorCode } from '@app/common';
import { AuthenticationError, TokenVerifier } from './token-verifier';
import { type Caller, Role, hasRole } from './roles';
import { AUTH_FAILURES } from '../metrics/metric-names';
import { MetricsService } from '../metrics/metrics.service';
import type { HttpRequest } from '../http/http';

export const ROLES_KEY = 'sjg:roles';
const PUBLIC_KEY = 'sjg:public';

/** The route needs a valid token and one of these roles (none listed: any authenticated caller). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** The route needs no token (health, metrics, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export interface AuthenticatedRequest extends HttpRequest {
  caller?: Caller;
}

export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) {
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'authentication required');
  }
  return caller;
});

/** Deny by default: every route needs a verified bearer token unless marked @Public. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TokenVerifier) private readonly verifier: Pick<TokenVerifier, 'verify'>,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim()) : null;
    if (!match?.[1]) {
      this.metrics.counter(AUTH_FAILURES).inc({ reason: 'missing' });
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'a bearer token is required');
    }
    try {
      request.caller = await this.verifier.verify(match[1]);
    } catch (error) {
      this.metrics.counter(AUTH_FAILURES).inc({ reason: 'invalid' });
      throw new DomainError(
        ErrorCode.UNAUTHENTICATED,
        error instanceof AuthenticationError ? error.message : 'token could not be verified',
      );
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    if (roles.length > 0 && !roles.some((role) => hasRole(request.caller as Caller, role))) {
      this.metrics.counter(AUTH_FAILURES).inc({ reason: 'role' });
      throw new DomainError(ErrorCode.FORBIDDEN, `this operation needs the ${roles.join(' or ')} role`);
    }
    return true;
  }
}
