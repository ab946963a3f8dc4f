/** The simulator's job model: what a synchronization job holds, how it is seeded, and Graph's operations. */

export const SIM_STATUS_CODES = ['NotConfigured', 'NotRun', 'Active', 'Paused', 'Quarantine'] as const;
export type SimStatusCode = (typeof SIM_STATUS_CODES)[number];

/** How `status.code` is written on the wire. Graph writes PascalCase; the others test tolerant readers. */
export type StatusCasing = 'PascalCase' | 'camelCase' | 'lowercase' | 'UPPERCASE';

export interface SimSyncError {
  code: string;
  message: string;
  tenantActionable: boolean;
}

export interface SimQuarantine {
  reason: string;
  currentBegan: string;
  nextAttempt: string;
  seriesBegan: string;
  seriesCount: number;
  error: SimSyncError | null;
}

export interface SimJob {
  servicePrincipalId: string;
  id: string;
  templateId: string;
  status: SimStatusCode;
  statusCasing: StatusCasing;
  /** Written verbatim as `status.code` when set (e.g. an unknown future value). */
  rawStatusCode: string | null;
  /** Kept after a pause out of quarantine (stale), as Graph may do; cleared by start. */
  quarantine: SimQuarantine | null;
  /** Without a quarantine, write Graph's documented object of empty strings instead of null. */
  emptyQuarantineObject: boolean;
  /** After a start out of quarantine, fall back into quarantine after `afterMs` (the cause was not fixed). */
  relapse: { reason: string; afterMs: number } | null;
  relapseAt: number | null;
  /** The quarantine a start cleared: a relapse continues its series. */
  clearedQuarantine: SimQuarantine | null;
  scheduleState: 'Active' | 'Disabled' | 'Paused';
  interval: string;
  countSuccessiveCompleteFailures: number;
  lastExecution: { state: string; timeBegan: string; timeEnded: string; errorCode: string | null } | null;
  /** Graph's `status.escrowsPruned`: with `Paused`, the service's own pause waiting for the customer to clean up. */
  escrowsPruned: boolean;
  /** Objects in escrow (failed, retried later); cleared by a restart with Escrows or Full. */
  escrowCount: number;
  /** Deletes held back by the accidental-deletions threshold; pushed through by ForceDeletes. */
  stagedDeletes: number;
  /** Where the next incremental cycle resumes; null after a Watermark or Full reset (a full cycle runs). */
  watermark: string | null;
  /** The scopes of the last restart acted on, as parsed (null: never restarted). */
  lastRestartScope: RestartScope[] | null;
}

/** Graph's `synchronizationJobRestartScope` flags (CSDL member names). */
export const RESTART_SCOPES = [
  'None',
  'ConnectorDataStore',
  'Escrows',
  'Watermark',
  'QuarantineState',
  'Full',
  'ForceDeletes',
] as const;
export type RestartScope = (typeof RESTART_SCOPES)[number];

/** Input for seeding a job: everything but the id is optional. */
export interface JobSeed {
  servicePrincipalId?: string;
  id: string;
  templateId?: string;
  status?: SimStatusCode;
  statusCasing?: StatusCasing;
  rawStatusCode?: string | null;
  quarantine?: QuarantineSeed | null;
  emptyQuarantineObject?: boolean;
  relapse?: { reason: string; afterMs?: number } | null;
  scheduleState?: 'Active' | 'Disabled' | 'Paused';
  interval?: string;
  escrowsPruned?: boolean;
  escrowCount?: number;
  stagedDeletes?: number;
}

export interface QuarantineSeed {
  reason: string;
  seriesCount?: number;
  /** Defaults to now. */
  seriesBegan?: string;
  currentBegan?: string;
  /** Defaults to Entra ID's cadence after seriesBegan: 6 h, 12 h, 24 h, then daily (entraNextAttempt). */
  nextAttempt?: string;
  error?: SimSyncError | null;
}

export type SimOperation = 'list' | 'get' | 'start' | 'pause' | 'restart' | 'batch' | 'token';
