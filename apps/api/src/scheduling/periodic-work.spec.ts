import { SchedulerRegistry } from '@nestjs/schedule';
import { PeriodicWork } from './periodic-work';

describe('PeriodicWork', () => {
  let registry: SchedulerRegistry;
  let work: PeriodicWork;

  beforeEach(() => {
    jest.useFakeTimers();
    registry = new SchedulerRegistry();
    work = new PeriodicWork(registry);
  });

  afterEach(() => {
    work.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('registers intervals and timeouts by name in the SchedulerRegistry', () => {
    work.every('tick', 1000, () => undefined);
    work.after('first', 500, () => undefined);
    expect(registry.getIntervals()).toEqual(['tick']);
    expect(registry.getTimeouts()).toEqual(['first']);
    expect(work.names()).toEqual(['first', 'tick']);
  });

  it('runs an interval at each period, and a timeout once, after which its name is free', () => {
    let ticks = 0;
    let firsts = 0;
    work.every('tick', 1000, () => (ticks += 1));
    work.after('first', 500, () => (firsts += 1));
    jest.advanceTimersByTime(3500);
    expect(ticks).toBe(3);
    expect(firsts).toBe(1);
    expect(registry.getTimeouts()).toEqual([]);
    expect(work.names()).toEqual(['tick']);
  });

  it('replaces what was registered under the same name instead of running both', () => {
    const runs: string[] = [];
    work.every('tick', 1000, () => runs.push('old'));
    work.every('tick', 1000, () => runs.push('new'));
    jest.advanceTimersByTime(1000);
    expect(runs).toEqual(['new']);
  });

  it('cancel stops a task and is idempotent', () => {
    let ticks = 0;
    work.every('tick', 1000, () => (ticks += 1));
    work.cancel('tick');
    work.cancel('tick');
    jest.advanceTimersByTime(5000);
    expect(ticks).toBe(0);
    expect(registry.getIntervals()).toEqual([]);
  });

  it('runNow runs a registered task at once, and says when there is none', () => {
    let ticks = 0;
    work.every('tick', 60_000, () => (ticks += 1));
    expect(work.runNow('tick')).toBe(true);
    expect(ticks).toBe(1);
    expect(work.runNow('missing')).toBe(false);
  });

  it('clears everything at application shutdown', () => {
    work.every('a', 1000, () => undefined);
    work.after('b', 1000, () => undefined);
    work.onApplicationShutdown();
    expect(registry.getIntervals()).toEqual([]);
    expect(registry.getTimeouts()).toEqual([]);
    expect(work.names()).toEqual([]);
  });
});
