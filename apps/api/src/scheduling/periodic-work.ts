import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

/**
 * The one seam for periodic work: recovery ticks and the recovery lease's heartbeat, audit retention, the
 * reconciler of orphaned attempts, the notification dispatcher and its retention. Every timer is registered by
 * name in @nestjs/schedule's SchedulerRegistry and unref'd (a timer never keeps the process alive).
 *
 * Shutdown: each owner cancels its own timers in its `onModuleDestroy` and then awaits the work in flight, while
 * the database pool and the Graph client are still open (their modules are imported by the owners, so Nest
 * destroys them later). Whatever is still registered is cleared here at `onApplicationShutdown`, and by
 * @nestjs/schedule itself. Tests list the registered tasks (`names()`) and run one now (`runNow`) instead of
 * waiting for its timer.
 */
@Injectable()
export class PeriodicWork implements OnApplicationShutdown {
  private readonly tasks = new Map<string, () => void>();

  constructor(private readonly registry: SchedulerRegistry) {}

  /** Runs `task` every `ms` under `name`, replacing what was registered under that name. */
  every(name: string, ms: number, task: () => void): void {
    this.cancel(name);
    const timer = setInterval(task, ms);
    timer.unref();
    this.registry.addInterval(name, timer);
    this.tasks.set(name, task);
  }

  /** Runs `task` once after `ms` under `name`; the name is free again when it has run. */
  after(name: string, ms: number, task: () => void): void {
    this.cancel(name);
    const timer = setTimeout(() => {
      this.cancel(name);
      task();
    }, ms);
    timer.unref();
    this.registry.addTimeout(name, timer);
    this.tasks.set(name, task);
  }

  /** Stops what runs under `name`; nothing when nothing does. */
  cancel(name: string): void {
    if (this.registry.doesExist('interval', name)) {
      this.registry.deleteInterval(name);
    }
    if (this.registry.doesExist('timeout', name)) {
      this.registry.deleteTimeout(name);
    }
    this.tasks.delete(name);
  }

  /** The names of the tasks registered now, sorted. */
  names(): string[] {
    return [...this.tasks.keys()].sort();
  }

  /** Runs the task registered under `name` now, as its timer would; false when none is. */
  runNow(name: string): boolean {
    const task = this.tasks.get(name);
    task?.();
    return task !== undefined;
  }

  onApplicationShutdown(): void {
    for (const name of [...this.tasks.keys()]) {
      this.cancel(name);
    }
  }
}
