import { MetricsService } from './metrics.service';
import * as M from './metric-names';

describe('MetricsService default (process and Node.js) metrics', () => {
  it('are named sjg_<prom-client name>, with no doubled prefix', async () => {
    const text = await new MetricsService().registry.metrics();
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? '');
    expect(families).toContain('sjg_process_cpu_user_seconds_total');
    expect(families).toContain('sjg_process_resident_memory_bytes');
    expect(families).toContain('sjg_nodejs_eventloop_lag_seconds');
    expect(families.filter((f) => /process_process_|sjg_process_nodejs_/.test(f))).toEqual([]);
    expect(families.filter((f) => !f.startsWith('sjg_'))).toEqual([]);
  });
});

describe('MetricsService families', () => {
  it('exposes every named family with its type and labels', async () => {
    const m = new MetricsService();
    m.counter(M.ATTEMPTS).inc({ outcome: 'started', trigger: 'api' });
    m.histogram(M.GRAPH_DURATION).observe({ operation: 'get' }, 0.2);
    m.gauge(M.RECOVERY_NEEDS_ATTENTION).set(3);
    m.gauge(M.DB_POOL).set({ state: 'idle' }, 2);
    const text = await m.render();
    const types = Object.fromEntries(
      [...text.matchAll(/^# TYPE (sjg_\S+) (\S+)$/gm)].map((t) => [t[1], t[2]]),
    );
    const expected: Record<string, string> = {
      [M.ATTEMPTS]: 'counter',
      [M.GRAPH_REQUESTS]: 'counter',
      [M.GRAPH_THROTTLED]: 'counter',
      [M.GRAPH_TOKENS]: 'counter',
      [M.RECOVERY_SWEEPS]: 'counter',
      [M.AUTH_FAILURES]: 'counter',
      [M.REFUSALS_UNRECORDED]: 'counter',
      [M.NOTIFY_DELIVERIES]: 'counter',
      [M.GUARD_DURATION]: 'histogram',
      [M.GRAPH_DURATION]: 'histogram',
      [M.NOTIFY_LATENCY]: 'histogram',
      [M.RECOVERY_NEEDS_ATTENTION]: 'gauge',
      [M.DB_POOL]: 'gauge',
      [M.NOTIFY_QUEUE]: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect([name, types[name]]).toEqual([name, type]);
    }
    expect(text).toContain(`${M.ATTEMPTS}{outcome="started",trigger="api"} 1`);
    expect(text).toContain(`${M.GRAPH_DURATION}_bucket{le="0.25",operation="get"} 1`);
    expect(text).toContain(`${M.RECOVERY_NEEDS_ATTENTION} 3`);
    expect(text).toContain(`${M.DB_POOL}{state="idle"} 2`);
    expect(text).toContain(`# HELP ${M.GUARD_DURATION} Duration of a guarded decision`);
  });
});
