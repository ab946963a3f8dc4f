import { MetricsService } from './metrics.service';

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
