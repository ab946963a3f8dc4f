import type { SimOperation } from './job-types';
import type { Answer } from './sim-http';

/** A Graph request routed: which operation on which service principal and job. */
export interface Route {
  operation: SimOperation | 'unknown';
  servicePrincipalId: string | null;
  jobId: string | null;
  /** Set when the route itself is wrong (unknown segment, wrong method, bad id). */
  error?: Answer;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const NONE = { servicePrincipalId: null, jobId: null };

function notSupported(method: string, operation: SimOperation, sp: string | null, job: string | null): Route {
  return {
    operation,
    servicePrincipalId: sp,
    jobId: job,
    error: {
      status: 405,
      body: {
        code: 'Request_BadRequest',
        message: `The requested resource does not support http method '${method}'.`,
      },
    },
  };
}

/** `/servicePrincipals/{sp}/synchronization/jobs[/{job}[/start|pause|restart]]`, or undefined. */
function jobsRoute(method: string, segments: string[]): Route | undefined {
  const [root, sp, sync, jobs, jobId, action] = segments;
  if (root !== 'servicePrincipals' || sp === undefined || sync !== 'synchronization' || jobs !== 'jobs') {
    return undefined;
  }
  let route: Route | undefined;
  if (segments.length === 4) {
    route =
      method === 'GET'
        ? { operation: 'list', servicePrincipalId: sp, jobId: null }
        : notSupported(method, 'list', sp, null);
  } else if (segments.length === 5 && jobId !== undefined) {
    route =
      method === 'GET'
        ? { operation: 'get', servicePrincipalId: sp, jobId }
        : notSupported(method, 'get', sp, jobId);
  } else if (
    segments.length === 6 &&
    jobId !== undefined &&
    (action === 'start' || action === 'pause' || action === 'restart')
  ) {
    route =
      method === 'POST'
        ? { operation: action, servicePrincipalId: sp, jobId }
        : notSupported(method, action, sp, jobId);
  }
  if (!route || route.error || GUID.test(sp) || sp === '') {
    return route;
  }
  return {
    ...route,
    error: {
      status: 400,
      body: { code: 'Request_BadRequest', message: `Invalid object identifier '${sp}'.` },
    },
  };
}

/** Routes a path under the version (`/v1.0`, `/beta`) the way Graph does, errors included. */
export function parseRoute(method: string, path: string): Route {
  let segments: string[];
  try {
    segments = path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return {
      operation: 'unknown',
      ...NONE,
      error: { status: 400, body: { code: 'BadRequest', message: 'Bad URL' } },
    };
  }
  if (segments.length === 1 && segments[0] === '$batch') {
    return method === 'POST' ? { operation: 'batch', ...NONE } : notSupported(method, 'batch', null, null);
  }
  const route = jobsRoute(method, segments);
  if (route) {
    return route;
  }
  const segment =
    segments.find((s, i) => i > 0 && !['synchronization', 'jobs'].includes(s)) ?? segments[0] ?? '';
  return {
    operation: 'unknown',
    ...NONE,
    error: {
      status: 400,
      body: { code: 'BadRequest', message: `Resource not found for the segment '${segment}'.` },
    },
  };
}
