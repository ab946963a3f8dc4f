import { Inject, Injectable, Optional } from '@nestjs/common';
import { GraphClient, GraphError, type SyncJob } from '@app/graph';
import { type Caller, Role, hasRole } from '../auth/roles';
import { isAuditStoreFailure } from '../jobs/guard.errors';
import { JobsService } from '../jobs/jobs.service';
import { idProblem } from '../jobs/start-request';
import {
  type DoorAnswer,
  type DoorDecision,
  type DoorRequestIds,
  decisionAnswer,
  errorAnswer,
  readErrorAnswer,
} from './door-answers';
import { type BatchItem, parseBatch, runBatch } from './door-batch';
import { type DoorPrefix, type DoorRoute, matchDoorRoute, parseGraphRestartBody } from './door-routes';

/** What one call through the door carries, top-level or as a $batch item. */
export interface DoorCall {
  prefix: DoorPrefix;
  method: string;
  /** Relative to the version root: `/servicePrincipals/…` or `/$batch`. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  caller: Caller;
  /** Our request id (x-request-id), used for the attempt row and Graph's client-request-id. */
  requestId: string;
  /** The caller's client-request-id (echoed, as Graph does), else our request id. */
  clientRequestId: string;
  /** Origin of this service as the caller reached it, for `@odata.context`. */
  origin: string;
  /** false inside a $batch: a batch does not nest. */
  topLevel: boolean;
  /**
   * The `sjg-reason` header (Graph's restart body has no reason), or null when absent. Inside a $batch: the
   * item's own header, else the batch request's.
   */
  reason: string | null;
}

/** The reason recorded for a restart through the door when the caller sent no `sjg-reason` header. */
export const DOOR_RESTART_DEFAULT_REASON = 'Restart through the Graph-compatible door (no reason given)';

/** The request header that carries the reason of a restart through the door (Graph's body has none). */
export const REASON_HEADER = 'sjg-reason';

/**
 * Guarded pause and restart, provided by the job-control service (DESIGN section 2c) when it is present. The
 * door calls them through this port and answers their decisions like the start's; until a provider is bound,
 * `…/pause` and `…/restart` are refused as calls the guard does not serve (never a fake success).
 */
export interface DoorJobControl {
  pause(call: {
    servicePrincipalId: string;
    jobId: string;
    caller: Caller;
    requestId: string | null;
  }): Promise<DoorDecision>;
  /**
   * The guarded restart. `resetScope` holds Graph's scope names as sent (the service maps `ForceDeletes` and
   * refuses `None`, `ConnectorDataStore` and unknown names); `reason` is the `sjg-reason` header or null.
   */
  restart?(call: {
    servicePrincipalId: string;
    jobId: string;
    resetScope: string[];
    reason: string | null;
    caller: Caller;
    requestId: string | null;
  }): Promise<DoorDecision>;
}
export const DOOR_JOB_CONTROL = Symbol('DOOR_JOB_CONTROL');

const SUPPORTED =
  'The guard serves only GET servicePrincipals/{id}/synchronization/jobs, GET …/jobs/{jobId}, POST …/jobs/{jobId}/start, …/pause, …/restart and POST /$batch of those';

/** A job object as Graph writes it, for GraphClient implementations that give no raw JSON. */
function graphJobJson(job: SyncJob): Record<string, unknown> {
  return {
    id: job.id,
    templateId: job.templateId,
    schedule: job.schedule,
    status: {
      code: job.rawStatusCode,
      countSuccessiveCompleteFailures: job.countSuccessiveCompleteFailures,
      quarantine: job.quarantine,
      troubleshootingUrl: job.troubleshootingUrl,
    },
  };
}

function withoutContext(raw: unknown): Record<string, unknown> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return null;
  }
  const copy: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  delete copy['@odata.context'];
  return copy;
}

/**
 * The Graph-compatible door (DESIGN section 2b): Graph's paths and shapes over the same services as /v1.
 * Reads go to the GraphClient exactly as /v1's do; every start goes through JobsService, i.e. the one guard.
 */
@Injectable()
export class GraphDoorService {
  constructor(
    private readonly jobs: JobsService,
    private readonly graph: GraphClient,
    @Optional() @Inject(DOOR_JOB_CONTROL) private readonly control: DoorJobControl | null = null,
  ) {}

