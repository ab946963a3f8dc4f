import type { SimOperation } from './job-types';

/**
 * Fault injection. A rule matches a request by any combination of operation, method, path glob (`*` matches
 * within a segment, `**` anything), service principal and job id. `times` limits how often it fires.
 */
export interface FaultRule {
  operation?: SimOperation;
  method?: string;
  /** Glob against the path under /v1.0 (e.g. `/servicePrincipals/*\/synchronization/jobs/*\/start`). */
  path?: string;
  servicePrincipalId?: string;
  jobId?: string;
  /** How many times it fires; unlimited when absent. */
  times?: number;
  /**
   * respond: answer `status` with Graph's error body, without acting (default when `status` is set);
   * dropBefore: destroy the connection without acting; dropAfter: act (e.g. start the job), then destroy
   * the connection; hang: never answer; delay: only add `latencyMs`, then proceed (default otherwise).
   */
  action?: 'respond' | 'dropBefore' | 'dropAfter' | 'hang' | 'delay';
  status?: number;
  /** Graph error code, e.g. TooManyRequests, UnknownError, Authorization_RequestDenied. */
  code?: string;
  message?: string;
  /** Retry-After header value (seconds, or an HTTP date). */
  retryAfter?: number | string;
  latencyMs?: number;
  /** Whether it also applies to `$batch` sub-requests (respond only). Default true. */
  inBatch?: boolean;
}

export interface ActiveFault extends FaultRule {
  id: string;
  fired: number;
}

/** What a rule does when it fires: `action`, else respond when it has a status, else only delay. */
export function faultActionOf(fault: FaultRule): NonNullable<FaultRule['action']> {
  return fault.action ?? (fault.status ? 'respond' : 'delay');
}

/** The request a fault rule is matched against. */
export interface FaultTarget {
  operation: SimOperation | 'unknown';
  method: string;
  path: string;
  servicePrincipalId: string | null;
  jobId: string | null;
  viaBatch: boolean;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${escaped}$`);
}

function matches(fault: ActiveFault, req: FaultTarget): boolean {
  if (fault.operation && fault.operation !== req.operation) {
    return false;
  }
  if (fault.method && fault.method.toUpperCase() !== req.method) {
    return false;
  }
  if (fault.jobId && fault.jobId !== req.jobId) {
    return false;
  }
  if (
    fault.servicePrincipalId &&
    fault.servicePrincipalId.toLowerCase() !== req.servicePrincipalId?.toLowerCase()
  ) {
    return false;
  }
  if (fault.path && !globToRegExp(fault.path).test(req.path)) {
    return false;
  }
  if (req.viaBatch && (faultActionOf(fault) !== 'respond' || fault.inBatch === false)) {
    return false;
  }
  return fault.times === undefined || fault.fired < fault.times;
}

/** The fault rules in force, in the order they were added. */
export class FaultBook {
  private faults: ActiveFault[] = [];
  private seq = 0;

  add(rule: FaultRule): string {
    const id = `fault-${++this.seq}`;
    this.faults.push({ ...rule, id, fired: 0 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Finds the first matching rule and uses one of its `times` (a rule used up is removed). */
  take(req: FaultTarget): ActiveFault | null {
    const fault = this.faults.find((f) => matches(f, req));
    if (!fault) {
      return null;
    }
    fault.fired += 1;
    if (fault.times !== undefined && fault.fired >= fault.times) {
      this.faults = this.faults.filter((f) => f !== fault);
    }
    return fault;
  }
}
