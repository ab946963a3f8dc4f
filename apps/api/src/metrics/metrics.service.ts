import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import * as M from './metric-names';

/** Prometheus metrics of one app instance (its own registry, so several instances can share a process). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly counters: Record<M.CounterName, Counter>;
  private readonly histograms: Record<M.HistogramName, Histogram>;
  private readonly gauges: Record<M.GaugeName, Gauge>;
  /** Read just before each scrape (e.g. the database pool's counts). */
  private readonly collectors: Array<() => void> = [];

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'sjg_' });
    this.counters = {
      [M.ATTEMPTS]: new Counter({
        name: M.ATTEMPTS,
        help: 'Guarded decisions by outcome and trigger',
        labelNames: ['outcome', 'trigger'],
        registers,
      }),
      [M.GRAPH_REQUESTS]: new Counter({
        name: M.GRAPH_REQUESTS,
        help: 'HTTP exchanges with Microsoft Graph by operation and status',
        labelNames: ['operation', 'status'],
        registers,
      }),
      [M.GRAPH_THROTTLED]: new Counter({
        name: M.GRAPH_THROTTLED,
        help: 'Graph answers 429 by operation',
        labelNames: ['operation'],
        registers,
      }),
      [M.GRAPH_TOKENS]: new Counter({
        name: M.GRAPH_TOKENS,
        help: 'Graph access token acquisitions by result',
        labelNames: ['result'],
        registers,
      }),
      [M.RECOVERY_SWEEPS]: new Counter({
        name: M.RECOVERY_SWEEPS,
        help: 'Recovery sweeps by result',
        labelNames: ['result'],
        registers,
      }),
      [M.AUTH_FAILURES]: new Counter({
        name: M.AUTH_FAILURES,
        help: 'Refused callers by reason',
        labelNames: ['reason'],
        registers,
      }),
      [M.REFUSALS_UNRECORDED]: new Counter({
        name: M.REFUSALS_UNRECORDED,
        help: 'Refusals answered but not stored: the caller passed AUDIT_REFUSALS_PER_CALLER in its window',
        labelNames: ['outcome'],
        registers,
      }),
      [M.NOTIFY_DELIVERIES]: new Counter({
        name: M.NOTIFY_DELIVERIES,
        help: 'Notification tries by result (delivered, failed and to be retried, dead-lettered) and destination kind',
        labelNames: ['result', 'kind'],
        registers,
      }),
    };
    this.histograms = {
      [M.GUARD_DURATION]: new Histogram({
        name: M.GUARD_DURATION,
        help: 'Duration of a guarded decision',
        labelNames: ['outcome'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
      [M.GRAPH_DURATION]: new Histogram({
        name: M.GRAPH_DURATION,
        help: 'Duration of Graph exchanges',
        labelNames: ['operation'],
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
      [M.NOTIFY_LATENCY]: new Histogram({
        name: M.NOTIFY_LATENCY,
        help: 'Time from an event (the change it reports) to its delivery, by destination kind',
        labelNames: ['kind'],
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
        registers,
      }),
    };
    this.gauges = {
      [M.RECOVERY_NEEDS_ATTENTION]: new Gauge({
        name: M.RECOVERY_NEEDS_ATTENTION,
        help: 'Watched jobs that need a person',
        registers,
      }),
      [M.DB_POOL]: new Gauge({
        name: M.DB_POOL,
        help: 'Database pool connections by state',
        labelNames: ['state'],
        registers,
      }),
      [M.NOTIFY_QUEUE]: new Gauge({
        name: M.NOTIFY_QUEUE,
        help: 'Notification deliveries by state (pending, delivered, dead)',
        labelNames: ['state'],
        registers,
      }),
    };
  }

  counter(name: M.CounterName): Counter {
    return this.counters[name];
  }

  histogram(name: M.HistogramName): Histogram {
    return this.histograms[name];
  }

  gauge(name: M.GaugeName): Gauge {
    return this.gauges[name];
  }

  /** Registers a function that refreshes gauges just before each scrape. */
  addCollector(collect: () => void): void {
    this.collectors.push(collect);
  }

  async render(): Promise<string> {
    for (const collect of this.collectors) {
      collect();
    }
    return this.registry.metrics();
  }
}
