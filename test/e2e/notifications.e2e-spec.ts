import request from 'supertest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { NotificationRepository } from '@app/persistence';
import type { RunningSimulator } from '../../apps/graph-simulator/src';
import { NotificationDispatcher } from '../../apps/api/src/notifications/dispatcher.service';
import { RecoveryService } from '../../apps/api/src/recovery/recovery.service';
import { validateAdaptiveCard } from '../support/adaptive-card';
import { type TestApp, type TestEnv, type TestStack, startApp, startStack } from '../support/harness';
import { type Receiver, startReceiver } from '../support/receiver';
import { eventually, sql } from '../support/sql';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const ROOT = resolve(__dirname, '..', '..');

interface CloudEventBody {
  specversion: string;
  id: string;
  type: string;
  subject?: string;
  data: Record<string, unknown>;
}

const newJobId = (): string => `scim.${randomUUID().replace(/-/g, '')}`;
const at = (base: Date, seconds: number): Date => new Date(base.getTime() + seconds * 1000);

/** Verifies a received webhook with the Standard Webhooks reference implementation and returns its CloudEvent. */
function verified(r: Receiver['received'][number], secret = SECRET): CloudEventBody {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) {
    if (typeof v === 'string') {
      headers[k] = v;
    }
  }
  return new Webhook(secret).verify(r.body, headers) as CloudEventBody;
}

// Starting the database, simulator and app can take more than Jest's default 5 s on a loaded machine.
jest.setTimeout(60_000);

