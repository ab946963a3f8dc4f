/**
 * Contract of HttpGraphClient against the Graph simulator over real HTTP, with a real ClientSecretCredential
 * getting its tokens from the simulator's token endpoint (HTTPS, self-signed CA).
 */
import { ClientSecretCredential } from '@azure/identity';
import {
  DEMO_JOBS,
  DEMO_SERVICE_PRINCIPAL_ID,
  startGraphSimulator,
  type RunningSimulator,
} from '../../../apps/graph-simulator/src';
import { HttpGraphClient, type HttpGraphClientOptions } from './http-graph.client';
import { createGraphCredential, describeCredential } from './credentials';
import { GraphError, type JobRef } from './graph-client';

const SP = DEMO_SERVICE_PRINCIPAL_ID;
const ref = (jobId: string, servicePrincipalId = SP): JobRef => ({ servicePrincipalId, jobId });

async function caught(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GraphError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a GraphError');
}

describe('HttpGraphClient against the Graph simulator', () => {
  let sim: RunningSimulator;
  let client: HttpGraphClient;
  const clients: HttpGraphClient[] = [];

  const newCredential = (secret?: string): ClientSecretCredential =>
    new ClientSecretCredential(sim.tenantId, sim.clientId, secret ?? sim.clientSecret, {
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: sim.tlsCaCertificate },
    });

  const newClient = (overrides: Partial<HttpGraphClientOptions> = {}): HttpGraphClient => {
    const c = new HttpGraphClient({
      baseUrl: sim.graphBaseUrl,
      credential: newCredential(),
      backoffBaseMs: 5,
      backoffMaxMs: 20,
      ...overrides,
    });
    clients.push(c);
    return c;
  };

  const posts = (operation: 'start' | 'pause', jobId: string) =>
    sim.state.requests({ operation, jobId }).filter((e) => !e.viaBatch);

  beforeAll(async () => {
    sim = await startGraphSimulator({ batchOrder: 'shuffle' });
    client = newClient();
  });

  afterAll(async () => {
    for (const c of clients) {
      c.close();
    }
    await sim.close();
  });

  beforeEach(() => sim.reset('demo'));

  describe('reads', () => {
    it('gets a paused job (PascalCase) with its request id and our client-request-id', async () => {
      const res = await client.getJob(ref(DEMO_JOBS.paused), { clientRequestId: 'crid-123' });
      expect(res.value).toMatchObject({
        id: DEMO_JOBS.paused,
        observedStatus: 'paused',
        rawStatusCode: 'Paused',
        quarantine: null,
        templateId: 'scim',
      });
      const log = sim.state.requests({ operation: 'get' });
      expect(log).toHaveLength(1);
      expect(res.requestIds).toEqual([log[0]?.requestId]);
      expect(log[0]?.clientRequestId).toBe('crid-123');
      expect(log[0]?.path).toBe(`/servicePrincipals/${SP}/synchronization/jobs/${DEMO_JOBS.paused}`);
    });

    it('reads a camelCase status code the same way', async () => {
      const res = await client.getJob(ref(DEMO_JOBS.pausedCamelCase));
      expect(res.value.observedStatus).toBe('paused');
      expect(res.value.rawStatusCode).toBe('paused');
    });

    it('reads a quarantined job with its reason', async () => {
      const res = await client.getJob(ref(DEMO_JOBS.quarantinedTooManyDeletes));
      expect(res.value.observedStatus).toBe('quarantine');
      expect(res.value.quarantine).toMatchObject({ reason: 'TooManyDeletes', seriesCount: 1 });
    });

    it('lists the jobs of a service principal', async () => {
      const res = await client.listJobs(SP);
      expect(res.value.map((j) => j.id).sort()).toEqual(Object.values(DEMO_JOBS).sort());
      expect(res.requestIds).toHaveLength(1);
    });

    it('maps a missing job and a missing service principal to not_found', async () => {
      const e1 = await caught(client.getJob(ref('scim.00000000000000000000000000000000')));
      expect(e1.kind).toBe('not_found');
      expect(e1.details.status).toBe(404);
      expect(e1.requestIds).toHaveLength(1);
      const e2 = await caught(client.listJobs('11111111-2222-3333-4444-555555555555'));
      expect(e2.kind).toBe('not_found');
      expect(e2.details.code).toBe('Request_ResourceNotFound');
    });

    it('retries a throttled read after Retry-After and collects every request id', async () => {
      sim.state.addFault({ operation: 'get', status: 429, retryAfter: '0.05', times: 2 });
      const started = Date.now();
      const res = await client.getJob(ref(DEMO_JOBS.active));
      expect(res.value.observedStatus).toBe('active');
      expect(res.requestIds).toHaveLength(3);
      expect(new Set(res.requestIds).size).toBe(3);
      expect(sim.state.requests({ operation: 'get' }).map((e) => e.status)).toEqual([429, 429, 200]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    });

    it('retries 503 and 504 and dropped connections on reads', async () => {
      sim.state.addFault({ operation: 'get', status: 503, times: 1 });
      sim.state.addFault({ operation: 'get', status: 504, times: 1 });
      sim.state.addFault({ operation: 'get', action: 'dropBefore', times: 1 });
      const res = await client.getJob(ref(DEMO_JOBS.paused));
      expect(res.value.observedStatus).toBe('paused');
      expect(sim.state.requests({ operation: 'get' }).map((e) => e.status)).toEqual([
        503,
        504,
        'dropped',
        200,
      ]);
    });

    it('does not retry a 500 on a read: unavailable', async () => {
      sim.state.addFault({ operation: 'get', status: 500 });
      const e = await caught(client.getJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('unavailable');
      expect(e.details.notActedOn).toBeUndefined();
      expect(sim.state.requests({ operation: 'get' })).toHaveLength(1);
    });

    it('gives up within the deadline with the last error', async () => {
      sim.state.addFault({ operation: 'get', status: 429, retryAfter: 1 });
      const started = Date.now();
      const e = await caught(client.getJob(ref(DEMO_JOBS.paused), { deadline: Date.now() + 1500 }));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(e.kind).toBe('throttled');
      expect(e.details.retryAfterSeconds).toBe(1);
      expect(sim.state.requests({ operation: 'get' })).toHaveLength(2);
      expect(e.requestIds).toHaveLength(2);
    });

    it('times out a hanging read (timeout, not lost)', async () => {
      sim.state.addFault({ operation: 'get', action: 'hang' });
      const c = newClient({ timeoutMs: 150 });
      const e = await caught(c.getJob(ref(DEMO_JOBS.paused), { deadline: Date.now() + 400 }));
      expect(e.kind).toBe('timeout');
    });

    it('maps 401 UnknownError to forbidden naming the read permission', async () => {
      sim.state.denyPermission('list');
      const e = await caught(client.listJobs(SP));
      expect(e.kind).toBe('forbidden');
      expect(e.details.requiredPermission).toBe('Synchronization.Read.All');
      expect(e.message).toContain('Synchronization.Read.All');
      expect(e.details.code).toBe('UnknownError');
    });
  });

  describe('start and pause', () => {
    it('starts a paused job (204), then pauses it', async () => {
      const res = await client.startJob(ref(DEMO_JOBS.paused));
      expect(res.requestIds).toHaveLength(1);
      expect(sim.state.getJob(SP, DEMO_JOBS.paused)?.status).toBe('Active');
      expect((await client.getJob(ref(DEMO_JOBS.paused))).value.observedStatus).toBe('active');
      await client.pauseJob(ref(DEMO_JOBS.paused));
      expect((await client.getJob(ref(DEMO_JOBS.paused))).value.observedStatus).toBe('paused');
      expect(sim.state.counters().harmfulStarts).toBe(0);
    });

    it("restarts with Graph's comma-separated resetScope body, once, and reads escrowsPruned", async () => {
      sim.state.updateJob(SP, DEMO_JOBS.paused, { escrowsPruned: true, escrowCount: 4 });
      expect((await client.getJob(ref(DEMO_JOBS.paused))).value.escrowsPruned).toBe(true);
      const res = await client.restartJob(ref(DEMO_JOBS.paused), ['Escrows', 'QuarantineState']);
      expect(res.requestIds).toHaveLength(1);
      expect(sim.state.getJob(SP, DEMO_JOBS.paused)?.lastRestartScope).toEqual([
        'Escrows',
        'QuarantineState',
      ]);
      const job = (await client.getJob(ref(DEMO_JOBS.paused))).value;
      expect(job).toMatchObject({ observedStatus: 'active', escrowsPruned: false });
    });

    it('never retries a restart answered 429 and refuses an empty scope list before sending', async () => {
      sim.state.addFault({ operation: 'restart', status: 429, retryAfter: 2 });
      const e = await caught(client.restartJob(ref(DEMO_JOBS.paused), ['Escrows']));
      expect(e.kind).toBe('throttled');
      expect(e.details.notActedOn).toBe(true);
      expect(sim.state.counters().restartRequests).toBe(1);
      expect((await caught(client.restartJob(ref(DEMO_JOBS.paused), []))).kind).toBe('invalid_id');
      expect(sim.state.counters().restartRequests).toBe(1);
    });

    it('starting a quarantined job clears the quarantine', async () => {
      await client.startJob(ref(DEMO_JOBS.quarantined));
      const job = (await client.getJob(ref(DEMO_JOBS.quarantined))).value;
      expect(job.observedStatus).toBe('active');
      expect(job.quarantine).toBeNull();
    });

    it.each([
      [429, 2, 'throttled'],
      [503, 3, 'unavailable'],
    ] as const)(
      'never retries a start answered %s: one POST, notActedOn',
      async (status, retryAfter, kind) => {
        sim.state.addFault({ operation: 'start', status, retryAfter, times: 1 });
        const e = await caught(client.startJob(ref(DEMO_JOBS.paused)));
        expect(e.kind).toBe(kind);
        expect(e.details.notActedOn).toBe(true);
        expect(e.details.retryAfterSeconds).toBe(retryAfter);
        expect(e.requestIds).toHaveLength(1);
        expect(posts('start', DEMO_JOBS.paused)).toHaveLength(1);
        expect(sim.state.getJob(SP, DEMO_JOBS.paused)?.status).toBe('Paused');
      },
    );

    it('a 503 without Retry-After on start is not proof of "not acted on"', async () => {
      sim.state.addFault({ operation: 'start', status: 503, times: 1 });
      const e = await caught(client.startJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('unavailable');
      expect(e.details.notActedOn).toBeUndefined();
      expect(posts('start', DEMO_JOBS.paused)).toHaveLength(1);
    });

    it('a 504 on start is timeout, not retried', async () => {
      sim.state.addFault({ operation: 'start', status: 504 });
      const e = await caught(client.startJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('timeout');
      expect(posts('start', DEMO_JOBS.paused)).toHaveLength(1);
    });

    it('an answer lost after Graph acted on the start is `lost`, and the job is active', async () => {
      sim.state.addFault({ operation: 'start', action: 'dropAfter', times: 1 });
      const e = await caught(client.startJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('lost');
      expect(posts('start', DEMO_JOBS.paused)).toHaveLength(1);
      expect(sim.state.getJob(SP, DEMO_JOBS.paused)?.status).toBe('Active');
      expect(sim.state.counters().starts).toBe(1);
    });

    it('a start that hangs past the timeout is `lost`', async () => {
      sim.state.addFault({ operation: 'start', action: 'hang', times: 1 });
      const c = newClient({ timeoutMs: 200 });
      const e = await caught(c.startJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('lost');
      expect(posts('start', DEMO_JOBS.paused)).toHaveLength(1);
    });

    it('never sends a start with less than the least write budget left: timeout, notSent, no POST', async () => {
      const e = await caught(client.startJob(ref(DEMO_JOBS.paused), { deadline: Date.now() + 5 }));
      expect(e.kind).toBe('timeout');
      expect(e.details.notSent).toBe(true);
      expect(posts('start', DEMO_JOBS.paused)).toHaveLength(0);
    });

    it('a refused connection on start is unavailable (never sent), not lost', async () => {
      const other = await startGraphSimulator({ seed: 'empty' });
      const baseUrl = other.graphBaseUrl;
      await other.close();
      const c = newClient({ baseUrl, connectTimeoutMs: 500 });
      const e = await caught(c.startJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('unavailable');
      expect(e.details.code).toBe('ECONNREFUSED');
    });

    it('maps 401 UnknownError on start to forbidden naming Synchronization.ReadWrite.All', async () => {
      sim.state.denyPermission('start');
      const e = await caught(client.startJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('forbidden');
      expect(e.details.requiredPermission).toBe('Synchronization.ReadWrite.All');
      expect(e.message).toContain('Synchronization.ReadWrite.All');
    });

    it('maps 403 Authorization_RequestDenied to forbidden', async () => {
      sim.state.denyPermission('pause', '403-denied');
      const e = await caught(client.pauseJob(ref(DEMO_JOBS.active)));
      expect(e.kind).toBe('forbidden');
      expect(e.details.code).toBe('Authorization_RequestDenied');
    });

    it('maps 400 and 409 to rejected', async () => {
      sim.state.addFault({ operation: 'start', status: 409, times: 1 });
      expect((await caught(client.startJob(ref(DEMO_JOBS.paused)))).kind).toBe('rejected');
      sim.state.addFault({ operation: 'start', status: 400, code: 'Request_BadRequest', times: 1 });
      const e = await caught(client.startJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('rejected');
      expect(e.details.code).toBe('Request_BadRequest');
    });
  });

  describe('ids', () => {
    it.each([
      ['not-a-guid', DEMO_JOBS.paused],
      [SP, '../../applications'],
      [SP, 'scim.x/start'],
      [SP, 'scim.x?$select=id'],
      [SP, 'scim.x#frag'],
      [SP, 'scim%2Fx'],
      [SP, ''],
      [`${SP}/synchronization`, 'x'],
    ])('refuses %s / %s before sending anything', async (sp, job) => {
      for (const call of [
        client.getJob(ref(job, sp)),
        client.startJob(ref(job, sp)),
        client.pauseJob(ref(job, sp)),
      ]) {
        expect((await caught(call)).kind).toBe('invalid_id');
      }
      expect((await caught(client.listJobs('x'))).kind).toBe('invalid_id');
      expect(sim.state.counters().requests).toBe(0);
      expect(sim.state.counters().tokenRequests).toBe(0);
    });

    it('puts validated ids into the path URL-encoded, as they are', async () => {
      const id = 'Azure2Azure.1f58d1c9a2b34c5d8e6f70819a2b3c4d.6a0b230b-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
      sim.state.putJob({ servicePrincipalId: SP, id, status: 'Paused' });
      const upper = SP.toUpperCase();
      const res = await client.getJob(ref(id, upper));
      expect(res.value.id).toBe(id);
      expect(sim.state.requests({ operation: 'get' })[0]?.path).toBe(
        `/servicePrincipals/${encodeURIComponent(upper)}/synchronization/jobs/${encodeURIComponent(id)}`,
      );
    });
  });

  describe('$batch', () => {
    it('reads up to 20 jobs, matching out-of-order answers by id, each mapped on its own', async () => {
      sim.state.addFault({ operation: 'get', jobId: DEMO_JOBS.quarantined, status: 429, retryAfter: 7 });
      const refs = [
        ref(DEMO_JOBS.paused),
        ref('scim.ffffffffffffffffffffffffffffffff'),
        ref(DEMO_JOBS.quarantined),
        ref(DEMO_JOBS.active),
        ref('bad/id'),
        ref(DEMO_JOBS.quarantinedOnDemand),
      ];
      const res = await client.batchGetJobs(refs);
      expect(res.requestIds).toHaveLength(1);
      expect(res.value.map((r) => r.ref)).toEqual(refs);
      const [paused, missing, throttled, active, invalid, onDemand] = res.value;
      expect(paused?.ok && paused.job.observedStatus).toBe('paused');
      expect(!missing?.ok && missing?.error.kind).toBe('not_found');
      expect(!throttled?.ok && throttled?.error.kind).toBe('throttled');
      expect(!throttled?.ok && throttled?.error.details.retryAfterSeconds).toBe(7);
      expect(active?.ok && active.job.observedStatus).toBe('active');
      expect(!invalid?.ok && invalid?.error.kind).toBe('invalid_id');
      expect(onDemand?.ok && onDemand.job.quarantine?.reason).toBe('QuarantinedOnDemand');
      expect(sim.state.counters()).toMatchObject({ batchRequests: 1, batchItems: 5, requests: 1 });
    });

    it('reads 20 in one request', async () => {
      const ids = sim.state.seedJobs(SP, 20, 'Quarantine');
      const res = await client.batchGetJobs(ids.map((id) => ref(id)));
      expect(res.value.every((r) => r.ok && r.job.observedStatus === 'quarantine')).toBe(true);
    });

    it('refuses more than 20 refs before sending', async () => {
      const ids = sim.state.seedJobs(SP, 21, 'Paused');
      const e = await caught(client.batchGetJobs(ids.map((id) => ref(id))));
      expect(e.kind).toBe('rejected');
      expect(sim.state.counters().batchRequests).toBe(0);
    });

    it('retries a throttled envelope; a persistent 503 envelope throws unavailable', async () => {
      sim.state.addFault({ operation: 'batch', status: 429, retryAfter: '0.02', times: 1 });
      const res = await client.batchGetJobs([ref(DEMO_JOBS.paused)]);
      expect(res.value[0]?.ok).toBe(true);
      expect(res.requestIds).toHaveLength(2);
      sim.state.addFault({ operation: 'batch', status: 503, retryAfter: '0.02' });
      const e = await caught(client.batchGetJobs([ref(DEMO_JOBS.paused)], { deadline: Date.now() + 300 }));
      expect(e.kind).toBe('unavailable');
    });
  });

  describe('tokens', () => {
    it('fetches one token for 1000 calls (credential cache + single flight), concurrency 20', async () => {
      sim.state.resetCounters();
      const c = newClient();
      const jobs = Object.values(DEMO_JOBS);
      let calls = 0;
      const worker = async (w: number): Promise<void> => {
        for (let i = 0; i < 50; i++) {
          const id = jobs[(w + i) % jobs.length] ?? DEMO_JOBS.paused;
          if (i % 10 === 9) {
            await c.listJobs(SP);
          } else {
            await c.getJob(ref(id));
          }
          calls++;
        }
      };
      await Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
      expect(calls).toBe(1000);
      const counters = sim.state.counters();
      expect(counters.tokenRequests).toBe(1);
      expect(counters.unauthorized).toBe(0);
      process.stdout.write(`token requests per 1000 Graph calls: ${counters.tokenRequests}\n`);
    });

    it('refreshes a token that expires during a run, with no failed call', async () => {
      // The client renews a token halfway through its life when that is under 10 min: a 4 s token after 2 s.
      sim.state.tokenLifetimeSeconds = 4;
      sim.state.resetCounters();
      const c = newClient();
      const until = Date.now() + 3_500;
      let calls = 0;
      while (Date.now() < until) {
        await c.getJob(ref(DEMO_JOBS.paused));
        calls++;
        await new Promise((r) => setTimeout(r, 20));
      }
      const counters = sim.state.counters();
      expect(calls).toBeGreaterThan(50);
      expect(counters.tokenRequests).toBeGreaterThanOrEqual(2);
      expect(counters.tokenRequests).toBeLessThanOrEqual(3);
      expect(counters.unauthorized).toBe(0);
      sim.state.tokenLifetimeSeconds = 3600;
    });

    it('refreshes once when Graph refuses a cached token (401 InvalidAuthenticationToken)', async () => {
      const c = newClient();
      await c.getJob(ref(DEMO_JOBS.paused));
      sim.state.resetCounters();
      sim.state.expireTokens();
      const res = await c.startJob(ref(DEMO_JOBS.paused));
      expect(res.requestIds).toHaveLength(2);
      expect(sim.state.counters()).toMatchObject({
        unauthorized: 1,
        tokenRequests: 1,
        starts: 1,
        startRequests: 1,
      });
      await c.getJob(ref(DEMO_JOBS.paused));
      expect(sim.state.counters().tokenRequests).toBe(1);
    });

    it('calls refused at the same time share one new token', async () => {
      const c = newClient();
      await c.getJob(ref(DEMO_JOBS.paused));
      sim.state.resetCounters();
      sim.state.expireTokens();
      await Promise.all(Array.from({ length: 10 }, () => c.getJob(ref(DEMO_JOBS.paused))));
      expect(sim.state.counters()).toMatchObject({ unauthorized: 10, tokenRequests: 1 });
    });

    it('reports a token failure naming the credential type; the authority details go only to the log', async () => {
      const secret = 'wrong-secret-value-123';
      const logged: string[] = [];
      const logger = {
        debug: () => undefined,
        warn: (message: string, fields?: Record<string, unknown>) =>
          logged.push(`${message} ${JSON.stringify(fields ?? {})}`),
      };
      const c = newClient({ credential: newCredential(secret), logger });
      const e = await caught(c.getJob(ref(DEMO_JOBS.paused)));
      expect(e.kind).toBe('token');
      expect(e.message).toContain('ClientSecretCredential');
      // AADSTS codes, trace ids and app ids are for operators, not for whoever reads the attempt.
      expect(e.message).not.toMatch(/AADSTS|Trace ID|Correlation ID/);
      expect(e.message).not.toContain(sim.credentialOptions.clientId);
      expect(e.message).not.toContain(secret);
      expect(logged.join('\n')).toContain('AADSTS7000215');
      expect(logged.join('\n')).not.toContain(secret);
      expect(sim.state.counters().requests).toBe(0);
    });

    it('works with createGraphCredential and the simulator credential options', async () => {
      const credential = createGraphCredential(sim.credentialOptions);
      expect(describeCredential(credential)).toBe('ClientSecretCredential');
      const c = newClient({ credential });
      expect((await c.getJob(ref(DEMO_JOBS.active))).value.observedStatus).toBe('active');
    });
  });

  describe('hooks', () => {
    it('reports exchanges and tokens, and logs without tokens', async () => {
      const exchanges: unknown[] = [];
      const tokens: boolean[] = [];
      const lines: string[] = [];
      const logger = {
        debug: (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${JSON.stringify(f)}`),
        warn: (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${JSON.stringify(f)}`),
      };
      const c = newClient({
        logger,
        onExchange: (i) => exchanges.push(i),
        onToken: (_ms, ok) => tokens.push(ok),
      });
      sim.state.addFault({ operation: 'get', status: 429, retryAfter: '0.01', times: 1 });
      await c.getJob(ref(DEMO_JOBS.paused));
      expect(exchanges).toEqual([
        expect.objectContaining({ operation: 'getJob', status: 429 }),
        expect.objectContaining({ operation: 'getJob', status: 200 }),
      ]);
      // One acquisition: the client keeps the token, so the retried read does not ask the credential again.
      expect(tokens).toEqual([true]);
      expect(lines.join('\n')).toContain('/servicePrincipals/{sp}/synchronization/jobs/{job}');
      expect(lines.join('\n')).not.toMatch(/simtok|Bearer/);
    });
  });
});
