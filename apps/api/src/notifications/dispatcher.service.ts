import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Clock } from '@app/common';
import { type ClaimedDelivery, type Listening, NotificationRepository } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { NOTIFY_DELIVERIES, NOTIFY_LATENCY, NOTIFY_QUEUE } from '../metrics/metric-names';
import { PeriodicWork } from '../scheduling/periodic-work';
import {
  type OutboundEvent,
  type OutboundRequest,
  slackRequest,
  teamsRequest,
  webhookRequest,
} from './messages';

export const NOTIFY_INTERVAL_NAME = 'notifications-dispatch';
export const NOTIFY_RETENTION_NAME = 'notifications-retention';
const RETENTION_EVERY_MS = 60 * 60_000;
/** Events deleted per statement, and statements per retention run. */
const RETENTION_BATCH = 5000;
const RETENTION_MAX_BATCHES = 100;
const DAY_MS = 86_400_000;
/** The queue gauges are refreshed at most this often. */
const GAUGE_EVERY_MS = 5000;
/** At most this much of a receiver's error body is kept as the delivery's last error. */
const ERROR_BODY_CHARS = 200;

/** What the dispatcher needs from the database. */
export type DispatchStore = Pick<
  NotificationRepository,
  'upsertManagedWebhook' | 'listen' | 'claimDue' | 'recordResult' | 'purgeDelivered' | 'countByState'
>;

export interface SendResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  /** The receiver's Retry-After (429, 503), in seconds: the next try waits at least this long. */
  retryAfterSeconds?: number;
}