describe('notifications: outbox delivered to real receivers on loopback', () => {
  let stack: TestStack;
  let env: TestEnv;
  let sim: RunningSimulator;
  let app: TestApp;
  let hook: Receiver;
  let dispatcher: NotificationDispatcher;
  let outbox: NotificationRepository;
  let admin: string;
  let reader: string;

  const appEnv = (): Record<string, string> => ({
    REPLICA_ID: 'replica-a',
    NOTIFY_WEBHOOK_URL: hook.url,
    NOTIFY_WEBHOOK_SECRET: SECRET,
    // Replica a delivers only when a test drives it (runOnce with a moved clock).
    NOTIFY_DISPATCH_ENABLED: 'false',
    NOTIFY_TIMEOUT_MS: '1000',
    NOTIFY_RETRY_SCHEDULE: '5,60',
    RATE_LIMIT_PER_JOB: '1000',
    START_COOLDOWN_SECONDS: '0',
  });

  beforeAll(async () => {
    hook = await startReceiver(204);
    stack = await startStack(appEnv());
    ({ env, sim, app } = stack);
    dispatcher = app.app.get(NotificationDispatcher);
    outbox = app.app.get(NotificationRepository);
    admin = await env.issuer.sign({ roles: ['JobControl.Admin'], oid: randomUUID(), name: 'Ada Admin' });
    reader = await env.issuer.sign({ roles: ['JobControl.Read'], oid: randomUUID(), name: 'Rita Reader' });
  });

  afterAll(async () => {
    await stack.close();
    await hook.close();
  });

  beforeEach(async () => {
    hook.received.length = 0;
    hook.script = [];
    hook.fallback = 204;
    await sql(env.db.url, 'DELETE FROM notification_events');
    await sql(env.db.url, 'DELETE FROM notification_destinations WHERE NOT managed');
  });

  const post = (path: string, body: object, token = admin) =>
    request(app.url).post(path).set('Authorization', `Bearer ${token}`).send(body);
  const get = (path: string, token = reader) =>
    request(app.url).get(path).set('Authorization', `Bearer ${token}`);
  const deliveryRows = (where = 'true') =>
    sql<{ event_id: string; state: string; attempts: number; last_error: string | null }>(
      env.db.url,
      `SELECT event_id, state::text AS state, attempts, last_error FROM notification_deliveries WHERE ${where} ORDER BY seq`,
    );

  it('a quarantine seen by recovery reaches NOTIFY_WEBHOOK_URL: refused once, then delivered in order, one id, signed', async () => {
    const jobId = newJobId();
    sim.state.putJob({
      servicePrincipalId: SP,
      id: jobId,
      status: 'Quarantine',
      quarantine: { reason: 'TooManyDeletes' },
    });
    await post('/v1/recovery/watches', { servicePrincipalId: SP, jobId }).expect(201);
    await app.app.get(RecoveryService).sweep(new Date());

    // The events are due from the sweep's commit; the dispatcher's clock is moved from there.
    const t0 = new Date();
    hook.script = [500];
    expect(await dispatcher.runOnce(t0)).toBe(1); // job.needs_attention waits behind job.quarantined
    expect(await dispatcher.runOnce(at(t0, 4))).toBe(0); // the retry is due at +5 s
    expect(await dispatcher.runOnce(at(t0, 5))).toBe(1);
    expect(await dispatcher.runOnce(at(t0, 5))).toBe(1);
    expect(await dispatcher.runOnce(at(t0, 600))).toBe(0);

    const got = hook.received.map((r) => verified(r));
    expect(got.map((e) => e.type)).toEqual(['job.quarantined', 'job.quarantined', 'job.needs_attention']);
    expect(got[0]?.id).toBe(got[1]?.id);
    expect(got[2]?.id).not.toBe(got[0]?.id);
    expect(hook.received.map((r) => r.headers['webhook-id'])).toEqual(got.map((e) => e.id));
    expect(got[0]).toMatchObject({
      specversion: '1.0',
      subject: `servicePrincipals/${SP}/synchronization/jobs/${jobId}`,
      data: { jobId, quarantineReason: 'TooManyDeletes', advice: { needsPerson: true } },
    });

    const list = await get('/v1/notifications/deliveries?eventType=job.quarantined').expect(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({
      eventId: got[0]?.id,
      state: 'delivered',
      attempts: 2,
      lastStatus: 204,
      jobId,
      destinationKind: 'webhook',
    });
  });

  it('a start whose answer is lost: its finalise writes attempt.unknown, delivered with who asked', async () => {
    const jobId = newJobId();
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    sim.state.addFault({ operation: 'start', jobId, action: 'dropBefore', times: 1 });
    const starter = await env.issuer.sign({
      roles: ['JobControl.Start'],
      oid: randomUUID(),
      name: 'Sam Starter',
    });
    const res = await post(
      `/v1/servicePrincipals/${SP}/synchronization/jobs/${jobId}/start`,
      {},
      starter,
    ).expect(502);
    expect(res.body.outcome).toBe('unknown');
    expect(await dispatcher.runOnce(new Date())).toBe(1);
    expect(hook.received.map((r) => verified(r))).toEqual([
      expect.objectContaining({
        type: 'attempt.unknown',
        subject: `servicePrincipals/${SP}/synchronization/jobs/${jobId}`,
        data: expect.objectContaining({
          attemptId: res.body.attemptId,
          outcome: 'unknown',
          actor: expect.objectContaining({ type: 'app', name: 'Sam Starter' }),
        }),
      }),
    ]);
  });

  it('a hold placed through the API reaches the webhook as hold.placed, signed, with who, why and until; its release as hold.released', async () => {
    const jobId = newJobId();
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    const placer = await env.issuer.sign({
      roles: ['JobControl.Admin'],
      oid: randomUUID(),
      name: 'Hal Holder',
    });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const placed = await post(
      '/v1/holds',
      { servicePrincipalId: SP, jobId, reason: 'change freeze', until },
      placer,
    ).expect(201);
    const holdId = placed.body.holdId as string;

    expect(await dispatcher.runOnce(new Date())).toBe(1);
    const [event] = hook.received.map((r) => verified(r));
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'hold.placed',
      subject: `servicePrincipals/${SP}/synchronization/jobs/${jobId}`,
      data: {
        holdId,
        servicePrincipalId: SP,
        jobId,
        reason: 'change freeze',
        placedBy: { name: 'Hal Holder' },
      },
    });
    expect(Date.parse(String(event?.data.until))).toBe(Date.parse(until));
    expect(hook.received[0]?.headers['webhook-id']).toBe(event?.id);

    // A start while held is refused and writes no notification; the release is delivered after the placement.
    await post(`/v1/servicePrincipals/${SP}/synchronization/jobs/${jobId}/start`, {}, placer).expect(423);
    await request(app.url).delete(`/v1/holds/${holdId}`).set('Authorization', `Bearer ${placer}`).expect(200);
    await request(app.url).delete(`/v1/holds/${holdId}`).set('Authorization', `Bearer ${placer}`).expect(409);
    expect(await dispatcher.runOnce(new Date())).toBe(1);
    expect(await dispatcher.runOnce(new Date())).toBe(0);
    const types = hook.received.map((r) => verified(r).type);
    expect(types).toEqual(['hold.placed', 'hold.released']);
    expect(verified(hook.received[1]!).data).toMatchObject({ holdId, releasedBy: { name: 'Hal Holder' } });
  });

  it('a hanging receiver times out and holds up no other destination; Teams and Slack get their messages', async () => {
    const teams = await startReceiver('hang');
    const slack = await startReceiver(200);
    try {
      await post('/v1/notifications/destinations', { kind: 'teams', url: `${teams.url}?sig=secret` }).expect(
        201,
      );
      await post('/v1/notifications/destinations', {
        kind: 'slack',
        url: slack.url,
        eventTypes: ['job.quarantined'],
      }).expect(201);
      const jobId = newJobId();
      await outbox.enqueue({
        type: 'job.quarantined',
        servicePrincipalId: SP,
        jobId,
        data: { jobId, servicePrincipalId: SP, quarantineReason: 'EncounteredQuarantineException' },
      });
      await outbox.enqueue({ type: 'job.recovered', servicePrincipalId: SP, jobId: newJobId(), data: {} });

      const run = dispatcher.runOnce(new Date());
      // Slack and the webhook are answered while the Teams receiver still holds its request open.
      await eventually(() =>
        Promise.resolve(slack.received.length === 1 && hook.received.length === 2 ? true : undefined),
      );
      expect(teams.held).toBeGreaterThanOrEqual(1);
      await run;

      const rows = await sql<{ kind: string; type: string; state: string; last_error: string | null }>(
        env.db.url,
        `SELECT t.kind::text AS kind, e.type, d.state::text AS state, d.last_error
         FROM notification_deliveries d JOIN notification_destinations t ON t.id = d.destination_id
         JOIN notification_events e ON e.id = d.event_id WHERE t.kind <> 'webhook' ORDER BY t.kind::text, e.seq`,
      );
      expect(rows).toEqual([
        { kind: 'slack', type: 'job.quarantined', state: 'delivered', last_error: null },
        {
          kind: 'teams',
          type: 'job.quarantined',
          state: 'pending',
          last_error: expect.stringMatching(/no answer within 1000 ms/),
        },
        {
          kind: 'teams',
          type: 'job.recovered',
          state: 'pending',
          last_error: expect.stringMatching(/no answer within 1000 ms/),
        },
      ]);

      const card = JSON.parse(teams.received[0]?.body ?? '{}') as {
        attachments: Array<{ content: Record<string, unknown> }>;
      };
      expect(validateAdaptiveCard(card.attachments[0]?.content)).toEqual([]);
      expect(JSON.stringify(card)).toContain(jobId);
      const message = JSON.parse(slack.received[0]?.body ?? '{}') as { text: string; blocks: unknown[] };
      expect(message.text).toContain(`Job ${jobId} entered quarantine`);
      expect(JSON.stringify(message.blocks)).toContain('Test connection');
    } finally {
      teams.release('destroy');
      await teams.close();
      await slack.close();
    }
  });

  it('a receiver down for the whole retry window: dead-lettered, listed, and redelivered once it is back', async () => {
    const down = await startReceiver(204);
    await down.close();
    try {
      const created = await post('/v1/notifications/destinations', {
        kind: 'webhook',
        url: down.url,
        secret: OTHER_SECRET,
        eventTypes: ['attempt.unknown'],
      }).expect(201);
      const destinationId = created.body.destinationId as string;
      const eventId = await outbox.enqueue({
        type: 'attempt.unknown',
        servicePrincipalId: SP,
        jobId: newJobId(),
        data: { attemptId: randomUUID(), message: 'the answer to the start was lost' },
      });
      const t0 = new Date();
      await dispatcher.runOnce(t0);
      await dispatcher.runOnce(at(t0, 5));
      await dispatcher.runOnce(at(t0, 65));
      expect(await dispatcher.runOnce(at(t0, 3600))).toBe(0);

      const dead = await get(`/v1/notifications/deliveries?state=dead&destinationId=${destinationId}`).expect(
        200,
      );
      expect(dead.body.items).toHaveLength(1);
      expect(dead.body.items[0]).toMatchObject({
        eventId,
        state: 'dead',
        attempts: 3,
        lastStatus: null,
        lastError: expect.stringMatching(/could not reach the receiver/),
      });
      const deliveryId = dead.body.items[0].deliveryId as string;

      await down.reopen();
      await post(`/v1/notifications/deliveries/${deliveryId}/redeliver`, {}, reader).expect(403);
      const again = await post(`/v1/notifications/deliveries/${deliveryId}/redeliver`, {}).expect(202);
      expect(again.body).toMatchObject({ state: 'pending', attempts: 0 });
      await post(`/v1/notifications/deliveries/${deliveryId}/redeliver`, {}).expect(409);
      await dispatcher.runOnce(new Date());
      expect(down.received).toHaveLength(1);
      expect(verified(down.received[0] as Receiver['received'][number], OTHER_SECRET).id).toBe(eventId);
      expect((await deliveryRows(`destination_id = '${destinationId}'`))[0]).toMatchObject({
        state: 'delivered',
      });
    } finally {
      await down.close();
    }
  });

  it('destinations: Admin only, strict input, secrets and credential URLs never shown', async () => {
    await post(
      '/v1/notifications/destinations',
      { kind: 'slack', url: 'https://hooks.slack.com/x' },
      reader,
    ).expect(403);
    const bad = [
      [{ kind: 'webhook', url: 'https://r.example/h' }, /secret is required/],
      [{ kind: 'webhook', url: 'https://r.example/h', secret: 'whsec_c2hvcnQ=' }, /secret/],
      [{ kind: 'slack', url: 'https://r.example/h', secret: SECRET }, /secret applies only/],
      [{ kind: 'email', url: 'https://r.example/h' }, /kind must be one of/],
      [{ kind: 'slack', url: 'ftp://r.example/h' }, /url must use https/],
      [{ kind: 'slack', url: 'https://r.example/h', eventTypes: ['job.exploded'] }, /eventTypes/],
      [{ kind: 'slack', url: 'https://r.example/h', servicePrincipalIds: ['nope'] }, /servicePrincipalIds/],
      [{ kind: 'slack', url: 'https://r.example/h', colour: 'red' }, /colour/],
    ] as const;
    for (const [body, message] of bad) {
      const res = await post('/v1/notifications/destinations', body).expect(400);
      expect(res.body.message).toMatch(message);
    }
    const created = await post('/v1/notifications/destinations', {
      kind: 'teams',
      name: 'on-call channel',
      url: 'https://prod.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=topsecret',
      servicePrincipalIds: [SP.toUpperCase()],
    }).expect(201);
    expect(created.body).toMatchObject({
      kind: 'teams',
      url: 'https://prod.westeurope.logic.azure.com/…',
      servicePrincipalIds: [SP],
      hasSecret: false,
    });
    await post('/v1/notifications/destinations', {
      kind: 'webhook',
      url: 'https://r.example/hook?token=abc',
      secret: OTHER_SECRET,
    }).expect(201);
    const list = await get('/v1/notifications/destinations', admin).expect(200);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain('topsecret');
    expect(text).not.toContain('token=abc');
    expect(text).not.toContain(OTHER_SECRET.slice(6));
    expect(text).not.toContain(SECRET.slice(6));
    expect(list.body.items.find((d: { managed: boolean }) => d.managed)).toMatchObject({
      kind: 'webhook',
      hasSecret: true,
    });
    await get('/v1/notifications/destinations', reader).expect(403);
    await get('/v1/notifications/deliveries?limit=0').expect(400);
    await get('/v1/notifications/deliveries?cursor=zzz').expect(400);
    await get('/v1/notifications/deliveries?foo=1').expect(400);
    const id = created.body.destinationId as string;
    await request(app.url)
      .delete(`/v1/notifications/destinations/${id}`)
      .set('Authorization', `Bearer ${admin}`)
      .expect(204);
    await request(app.url)
      .delete(`/v1/notifications/destinations/${id}`)
      .set('Authorization', `Bearer ${admin}`)
      .expect(404);
    await request(app.url)
      .delete('/v1/notifications/destinations/nope')
      .set('Authorization', `Bearer ${admin}`)
      .expect(400);
    expect(app.logs.join('\n')).not.toContain('topsecret');
  });

  it('two replicas deliver together: every event arrives, each id always with the same event, in order per job', async () => {
    const replicas = await Promise.all(
      ['replica-b', 'replica-c'].map((id) =>
        startApp({
          databaseUrl: env.db.url,
          issuer: env.issuer,
          graph: sim,
          env: {
            ...appEnv(),
            REPLICA_ID: id,
            NOTIFY_DISPATCH_ENABLED: 'true',
            NOTIFY_POLL_INTERVAL_MS: '3600000',
            NOTIFY_CONCURRENCY: '4',
          },
        }),
      ),
    );
    try {
      const jobs = Array.from({ length: 6 }, newJobId);
      const sent: string[] = [];
      for (let i = 0; i < 60; i++) {
        const jobId = jobs[i % jobs.length] as string;
        sent.push(
          await outbox.enqueue({
            type: 'job.quarantine_reason_changed',
            servicePrincipalId: SP,
            jobId,
            data: { n: i },
          }),
        );
      }
      await eventually(async () => {
        const pending = await deliveryRows(`state = 'pending'`);
        return pending.length === 0 && hook.received.length >= 60 ? true : undefined;
      }, 30_000);
      const got = hook.received.map((r) => verified(r));
      const byId = new Map<string, string>();
      for (const e of got) {
        const body = JSON.stringify(e);
        expect(byId.get(e.id) ?? body).toBe(body);
        byId.set(e.id, body);
      }
      expect([...byId.keys()].sort()).toEqual([...sent].sort());
      // In order per job: the first arrival of each event follows the order of the changes.
      for (const jobId of jobs) {
        const firstSeen = [...new Set(got.filter((e) => e.subject?.endsWith(`/${jobId}`)).map((e) => e.id))];
        expect(firstSeen).toEqual(sent.filter((_, i) => jobs[i % jobs.length] === jobId));
      }
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  }, 60_000);

  it('a replica killed mid-delivery: its lease runs out and another replica delivers the same event', async () => {
    hook.fallback = 'hang';
    const eventId = await outbox.enqueue({
      type: 'job.needs_attention',
      servicePrincipalId: SP,
      jobId: newJobId(),
      data: { message: 'left for a person' },
    });
    const child = spawn(
      process.execPath,
      ['-r', './bench/swc-register.js', 'test/support/dispatch-replica.ts'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: env.db.url,
          REPLICA_ID: 'replica-doomed',
          NOTIFY_TIMEOUT_MS: '60000',
          NOTIFY_WEBHOOK_URL: hook.url,
          NOTIFY_WEBHOOK_SECRET: SECRET,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      // The doomed replica holds the delivery: its request is open at the receiver.
      await eventually(() => Promise.resolve(hook.held === 1 ? true : undefined), 30_000);
      const [leased] = await sql<{ lease_holder: string; lease_until: Date }>(
        env.db.url,
        'SELECT lease_holder, lease_until FROM notification_deliveries WHERE event_id = $1',
        [eventId],
      );
      expect(leased?.lease_holder).toBe('replica-doomed');
      child.kill('SIGKILL');
      await exited;
      hook.release('destroy');
      hook.fallback = 204;

      // Before its lease ends nobody else may take it; after, replica a delivers it.
      expect(await dispatcher.runOnce(new Date())).toBe(0);
      expect(await dispatcher.runOnce(at(leased?.lease_until ?? new Date(), 1))).toBe(1);
      const got = hook.received.map((r) => verified(r));
      expect(got.map((e) => e.id)).toEqual([eventId, eventId]);
      expect(await deliveryRows(`event_id = '${eventId}'`)).toEqual([
        { event_id: eventId, state: 'delivered', attempts: 2, last_error: null },
      ]);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
      }
      hook.release('destroy');
    }
  }, 60_000);
});
