import type { SimOperation } from './job-types';

export interface ThrottleConfig {
  /** Requests allowed per window (counted over the listed operations). */
  limit: number;
  windowMs: number;
  /** Default: every Graph operation (batch sub-requests count one each). */
  operations?: SimOperation[];
}

/** Graph-like throttling: a fixed window of `limit` requests, then 429 with the seconds left in the window. */
export class Throttle {
  private windowStart = 0;
  private used = 0;

  constructor(private config: ThrottleConfig | null = null) {}

  set(config: ThrottleConfig | null): void {
    this.config = config;
    this.used = 0;
    this.windowStart = Date.now();
  }

  /** Counts one request; returns the Retry-After seconds when it is over the limit, else null. */
  take(operation: SimOperation): number | null {
    const cfg = this.config;
    if (!cfg || (cfg.operations && !cfg.operations.includes(operation))) {
      return null;
    }
    const now = Date.now();
    if (now - this.windowStart >= cfg.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < cfg.limit) {
      this.used += 1;
      return null;
    }
    return Math.max(1, Math.ceil((this.windowStart + cfg.windowMs - now) / 1000));
  }
}
