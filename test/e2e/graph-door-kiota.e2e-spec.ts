import { randomUUID } from 'node:crypto';
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  type ErrorMappings,
  HttpMethod,
  RequestInformation,
} from '@microsoft/kiota-abstractions';
import {
  BatchRequestBuilder,
  BatchRequestContent,
  createGraphClientFactory,
} from '@microsoft/msgraph-sdk-core';
import { GraphRequestAdapter } from '@microsoft/msgraph-sdk';
import {
  type SynchronizationJob,
  type SynchronizationJobCollectionResponse,
  createSynchronizationJobCollectionResponseFromDiscriminatorValue,
  createSynchronizationJobFromDiscriminatorValue,
} from '@microsoft/msgraph-sdk/models/index.js';
import {
  type ODataError,
  createODataErrorFromDiscriminatorValue,
} from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { DEMO_SERVICE_PRINCIPAL_ID, type RunningSimulator } from '../../apps/graph-simulator/src';
import { type TestEnv, type TestStack, startStack } from '../support/harness';
import { type TlsDoor, serveOverTls } from '../support/tls-door';

const SP = DEMO_SERVICE_PRINCIPAL_ID;
const JOB = '{+baseurl}/servicePrincipals/{servicePrincipal%2Did}/synchronization/jobs';
const errors: ErrorMappings = { XXX: createODataErrorFromDiscriminatorValue };

/**
 * The door driven by the Kiota-based Microsoft Graph SDK (@microsoft/msgraph-sdk + -core), unchanged. No npm
 * package publishes its servicePrincipals fluent API, so requests are built as Kiota's own RequestInformation with
 * Graph's URI templates, and sent through the SDK's Graph request adapter and default middleware (retry included).
 */
