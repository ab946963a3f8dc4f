import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import * as M from './metric-names';

/** A family's help text and labels (a gauge without labels has none). */
interface Family {
  help: string;
  labelNames?: string[];
}

const COUNTERS: Record<M.CounterName, Family> = {
  [M.ATTEMPTS]: { help: 'Guarded decisions by outcome and trigger', labelNames: ['outcome', 'trigger'] },
  [M.GRAPH_REQUESTS]: {
    help: 'HTTP exchanges with Microsoft Graph by operation and status',
    labelNames: ['operation', 'status'],
  },
  [M.GRAPH_THROTTLED]: { help: 'Graph answers 429 by operation', labelNames: ['operation'] },
  [M.GRAPH_TOKENS]: { help: 'Graph access token acquisitions by result', labelNames: ['result'] },
  [M.RECOVERY_SWEEPS]: { help: 'Recovery sweeps by result', labelNames: ['result'] },
  [M.AUTH_FAILURES]: { help: 'Refused callers by reason', labelNames: ['reason'] },
  [M.REFUSALS_UNRECORDED]: {
    help: 'Refusals answered but not stored: the caller passed AUDIT_REFUSALS_PER_CALLER in its window',
    labelNames: ['outcome'],
  },
  [M.NOTIFY_DELIVERIES]: {
    help: 'Notification tries by result (delivered, failed and to be retried, dead-lettered) and destination kind',
    labelNames: ['result', 'kind'],
  },
};

const HISTOGRAMS: Record<M.HistogramName, Family & { buckets: number[] }> = {
  [M.GUARD_DURATION]: {
    help: 'Duration of a guarded decision',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  [M.GRAPH_DURATION]: {
    help: 'Duration of Graph exchanges',
    labelNames: ['operation'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  [M.NOTIFY_LATENCY]: {
    help: 'Time from an event (the change it reports) to its delivery, by destination kind',
    labelNames: ['kind'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
  },
};

const GAUGES: Record<M.GaugeName, Family> = {
  [M.RECOVERY_NEEDS_ATTENTION]: { help: 'Watched jobs that need a person' },
  [M.DB_POOL]: { help: 'Database pool connections by state', labelNames: ['state'] },
  [M.NOTIFY_QUEUE]: {
    help: 'Notification deliveries by state (pending, delivered, dead)',
    labelNames: ['state'],
  },
};

/** One metric object per entry of `families`, made by `make`. */
function build<N extends string, F extends Family, T>(
  families: Record<N, F>,
  make: (name: N, family: F) => T,
): Record<N, T> {
  const out = {} as Record<N, T>;
  for (const name of Object.keys(families) as N[]) {
    out[name] = make(name, families[name]);
  }
  return out;
}

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
    this.counters = build(COUNTERS, (name, f) => new Counter({ name, ...f, registers }));
    this.histograms = build(HISTOGRAMS, (name, f) => new Histogram({ name, ...f, registers }));
    this.gauges = build(GAUGES, (name, f) => new Gauge({ name, ...f, registers }));
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
