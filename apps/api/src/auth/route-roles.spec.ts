import type { ExecutionContext, Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { DomainError, ErrorCode } from '@app/common';
import { ApprovalsController } from '../approvals/approvals.controller';
import { AttemptsController } from '../attempts/attempts.controller';
import { JobControlController } from '../control/job-control.controller';
import { GrantsController } from '../grants/grants.controller';
import { GraphDoorController } from '../graph-door/graph-door.controller';
import { HealthController } from '../health/health.controller';
import { HoldsController } from '../holds/holds.controller';
import { JobsController } from '../jobs/jobs.controller';
import { MetricsController } from '../metrics/metrics.controller';
import { MetricsService } from '../metrics/metrics.service';
import { NotificationsController } from '../notifications/notifications.controller';
import { RecoveryController } from '../recovery/recovery.controller';
import { AuthGuard } from './auth.guard';
import { type Caller, Role } from './roles';
import type { TokenVerifier } from './token-verifier';

const { Read, Start, Admin } = Role;
/** `public`: no token; `any`: any authenticated caller (the operation itself records a missing role as denied). */
type Rule = 'public' | 'any' | Role[];

/** Who may call each route. A route missing here, or a role check removed from a route, fails this test. */
const RULES: Record<string, Record<string, Rule>> = {
  JobsController: { list: [Read], get: [Read], start: 'any' },
  JobControlController: { pause: 'any', restart: 'any' },
  AttemptsController: { list: [Read], stats: [Read], export: [Read], get: [Read] },
  GrantsController: { create: [Admin], list: [Admin], events: [Admin], remove: [Admin] },
  RecoveryController: { create: [Admin], list: [Read], remove: [Admin], sweeps: [Read], sweepNow: [Admin] },
  HoldsController: { place: [Start], list: [Read], release: [Start] },
  ApprovalsController: { list: [Read], get: [Read], approve: [Admin], reject: [Admin] },
  NotificationsController: {
    create: [Admin],
    list: [Admin],
    remove: [Admin],
    deliveries: [Read],
    redeliver: [Admin],
  },
  GraphDoorController: {
    list: 'any',
    get: 'any',
    start: 'any',
    pause: 'any',
    restart: 'any',
    batch: 'any',
    other: 'any',
  },
  HealthController: { live: 'public', ready: 'public' },
  MetricsController: { render: 'public' },
};

const CONTROLLERS: Type[] = [
  JobsController,
  JobControlController,
  AttemptsController,
  GrantsController,
  RecoveryController,
  HoldsController,
  ApprovalsController,
  NotificationsController,
  GraphDoorController,
  HealthController,
  MetricsController,
];

/** The route handlers of a controller: its methods that carry a request-method decorator. */
function routesOf(controller: Type): string[] {
  const proto = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(proto).filter(
    (name) =>
      name !== 'constructor' &&
      typeof proto[name] === 'function' &&
      Reflect.getMetadata(METHOD_METADATA, proto[name] as object) !== undefined,
  );
}

/** Tokens are their callers' role lists: "Read,Start" is a caller with both; "" one without a role. */
const verifier: Pick<TokenVerifier, 'verify'> = {
  verify: (token: string): Promise<Caller> =>
    Promise.resolve({
      actor: { type: 'user', id: 'u1', name: null },
      roles: new Set(token === 'none' ? [] : token.split(',')),
      tenantId: null,
    }),
};
const guard = new AuthGuard(new Reflector(), verifier, new MetricsService());

function context(controller: Type, handler: string, token: string | null): ExecutionContext {
  const request = { headers: token === null ? {} : { authorization: `Bearer ${token}` } };
  return {
    getHandler: () => (controller.prototype as Record<string, unknown>)[handler],
    getClass: () => controller,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

async function decision(controller: Type, handler: string, token: string | null): Promise<string> {
  try {
    return (await guard.canActivate(context(controller, handler, token))) ? 'allowed' : 'refused';
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
}

describe('who may call each route (the auth guard reading each route’s Roles)', () => {
  it('every route of every controller has a rule, and every rule a route', () => {
    const routes = Object.fromEntries(CONTROLLERS.map((c) => [c.name, routesOf(c).sort()]));
    const rules = Object.fromEntries(Object.entries(RULES).map(([c, r]) => [c, Object.keys(r).sort()]));
    expect(routes).toEqual(rules);
  });

  const cases = CONTROLLERS.flatMap((c) =>
    Object.entries(RULES[c.name] ?? {}).map(([handler, rule]) => [c, handler, rule] as const),
  );

  it.each(cases.map(([c, h, r]) => [`${c.name}.${h}`, c, h, r] as const))(
    '%s',
    async (_name, controller, handler, rule) => {
      if (rule === 'public') {
        expect(await decision(controller, handler, null)).toBe('allowed');
        return;
      }
      expect(await decision(controller, handler, null)).toBe(ErrorCode.UNAUTHENTICATED);
      expect(await decision(controller, handler, Admin)).toBe('allowed');
      if (rule === 'any') {
        expect(await decision(controller, handler, 'none')).toBe('allowed');
        return;
      }
      expect(await decision(controller, handler, 'none')).toBe(ErrorCode.FORBIDDEN);
      for (const role of [Read, Start]) {
        expect(await decision(controller, handler, role)).toBe(
          rule.includes(role) ? 'allowed' : ErrorCode.FORBIDDEN,
        );
      }
    },
  );
});