  async handle(call: DoorCall): Promise<DoorAnswer> {
    const ids: DoorRequestIds = {
      requestId: call.requestId,
      clientRequestId: call.clientRequestId,
      date: new Date(),
    };
    const route = matchDoorRoute(call.method, call.path);
    try {
      return await this.dispatch(route, call, ids);
    } catch (error) {
      if (isAuditStoreFailure(error)) {
        return errorAnswer('AuditStoreUnavailable', error.message, ids);
      }
      throw error;
    }
  }

  private async dispatch(route: DoorRoute, call: DoorCall, ids: DoorRequestIds): Promise<DoorAnswer> {
    switch (route.kind) {
      case 'list':
        return this.list(route.servicePrincipalId, call, ids);
      case 'get':
        return this.get(route.servicePrincipalId, route.jobId, call, ids);
      case 'start':
        return this.start(route.servicePrincipalId, route.jobId, call, ids);
      case 'pause':
      case 'restart':
        return this.pauseOrRestart(route.kind, route.servicePrincipalId, route.jobId, call, ids);
      case 'batch':
        return call.topLevel
          ? this.batch(call, ids)
          : errorAnswer('BadRequest', 'A $batch cannot contain another $batch', ids);
      case 'unsupported':
        return errorAnswer(
          'NotSupportedByGuard',
          `${call.method.toUpperCase()} ${call.path.split('?')[0] ?? ''} is not served by the guard and is not forwarded to Microsoft Graph. ${SUPPORTED}`,
          ids,
        );
    }
  }

  /** Reads take no query options through the guard (strict input): `$select` and friends are refused by name. */
  private queryProblem(call: DoorCall, ids: DoorRequestIds): DoorAnswer | null {
    const keys = Object.keys(call.query);
    if (keys.length === 0) {
      return null;
    }
    return errorAnswer(
      'BadRequest',
      `query parameter ${JSON.stringify(keys[0])} is not supported by the guard; it takes none on this path`,
      ids,
    );
  }

  private readRefusal(call: DoorCall, ids: DoorRequestIds): DoorAnswer | null {
    if (!hasRole(call.caller, Role.Read)) {
      return errorAnswer('Forbidden', `this operation needs the ${Role.Read} role`, ids);
    }
    return this.queryProblem(call, ids);
  }

  private context(call: DoorCall, servicePrincipalId: string): string {
    return `${call.origin}/${call.prefix}/$metadata#servicePrincipals('${servicePrincipalId}')/synchronization/jobs`;
  }

  /**
   * A read of Graph through the door: the Read role, no query parameters and valid ids first; Graph's own error
   * answers a failed read.
   */
  private async read(
    call: DoorCall,
    ids: DoorRequestIds,
    ref: { servicePrincipalId: string; jobId: string },
    answer: () => Promise<DoorAnswer>,
  ): Promise<DoorAnswer> {
    const refused = this.readRefusal(call, ids);
    if (refused) {
      return refused;
    }
    const problem = idProblem(ref.servicePrincipalId, ref.jobId);
    if (problem) {
      return errorAnswer('BadRequest', problem, ids);
    }
    try {
      return await answer();
    } catch (error) {
      if (error instanceof GraphError) {
        return readErrorAnswer(error, ids);
      }
      throw error;
    }
  }

  private list(servicePrincipalId: string, call: DoorCall, ids: DoorRequestIds): Promise<DoorAnswer> {
    // Only the service principal id is checked ('x' stands in for a valid job id).
    return this.read(call, ids, { servicePrincipalId, jobId: 'x' }, async () => {
      const r = await this.graph.listJobs(servicePrincipalId, { clientRequestId: call.requestId });
      const raw = Array.isArray(r.raw) ? (r.raw as unknown[]) : null;
      const value = raw ? raw.map((j) => withoutContext(j) ?? j) : r.value.map((j) => graphJobJson(j));
      return {
        status: 200,
        headers: {},
        body: { '@odata.context': this.context(call, servicePrincipalId), value },
      };
    });
  }

