import type { JobSeed } from './state';

/** The simulator's demo tenant and app registration. Not secrets: they only open the simulator. */
export const DEMO_TENANT_ID = '0f3a6c1e-5b7d-4e2f-9a8c-1d2e3f4a5b6c';
export const DEMO_CLIENT_ID = '8e1b7c2d-3f4a-4b5c-8d6e-7f8091a2b3c4';
export const DEMO_CLIENT_SECRET = 'graph-simulator-demo-secret';

/** The enterprise application (service principal object id) that owns the demo jobs. */
export const DEMO_SERVICE_PRINCIPAL_ID = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';

/** Demo jobs, one per interesting state. Ids follow Graph's `{templateId}.{32 hex}` shape. */
export const DEMO_JOBS = {
  /** Paused: a guarded start starts it. */
  paused: 'scim.e4bbf44533ea4eabb17027f3a92e92aa',
  /** Paused, written camelCase (`paused`) by the simulator, to exercise case-insensitive parsing. */
  pausedCamelCase: 'scim.5f0e1d2c3b4a49887766554433221100',
  /** Active: a start would be harmful; the guard skips it. */
  active: 'SfSandboxOutDelta.1f58d1c9a2b34c5d8e6f70819a2b3c4d',
  /** NotRun: configured but its first cycle has not completed. */
  notRun: 'ServiceNowOutDelta.0c6e4b0e5d8f4a7b9c2d1e3f4a5b6c7d',
  /** Quarantine, EncounteredQuarantineException (bad credentials): recoverable once fixed. */
  quarantined: 'scim.7a1d2c3b4e5f46a7b8c9d0e1f2a3b4c5',
  /** Quarantine, TooManyDeletes: needs a person (Allow deletes). */
  quarantinedTooManyDeletes:
    'aWSSingleSignon.ff8bf889e03141ac8f7baedb059892ee.bfc8712e-0986-4d47-896b-6872713598c6',
  /** Quarantine, QuarantinedOnDemand: Microsoft put it there; needs a person. */
  quarantinedOnDemand: 'slackOutDelta.1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6',
} as const;

export function demoJobs(servicePrincipalId: string = DEMO_SERVICE_PRINCIPAL_ID): JobSeed[] {
  return [
    { servicePrincipalId, id: DEMO_JOBS.paused, status: 'Paused', emptyQuarantineObject: true },
    { servicePrincipalId, id: DEMO_JOBS.pausedCamelCase, status: 'Paused', statusCasing: 'camelCase' },
    { servicePrincipalId, id: DEMO_JOBS.active, status: 'Active' },
    { servicePrincipalId, id: DEMO_JOBS.notRun, status: 'NotRun' },
    {
      servicePrincipalId,
      id: DEMO_JOBS.quarantined,
      status: 'Quarantine',
      quarantine: {
        reason: 'EncounteredQuarantineException',
        seriesCount: 1,
        error: {
          code: 'SystemForCrossDomainIdentityManagementInvalidCredentials',
          message: 'Please provide a valid tenant URL for your application.',
          tenantActionable: true,
        },
      },
    },
    {
      servicePrincipalId,
      id: DEMO_JOBS.quarantinedTooManyDeletes,
      status: 'Quarantine',
      quarantine: { reason: 'TooManyDeletes', seriesCount: 1 },
    },
    {
      servicePrincipalId,
      id: DEMO_JOBS.quarantinedOnDemand,
      status: 'Quarantine',
      quarantine: { reason: 'QuarantinedOnDemand', seriesCount: 2 },
    },
  ];
}
