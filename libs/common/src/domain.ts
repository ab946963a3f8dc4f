/** Vocabulary shared by the API, the guard, the recovery and the persistence layer (DESIGN section 2). */

export const OBSERVED_STATUSES = [
  'notConfigured',
  'notRun',
  'active',
  'paused',
  'quarantine',
  'unknown',
] as const;
export type ObservedStatus = (typeof OBSERVED_STATUSES)[number];

export const OUTCOMES = [
  'started',
  'skipped',
  'dry_run',
  'rate_limited',
  'not_found',
  'denied',
  'forbidden',
  'rejected',
  'upstream_error',
  'unknown',
  'paused',
  'restarted',
  'awaiting_approval',
  'held',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What an attempt asked of Graph (DESIGN section 2c). Attempts recorded before 2c read as `start`. */
export const OPERATIONS = ['start', 'pause', 'restart'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const TRIGGERS = ['api', 'recovery', 'approval'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const ACTOR_TYPES = ['user', 'app', 'scheduler'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export interface Actor {
  type: ActorType;
  id: string;
  name: string | null;
}

/** The Attempt as the API returns it. */
export interface AttemptView {
  attemptId: string;
  createdAt: string;
  finishedAt: string | null;
  servicePrincipalId: string;
  jobId: string;
  trigger: Trigger;
  actor: Actor;
  outcome: Outcome | 'pending';
  observedStatus: ObservedStatus | null;
  quarantineReason: string | null;
  reason: string | null;
  dryRun: boolean;
  message: string | null;
  retryAfterSeconds: number | null;
  graphRequestIds: string[];
  durationMs: number | null;
  /** Dry runs: whether the start would have been sent (the message says why); null otherwise. */
  wouldStart: boolean | null;
  /** start, pause or restart. */
  operation: Operation;
  /** The approval this attempt ran under (trigger `approval`) or asked for (outcome `awaiting_approval`). */
  approvalId: string | null;
  /** The hold that refused it (outcome `held`) or that a pause placed. */
  holdId: string | null;
  /** Graph's reset scopes of a restart; empty otherwise. */
  resetScope: string[];
  /** Under an approval: the person who asked for the operation (the actor is the approver). */
  requestedBy: { id: string; name: string | null } | null;
}

export const RECOVERY_STATES = ['ok', 'recovering', 'backing_off', 'needs_attention', 'held'] as const;
export type RecoveryState = (typeof RECOVERY_STATES)[number];