  private get(
    servicePrincipalId: string,
    jobId: string,
    call: DoorCall,
    ids: DoorRequestIds,
  ): Promise<DoorAnswer> {
    return this.read(call, ids, { servicePrincipalId, jobId }, async () => {
      const r = await this.graph.getJob({ servicePrincipalId, jobId }, { clientRequestId: call.requestId });
      const job = withoutContext(r.raw) ?? graphJobJson(r.value);
      return {
        status: 200,
        headers: {},
        body: { '@odata.context': `${this.context(call, servicePrincipalId)}/$entity`, ...job },
      };
    });
  }

  /** Graph's start takes no body; `{}` (what SDKs send for an empty POST) and an optional reason are accepted. */
  private async start(
    servicePrincipalId: string,
    jobId: string,
    call: DoorCall,
    ids: DoorRequestIds,
  ): Promise<DoorAnswer> {
    const body = call.body;
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'dryRun' in body) {
      return errorAnswer(
        'BadRequest',
        'dryRun is not part of Graph\'s start; use POST /v1/servicePrincipals/{spId}/synchronization/jobs/{jobId}/start with {"dryRun":true}',
        ids,
      );
    }
    const empty =
      body === undefined ||
      body === null ||
      (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
    const decision = await this.jobs.start({
      servicePrincipalId,
      jobId,
      body: empty ? undefined : body,
      query: call.query,
      caller: call.caller,
      requestId: call.requestId,
    });
    return decisionAnswer(decision, ids);
  }

  private async pauseOrRestart(
    operation: 'pause' | 'restart',
    servicePrincipalId: string,
    jobId: string,
    call: DoorCall,
    ids: DoorRequestIds,
  ): Promise<DoorAnswer> {
    if (this.control === null || (operation === 'restart' && !this.control.restart)) {
      return errorAnswer(
        'NotSupportedByGuard',
        `POST …/jobs/{jobId}/${operation} is not served by the guard yet and is not forwarded to Microsoft Graph. ${SUPPORTED}`,
        ids,
      );
    }
    const queryProblem = this.queryProblem(call, ids);
    if (queryProblem) {
      return queryProblem;
    }
    const common = { servicePrincipalId, jobId, caller: call.caller, requestId: call.requestId };
    if (operation === 'pause') {
      return decisionAnswer(await this.control.pause(common), ids);
    }
    const parsed = parseGraphRestartBody(call.body);
    if (!parsed.ok) {
      return errorAnswer('BadRequest', parsed.message, ids);
    }
    const restart = this.control.restart?.bind(this.control);
    if (!restart) {
      return errorAnswer(
        'NotSupportedByGuard',
        `POST …/jobs/{jobId}/restart is not served by the guard yet. ${SUPPORTED}`,
        ids,
      );
    }
    return decisionAnswer(
      await restart({ ...common, resetScope: parsed.resetScope, reason: call.reason }),
      ids,
    );
  }

  private async batch(call: DoorCall, ids: DoorRequestIds): Promise<DoorAnswer> {
    const queryProblem = this.queryProblem(call, ids);
    if (queryProblem) {
      return queryProblem;
    }
    const parsed = parseBatch(call.body);
    if (!parsed.ok) {
      return errorAnswer('BadRequest', parsed.message, ids);
    }
    const responses = await runBatch(
      parsed.items,
      (item) => this.batchItem(item, call),
      (item, dependency) =>
        errorAnswer(
          'FailedDependency',
          `Request ${JSON.stringify(item.id)} was not run: request ${JSON.stringify(dependency)} it depends on failed`,
          { ...ids, clientRequestId: item.headers['client-request-id'] ?? ids.clientRequestId },
        ),
    );
    return { status: 200, headers: {}, body: { responses } };
  }

  private batchItem(item: BatchItem, call: DoorCall): Promise<DoorAnswer> {
    const [path = '', search = ''] = item.url.split('?', 2);
    return this.handle({
      ...call,
      method: item.method,
      path,
      query: Object.fromEntries(new URLSearchParams(search)),
      body: item.body,
      clientRequestId: item.headers['client-request-id'] ?? call.clientRequestId,
      reason: item.headers[REASON_HEADER] ?? call.reason,
      topLevel: false,
    });
  }
}
