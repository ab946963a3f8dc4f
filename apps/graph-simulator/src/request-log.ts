import type { SimOperation } from './job-types';

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  operation: SimOperation | 'unknown';
  servicePrincipalId: string | null;
  jobId: string | null;
  /** HTTP status answered, or what happened instead. */
  status: number | 'dropped' | 'hang';
  viaBatch: boolean;
  clientRequestId: string | null;
  requestId: string;
  faultId: string | null;
}

export interface SimCounters {
  /** Graph HTTP requests (the $batch envelope counts one; admin and token requests not counted). */
  requests: number;
  /** GETs of a job or a list, batch items included. */
  reads: number;
  gets: number;
  lists: number;
  /** POST .../start acted on (204), batch items included. */
  starts: number;
  /** Starts acted on, by `servicePrincipalId/jobId`. */
  startsByJob: Record<string, number>;
  /** Starts acted on while the job was Active, NotRun or NotConfigured (the case Graph's docs warn about). */
  harmfulStarts: number;
  harmfulStartsByJob: Record<string, number>;
  pauses: number;
  /** POST .../restart acted on (204). */
  restarts: number;
  /** POST .../restart requests received (acted on or not). */
  restartRequests: number;
  batchRequests: number;
  batchItems: number;
  tokenRequests: number;
  tokensIssued: number;
  /** Graph requests refused 401 InvalidAuthenticationToken. */
  unauthorized: number;
  /** 429s from the throttle (not from faults). */
  throttled: number;
  faultsFired: number;
  /** POST .../start requests received (acted on or not). */
  startRequests: number;
}

export function emptyCounters(): SimCounters {
  return {
    requests: 0,
    reads: 0,
    gets: 0,
    lists: 0,
    starts: 0,
    startsByJob: {},
    harmfulStarts: 0,
    harmfulStartsByJob: {},
    pauses: 0,
    restarts: 0,
    restartRequests: 0,
    batchRequests: 0,
    batchItems: 0,
    tokenRequests: 0,
    tokensIssued: 0,
    unauthorized: 0,
    throttled: 0,
    faultsFired: 0,
    startRequests: 0,
  };
}

/** A fixed-size ring, so a benchmark's millions of requests cost constant memory and O(1) per entry. */
export class Ring<T> {
  private items: T[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    if (this.capacity <= 0) {
      return;
    }
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.next] = item;
      this.next = (this.next + 1) % this.capacity;
    }
  }
  toArray(): T[] {
    return this.items.length < this.capacity
      ? [...this.items]
      : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
  clear(): void {
    this.items = [];
    this.next = 0;
  }
}