describe('Graph-compatible door with the Kiota Graph SDK', () => {
  let stack: TestStack;
  let env: TestEnv;
  let sim: RunningSimulator;
  let door: TlsDoor;
  let adapter: GraphRequestAdapter;

  beforeAll(async () => {
    stack = await startStack({ RATE_LIMIT_PER_JOB: '50', START_COOLDOWN_SECONDS: '600' });
    ({ env, sim } = stack);
    door = await serveOverTls(stack.app);
    const token = await env.issuer.sign({
      roles: ['JobControl.Read', 'JobControl.Start'],
      oid: randomUUID(),
    });
    const auth = new BaseBearerTokenAuthenticationProvider({
      getAuthorizationToken: () => Promise.resolve(token),
      getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(['127.0.0.1'])),
    });
    const dispatcher = door.dispatcher;
    // The adapter's default client, with one change: a fetch that trusts the test's self-signed certificate.
    const http = createGraphClientFactory({ graphServiceTargetVersion: 'v1.0' }, (url, init) =>
      fetch(url, { ...init, dispatcher } as RequestInit),
    );
    adapter = new GraphRequestAdapter(auth, undefined, undefined, http);
    adapter.baseUrl = `${door.origin}/v1.0`;
  });

  afterAll(async () => {
    await door.close();
    await stack.close();
  });

  let jobId: string;
  beforeEach(() => {
    sim.state.clearFaults();
    door.received.length = 0;
    jobId = `scim.${randomUUID().replace(/-/g, '')}`;
  });

  const info = (method: HttpMethod, suffix: string, id = jobId) =>
    new RequestInformation(method, `${JOB}${suffix}`, {
      'servicePrincipal%2Did': SP,
      'synchronizationJob%2Did': id,
    });
  const starts = (id: string) => sim.state.requests({ operation: 'start', jobId: id }).length;
  async function odataError(call: Promise<unknown>): Promise<ODataError> {
    try {
      await call;
    } catch (error) {
      return error as ODataError;
    }
    throw new Error('expected the SDK to throw');
  }

  it('lists and gets jobs into the SDK models', async () => {
    sim.state.putJob({
      servicePrincipalId: SP,
      id: jobId,
      status: 'Quarantine',
      quarantine: { reason: 'EncounteredQuarantineException' },
    });
    const list = await adapter.send<SynchronizationJobCollectionResponse>(
      info(HttpMethod.GET, ''),
      createSynchronizationJobCollectionResponseFromDiscriminatorValue,
      errors,
    );
    expect(list?.value?.map((j) => j.id)).toContain(jobId);
    const job = await adapter.send<SynchronizationJob>(
      info(HttpMethod.GET, '/{synchronizationJob%2Did}'),
      createSynchronizationJobFromDiscriminatorValue,
      errors,
    );
    expect(job?.id).toBe(jobId);
    expect(job?.status?.code).toBe('Quarantine');
    expect(job?.status?.quarantine?.reason).toBe('EncounteredQuarantineException');
  });

  it('starts a paused job once, then refuses at once within the cool-down (no retry sleep)', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    await adapter.sendNoResponseContent(info(HttpMethod.POST, '/{synchronizationJob%2Did}/start'), errors);
    expect(starts(jobId)).toBe(1);
    door.received.length = 0;
    const error = await odataError(
      adapter.sendNoResponseContent(info(HttpMethod.POST, '/{synchronizationJob%2Did}/start'), errors),
    );
    expect(error.responseStatusCode).toBe(409);
    expect(error.errorEscaped?.code).toBe('JobInCooldown');
    expect(error.errorEscaped?.message).toMatch(/cool-down/);
    expect(door.received).toHaveLength(1);
    expect(starts(jobId)).toBe(1);
  });

  it('refuses to start an active job, naming its status, without a Graph start', async () => {
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Active' });
    const error = await odataError(
      adapter.sendNoResponseContent(info(HttpMethod.POST, '/{synchronizationJob%2Did}/start'), errors),
    );
    expect(error.responseStatusCode).toBe(409);
    expect(error.errorEscaped?.code).toBe('JobNotStartable');
    expect(error.errorEscaped?.message).toMatch(/Job is active/);
    expect(starts(jobId)).toBe(0);
  });

  it("sends a $batch with the SDK's BatchRequestContent", async () => {
    const active = `scim.${randomUUID().replace(/-/g, '')}`;
    sim.state.putJob({ servicePrincipalId: SP, id: jobId, status: 'Paused' });
    sim.state.putJob({ servicePrincipalId: SP, id: active, status: 'Active' });
    const content = new BatchRequestContent(adapter, errors);
    content.addBatchRequest(info(HttpMethod.POST, '/{synchronizationJob%2Did}/start'), 'paused');
    content.addBatchRequest(info(HttpMethod.POST, '/{synchronizationJob%2Did}/start', active), 'active');
    content.addBatchRequest(info(HttpMethod.GET, '/{synchronizationJob%2Did}'), 'read');
    const response = await new BatchRequestBuilder(adapter, errors).postBatchResponseContentAsync(content);
    const statuses = await response?.getResponsesStatusCodes();
    expect(Object.fromEntries(statuses ?? [])).toEqual({ paused: 204, active: 409, read: 200 });
    expect(starts(jobId)).toBe(1);
    expect(starts(active)).toBe(0);
  });
  it("restarts with Graph's criteria and the sjg-reason header; Watermark answers ApprovalRequired, no Graph call", async () => {
    const restart = (criteria: { resetScope: string }, reason?: string, id = jobId) => {
      const ri = info(HttpMethod.POST, '/{synchronizationJob%2Did}/restart', id);
      ri.headers.add('Content-Type', 'application/json');
      if (reason !== undefined) {
        ri.headers.add('sjg-reason', reason);
      }
      ri.content = new TextEncoder().encode(JSON.stringify({ criteria })).buffer;
      return adapter.sendNoResponseContent(ri, errors);
    };
    const restarts = (id = jobId) => sim.state.requests({ operation: 'restart', jobId: id }).length;
    const other = `scim.${randomUUID().replace(/-/g, '')}`;
    for (const id of [jobId, other]) {
      sim.state.putJob({
        servicePrincipalId: SP,
        id,
        status: 'Quarantine',
        quarantine: { reason: 'EncounteredQuarantineException' },
      });
    }
    await restart({ resetScope: 'Escrows, QuarantineState' }, 'cleared after the secret rotation');
    expect(restarts()).toBe(1);
    expect(sim.state.getJob(SP, jobId)?.lastRestartScope).toEqual(['Escrows', 'QuarantineState']);
    door.received.length = 0;
    const error = await odataError(restart({ resetScope: 'Watermark' }, undefined, other));
    expect(error.responseStatusCode).toBe(409);
    expect(error.errorEscaped?.code).toBe('ApprovalRequired');
    expect(error.errorEscaped?.message).toMatch(/POST \/v1\/approvals\/[0-9a-f-]{36}\/approve/);
    expect(door.received).toHaveLength(1);
    expect(restarts(other)).toBe(0);
  });
});