/** Retry-After as seconds (delta or HTTP date), capped at a day; undefined when absent or malformed. */
export function retryAfterSeconds(value: string | null, now: Date): number | undefined {
  if (value === null) {
    return undefined;
  }
  const v = value.trim();
  const seconds = /^\d+$/.test(v)
    ? Number(v)
    : /^[A-Za-z]{3}, /.test(v)
      ? (Date.parse(v) - now.getTime()) / 1000
      : Number.NaN;
  return Number.isFinite(seconds) ? Math.min(86_400, Math.max(0, Math.ceil(seconds))) : undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** The try's HTTP request for the destination's kind. */
export function requestFor(d: ClaimedDelivery, now: Date, consoleUrl: string | null): OutboundRequest {
  const event: OutboundEvent = {
    eventId: d.eventId,
    eventType: d.eventType,
    eventTime: d.eventTime,
    servicePrincipalId: d.servicePrincipalId,
    jobId: d.jobId,
    data: d.data,
  };
  switch (d.kind) {
    case 'webhook':
      if (d.secret === null) {
        throw new Error('webhook destination has no signing secret');
      }
      return webhookRequest(event, d.secret, now, consoleUrl);
    case 'teams':
      return teamsRequest(event, consoleUrl);
    case 'slack':
      return slackRequest(event, consoleUrl);
  }
}

/**
 * Delivers the notification outbox (DESIGN section 2d), on every replica.
 *
 * Woken by PostgreSQL when an event commits (LISTEN on a dedicated connection), and every
 * NOTIFY_POLL_INTERVAL_MS for retries that come due and as a safety net.
 *
 * Each pump claims as many due deliveries as it has free slots (NOTIFY_CONCURRENCY), in one statement with
 * FOR UPDATE SKIP LOCKED and a lease per delivery, and sends each on its own: a slow or hanging receiver holds
 * one slot until NOTIFY_TIMEOUT_MS, never the others, never the guard, and never a database connection. A
 * replica that dies mid-delivery leaves a lease that runs out; another replica then delivers (at least once,
 * under the same event id). Failed tries wait per NOTIFY_RETRY_SCHEDULE, then the delivery is dead-lettered.
 * Nothing is kept in memory between pumps: a destination failing for hours costs rows, not heap.
 */
@Injectable()
export class NotificationDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('notifications');
  private readonly inFlight = new Set<Promise<void>>();
  private pumping: Promise<number> | null = null;
  private again = false;
  private stopping = false;
  private gaugeAt = 0;
  private listening: Listening | null = null;

  constructor(
    @Inject(NotificationRepository) private readonly repo: DispatchStore,
    private readonly metrics: MetricsService,
    private readonly periodic: PeriodicWork,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A lease outlasts one try (its timeout) and the writing of its result. */
  get leaseSeconds(): number {
    return Math.ceil(this.config.notify.timeoutMs / 1000) * 2 + 5;
  }

  async onApplicationBootstrap(): Promise<void> {
    const n = this.config.notify;
    if (n.webhookUrl !== null && n.webhookSecret !== null) {
      try {
        await this.repo.upsertManagedWebhook(n.webhookUrl, n.webhookSecret);
        this.logger.log('NOTIFY_WEBHOOK_URL: every event goes to the configured webhook');
      } catch (error) {
        this.logger.error(`NOTIFY_WEBHOOK_URL could not be recorded: ${describe(error)}`);
      }
    }
    if (!n.dispatchEnabled) {
      this.logger.log('notification delivery is off on this replica (NOTIFY_DISPATCH_ENABLED=false)');
      return;
    }
    this.periodic.every(NOTIFY_INTERVAL_NAME, n.pollIntervalMs, () => this.tick());
    this.periodic.every(NOTIFY_RETENTION_NAME, RETENTION_EVERY_MS, () => void this.purge());
    // A committed event wakes the dispatchers at once (the trigger's NOTIFY); the interval is the safety net.
    this.listening = this.repo.listen(
      () => this.tick(),
      (error) => this.logger.debug(`notification wake-ups interrupted: ${describe(error)}`),
    );
  }

  /** Stops claiming, and lets the tries in flight finish (bounded by their timeout) while the database is up. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.periodic.cancel(NOTIFY_INTERVAL_NAME);
    this.periodic.cancel(NOTIFY_RETENTION_NAME);
    await this.listening?.close();
    this.listening = null;
    await this.pumping?.catch(() => 0);
    await this.idle();
  }

  private tick(): void {
    if (this.stopping) {
      return;
    }
    this.pump().catch((error: unknown) => {
      this.logger.warn(`notification pump failed: ${describe(error)}`);
    });
    void this.refreshGauges();
  }

  /**
   * Claims due deliveries up to the free slots and starts sending them; returns how many it claimed. One pump
   * at a time per replica: a call during a pump makes that pump go round once more. `now` is the clock's by
   * default (tests move it).
   */
  async pump(now?: Date): Promise<number> {
    if (this.pumping !== null) {
      this.again = true;
      return this.pumping;
    }
    const run = this.claimLoop(now);
    this.pumping = run;
    try {
      return await run;
    } finally {
      this.pumping = null;
    }
  }

  private async claimLoop(fixedNow: Date | undefined): Promise<number> {
    let total = 0;
    do {
      this.again = false;
      for (;;) {
        const free = this.config.notify.concurrency - this.inFlight.size;
        if (free <= 0 || this.stopping) {
          break;
        }
        const claimed = await this.repo.claimDue(
          this.config.replicaId,
          fixedNow ?? this.clock.now(),
          free,
          this.leaseSeconds,
        );
        total += claimed.length;
        for (const d of claimed) {
          const p: Promise<void> = this.deliver(d, fixedNow).finally(() => {
            this.inFlight.delete(p);
            if (fixedNow === undefined && !this.stopping) {
              // A slot is free and the job's next event may be due now: claim again without waiting a tick.
              this.tick();
            }
          });
          this.inFlight.add(p);
        }
        if (claimed.length < free) {
          break;
        }
      }
    } while (this.again && !this.stopping);
    return total;
  }

  /** Resolves when no try is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** One pump as of `now` and every try it started, to the end (tests and the bench drive time with it). */
  async runOnce(now?: Date): Promise<number> {
    const n = await this.pump(now);
    await this.idle();
    return n;
  }

  private async deliver(d: ClaimedDelivery, fixedNow: Date | undefined): Promise<void> {
    const result = await this.send(d, fixedNow ?? this.clock.now());
    const now = fixedNow ?? this.clock.now();
    const schedule = this.config.notify.retryScheduleSeconds;
    const step = result.ok ? undefined : schedule[d.attempt - 1];
    const wait = step === undefined ? undefined : Math.max(step, result.retryAfterSeconds ?? 0);
    const retryAt = wait === undefined ? null : new Date(now.getTime() + wait * 1000);
    const kind = d.kind;
    try {
      const recorded = await this.repo.recordResult({
        deliveryId: d.deliveryId,
        holder: this.config.replicaId,
        now,
        status: result.status,
        error: result.error,
        delivered: result.ok,
        retryAt,
      });
      if (!recorded) {
        this.logger.warn(
          `delivery ${d.deliveryId} (event ${d.eventId}): the lease ran out before its result was written; another try will follow`,
        );
        return;
      }
    } catch (error) {
      // The lease runs out and the delivery is tried again (at least once).
      this.logger.warn(`delivery ${d.deliveryId}: result not recorded: ${describe(error)}`);
      return;
    }
    if (result.ok) {
      this.metrics.counter(NOTIFY_DELIVERIES).inc({ result: 'delivered', kind });
      this.metrics
        .histogram(NOTIFY_LATENCY)
        .observe({ kind }, Math.max(0, (now.getTime() - d.eventTime.getTime()) / 1000));
    } else if (retryAt === null) {
      this.metrics.counter(NOTIFY_DELIVERIES).inc({ result: 'dead', kind });
      this.logger.warn({
        msg: 'notification dead-lettered',
        deliveryId: d.deliveryId,
        eventId: d.eventId,
        destinationId: d.destinationId,
        attempts: d.attempt,
        status: result.status,
        error: result.error,
      });
    } else {
      this.metrics.counter(NOTIFY_DELIVERIES).inc({ result: 'failed', kind });
      this.logger.log({
        msg: 'notification try failed',
        deliveryId: d.deliveryId,
        eventId: d.eventId,
        destinationId: d.destinationId,
        attempt: d.attempt,
        status: result.status,
        error: result.error,
        retryAt: retryAt.toISOString(),
      });
    }
  }

  /** One HTTP try; never throws. The URL is not logged: for Teams and Slack it is the credential. */
  async send(d: ClaimedDelivery, now: Date): Promise<SendResult> {
    let req: OutboundRequest;
    try {
      req = requestFor(d, now, this.config.notify.consoleUrl);
    } catch (error) {
      return { ok: false, status: null, error: describe(error) };
    }
    const timeoutMs = this.config.notify.timeoutMs;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: { ...req.headers, 'user-agent': 'sync-job-guard' },
        body: req.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => undefined);
        return { ok: true, status: res.status, error: null };
      }
      const body = await res.text().catch(() => '');
      const shown = body.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_CHARS);
      const after = retryAfterSeconds(res.headers.get('retry-after'), now);
      return {
        ok: false,
        status: res.status,
        error: `the receiver answered ${res.status}${shown.length > 0 ? `: ${shown}` : ''}`,
        ...(after !== undefined ? { retryAfterSeconds: after } : {}),
      };
    } catch (error) {
      // An abort by the timeout is a DOMException, not always an Error in this runtime.
      const name =
        typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
      if (name === 'TimeoutError' || name === 'AbortError') {
        return { ok: false, status: null, error: `no answer within ${timeoutMs} ms (NOTIFY_TIMEOUT_MS)` };
      }
      return { ok: false, status: null, error: `could not reach the receiver: ${describe(error)}` };
    }
  }

  /** Removes delivered events older than NOTIFY_RETENTION_DAYS, in bounded batches; returns how many. */
  async purge(now: Date = this.clock.now()): Promise<number> {
    const before = new Date(now.getTime() - this.config.notify.retentionDays * DAY_MS);
    let deleted = 0;
    try {
      for (let i = 0; i < RETENTION_MAX_BATCHES && !this.stopping; i++) {
        const n = await this.repo.purgeDelivered(before, RETENTION_BATCH);
        deleted += n;
        if (n < RETENTION_BATCH) {
          break;
        }
      }
    } catch (error) {
      this.logger.warn(`notification retention failed: ${describe(error)}`);
    }
    return deleted;
  }

  private async refreshGauges(): Promise<void> {
    const at = this.clock.now().getTime();
    if (at - this.gaugeAt < GAUGE_EVERY_MS) {
      return;
    }
    this.gaugeAt = at;
    try {
      const counts = await this.repo.countByState();
      for (const [state, n] of Object.entries(counts)) {
        this.metrics.gauge(NOTIFY_QUEUE).set({ state }, n);
      }
    } catch (error) {
      this.logger.debug(`notification gauges not refreshed: ${describe(error)}`);
    }
  }
}
